"""When a PBX counts as lost: its AMI link down for ``HOTLINE_PBX_LOST_S`` (pure).

A PBX stopped in order says so (SoftHangupRequest Cause 4 on every channel, then
Shutdown: its calls end as PBX_DOWN). A PBX killed outright, frozen, or cut off by the
network says nothing: the controller's Ping goes unanswered and the link drops
(:func:`hotline.ami.client.frozen`), and then nothing more comes. A link that comes back
within a few seconds is a reconnect (its resync settles the calls); one that stays down
is a lost PBX, whose calls the controller closes (:meth:`hotline.calls.state.Calls.lost`)
rather than keep them open for as long as it stays away, forever if it never returns::

    watch = LinkWatch(lost_ms=60_000)
    for pbx, client in links:                     # about once a second
        lost = watch.observe(pbx, client.connected, heard_at=..., down_at=..., now=now)
        if lost is not None:
            calls.lost(namespace.owns, at=lost.heard_at)

``heard_at`` is the last moment anything came from the PBX (an event or a Ping reply), as
the controller's clock in ms; ``down_at`` when the link dropped. A PBX is lost once per
outage, and only a PBX seen up (a controller started while a PBX is away has none of its
calls). Times are parameters: nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LOST_S", "LinkWatch", "Lost"]

DEFAULT_LOST_S = 60.0
"""``HOTLINE_PBX_LOST_S`` unset: a minute, some ten times what a reconnect takes (the
Ping's detection, at most ``ping_interval + ping_timeout`` = 8 s, and a login)."""


@dataclass(frozen=True, slots=True)
class Lost:
    """``pbx`` is lost: last heard at ``heard_at``, its link down since ``down_at`` (ms)."""

    pbx: str
    heard_at: int
    down_at: int
    now: int

    @property
    def silent_ms(self) -> int:
        """From the last word of the PBX to the decision: how far the presumed end of its
        calls may be from their true one, at least (they may have gone on longer)."""
        return self.now - self.heard_at


@dataclass(slots=True)
class _Outage:
    heard_at: int
    down_at: int
    lost: bool = False


class LinkWatch:
    """Each PBX's link: up, down since when, lost (``lost_ms`` after it went down)."""

    def __init__(self, lost_ms: int) -> None:
        if lost_ms <= 0:
            raise ValueError(f"lost_ms={lost_ms}: a PBX is lost after a positive time")
        self.lost_ms = lost_ms
        self._seen_up: set[str] = set()
        self._down: dict[str, _Outage] = {}

    def observe(self, pbx: str, up: bool, *, heard_at: int, down_at: int, now: int) -> Lost | None:
        """The link of ``pbx`` now; a :class:`Lost` the first time it has been down for
        ``lost_ms``. ``heard_at`` and ``down_at`` are read when the outage is first seen
        and kept for it (later attempts to reconnect change neither)."""
        if up:
            self._seen_up.add(pbx)
            self._down.pop(pbx, None)
            return None
        if pbx not in self._seen_up:
            return None
        outage = self._down.get(pbx)
        if outage is None:
            down = min(down_at, now)
            outage = self._down[pbx] = _Outage(min(heard_at, down), down)
        if outage.lost or now - outage.down_at < self.lost_ms:
            return None
        outage.lost = True
        return Lost(pbx, outage.heard_at, outage.down_at, now)

    def lost(self, pbx: str) -> bool:
        """Whether ``pbx`` is lost now (down for ``lost_ms``, not back since)."""
        outage = self._down.get(pbx)
        return outage is not None and outage.lost
