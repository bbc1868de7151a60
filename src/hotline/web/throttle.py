"""Login throttling (pure; time is a parameter).

    throttle = Throttle()
    wait = max(throttle.wait_ms(key, now) for key in login_keys(name, addr))
    if wait: refuse ("try again in N s")
    ... on a wrong password: throttle.failed(key, now); on success: throttle.cleared(key)

Each key (a user name, a client address) may fail ``free`` times per ``window_ms``; the
``free``-th failure locks it for ``first_lock_ms``, each further one for twice as long as
the one before, up to ``max_ms``. A locked
key is refused without checking the password, so guessing costs time, not CPU.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Record:
    failures: list[int] = field(default_factory=list)
    locked_until: int = 0


@dataclass
class Throttle:
    free: int = 5
    window_ms: int = 15 * 60_000
    first_lock_ms: int = 30_000
    max_ms: int = 15 * 60_000
    _keys: dict[Hashable, _Record] = field(default_factory=dict)

    def wait_ms(self, key: Hashable, now: int) -> int:
        """How long ``key`` must wait before its next try (0: it may try now)."""
        rec = self._keys.get(key)
        return max(0, rec.locked_until - now) if rec else 0

    def failed(self, key: Hashable, now: int) -> None:
        rec = self._keys.setdefault(key, _Record())
        rec.failures = [t for t in rec.failures if now - t < self.window_ms] + [now]
        over = len(rec.failures) - self.free + 1
        if over > 0:
            rec.locked_until = now + min(self.max_ms, self.first_lock_ms * 2 ** (over - 1))
        if len(self._keys) > 100_000:  # a flood of names: forget the quiet ones
            for k in [k for k, r in self._keys.items() if r.locked_until < now][:50_000]:
                del self._keys[k]

    def cleared(self, key: Hashable) -> None:
        self._keys.pop(key, None)

    def lock_ms(self, failures: int) -> int:
        """How long a key with FAILURES in the window (this one included) is locked."""
        over = failures - self.free + 1
        return min(self.max_ms, self.first_lock_ms * 2 ** (over - 1)) if over > 0 else 0


def login_keys(username: str, address: str) -> list[tuple[str, str]]:
    """What a login attempt counts against: the name from this address, and the address.

    Not the name alone: failures from anywhere would lock its owner out everywhere (anyone
    could lock the supervisors out); the right password from a new address still works.
    """
    return [("pair", f"{username}|{address}"), ("ip", address)]
