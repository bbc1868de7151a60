"""Cross-PBX holds: while one PBX rings or connects an agent, the others must not ring her.

A centre on several PBXs has its queues on every PBX and each agent a member on each
(docs/architecture.md, "Scale-out", choice C). app_queue only knows its own calls, so while
PBX A rings or connects an agent the controller pauses that member on every other PBX with
the reason ``hotline:held:A`` (a *hold*), and lifts the hold when A's ring fails or A's call
and its wrap-up end. This module decides; the controller sends the ``QueuePause`` actions::

    holds = Holds(["pbx1", "pbx2"])
    for effect in holds.apply("pbx1", event, now):     # every AMI event of every PBX
        ...                                            # Hold / Lift: a QueuePause to send
    holds.tick(now)                                    # wrap-ups that ended
    holds.link_down("pbx2", now)                       # its engagements and holds are gone
    holds.is_hold_event("pbx2", event)                 # keep holds out of pause time

The wire facts it relies on (Asterisk 22, app_queue):

- ``AgentCalled`` names the member (``Interface``, ``MemberName``) and the agent's channel
  (``DestUniqueid``); ``AgentRingNoAnswer`` ends that ring; a ring the caller ended (an
  abandon, another member answered) ends with the agent channel's ``Hangup``.
- ``AgentConnect`` bridges it; ``AgentComplete`` (or the agent channel's ``Hangup``,
  whichever comes first) ends the talk, then the member's ``Wrapuptime`` (seconds, on every
  ``QueueMember*`` event) runs before A offers her a call again.
- ``QueuePause`` without ``Queue`` pauses the interface in every queue of that PBX;
  ``QueueMemberPause`` then reports ``Paused`` and ``PausedReason`` per queue.

An agent who is paused on B by her own choice is not held there, and a hold is lifted only
where the member's pause is still the hold: her own pause, set meanwhile on every PBX, is
kept. Pure: ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.ami.message import Message

HOLD_PREFIX = "hotline:held:"
"""A hold's pause reason is this and the name of the PBX that rings or connects her."""


BUSY_STATUS = frozenset({"2", "3", "6", "7"})
"""QueueMember ``Status`` (AST_DEVICE_*): in use, busy, ringing, ringing and in use."""
MEMBER_KEY = "member:"
"""An engagement found at a resync is keyed by its member, not by a channel."""


def hold_reason(pbx: str) -> str:
    return f"{HOLD_PREFIX}{pbx}"


def is_hold_reason(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(HOLD_PREFIX)


@dataclass(frozen=True, slots=True)
class Hold:
    """Pause ``interface`` on ``pbx`` (every queue) because ``by`` rings or connects her."""

    pbx: str
    interface: str
    agent: str
    by: str

    @property
    def reason(self) -> str:
        return hold_reason(self.by)


@dataclass(frozen=True, slots=True)
class Lift:
    """Unpause ``interface`` on ``pbx``: nothing holds her there any more."""

    pbx: str
    interface: str
    agent: str
    by: str


HoldEffect = Hold | Lift


@dataclass(slots=True)
class _Engagement:
    """One ring or call of an agent on one PBX (keyed by the agent channel's Uniqueid)."""

    pbx: str
    interface: str
    agent: str
    connected: bool = False
    wrap_until: int | None = None  # talk over: held until then (wrap-up)


@dataclass(slots=True)
class _Member:
    paused: bool = False
    reason: str = ""
    wrapup_ms: int = 0


@dataclass(slots=True)
class Holds:
    """Which agent is held on which PBX, from the events of every PBX."""

    pbxs: Iterable[str]
    _pbxs: tuple[str, ...] = field(init=False)
    _engaged: dict[tuple[str, str], _Engagement] = field(default_factory=dict, init=False)
    _members: dict[tuple[str, str], _Member] = field(default_factory=dict, init=False)
    _held: dict[tuple[str, str], Hold] = field(default_factory=dict, init=False)
    _down: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._pbxs = tuple(dict.fromkeys(self.pbxs))

    # -- reading -----------------------------------------------------------------------------

    def held(self) -> list[Hold]:
        """The holds in force (sent, not lifted)."""
        return list(self._held.values())

    def holds(self, pbx: str, interface: str) -> bool:
        """Whether a hold keeps ``interface`` paused on ``pbx`` now."""
        return (pbx, interface) in self._held

    def is_hold_event(self, pbx: str, event: Message) -> bool:
        """Whether ``event`` is a hold being put or lifted on ``pbx``: the agent's journal,
        pause time and the busy-abuse rules leave it out. Ask before :meth:`apply`."""
        if event.name != "QueueMemberPause":
            return False
        if is_hold_reason(event.get("PausedReason") or event.get("Reason")):
            return True
        member = self._members.get((pbx, event.get("Interface") or ""))
        # an unpause of a member whose pause was a hold: the hold being lifted
        return event.get("Paused") == "0" and member is not None and is_hold_reason(member.reason)

    # -- events ------------------------------------------------------------------------------

    def apply(self, pbx: str, event: Message, now: int) -> list[HoldEffect]:
        """Fold one event of ``pbx`` in; the holds to put and lift now."""
        name = event.name
        if name.startswith("QueueMember"):
            self._member(pbx, event)  # her own unpause on a PBX may call for a hold there
            return self._settle(now)
        if name == "AgentCalled":
            iface = event.get("Interface") or ""
            channel = event.get("DestUniqueid") or ""
            if not iface or not channel:
                return []
            self._engaged[(pbx, channel)] = _Engagement(
                pbx, iface, event.get("MemberName") or event.get("AgentName") or ""
            )
        elif name == "AgentConnect":
            found = self._engaged.get((pbx, event.get("DestUniqueid") or ""))
            if found is not None:
                found.connected = True
        elif name == "AgentRingNoAnswer":
            self._engaged.pop((pbx, event.get("DestUniqueid") or ""), None)
        elif name in ("AgentComplete", "Hangup"):
            key = (pbx, (event.get("DestUniqueid") if name == "AgentComplete" else None)
                   or event.get("Uniqueid") or "")  # fmt: skip
            found = self._engaged.get(key)
            if found is None:
                return []
            if found.connected:
                if found.wrap_until is None:
                    wrap = self._members.get((pbx, found.interface), _Member()).wrapup_ms
                    found.wrap_until = now + wrap
            else:
                del self._engaged[key]
        else:
            return []
        return self._settle(now)

    def tick(self, now: int) -> list[HoldEffect]:
        """Holds whose wrap-up has ended by ``now``."""
        return self._settle(now)

    def link_down(self, pbx: str, now: int) -> list[HoldEffect]:
        """``pbx`` is gone: what it rang or connected is over, and nothing is sent to it."""
        self._down.add(pbx)
        for key in [k for k in self._engaged if k[0] == pbx]:
            del self._engaged[key]
        for key in [k for k in self._held if k[0] == pbx]:
            del self._held[key]  # its members are gone with it; it re-adds them unpaused
        return self._settle(now)

    def link_up(self, pbx: str, members: Iterable[Message], now: int) -> list[HoldEffect]:
        """``pbx`` is (back) up; ``members``: its QueueStatus ``QueueMember`` entries."""
        self._down.discard(pbx)
        for key in [k for k in self._members if k[0] == pbx]:
            del self._members[key]
        for entry in members:
            if entry.name == "QueueMember":
                self._member(pbx, entry)
                iface = entry.get("Location") or ""
                busy = entry.get("InCall") == "1" or entry.get("Status") in BUSY_STATUS
                if iface and busy:
                    # rung or talking on this PBX as we (re)connect: her channel's id is not
                    # in QueueStatus, so the engagement ends when the member is free again
                    key = (pbx, f"{MEMBER_KEY}{iface}")
                    self._engaged[key] = _Engagement(pbx, iface, entry.get("Name") or "", True)
        # a hold found on a member after a restart of the controller: ours to manage
        for (where, iface), member in self._members.items():
            if where == pbx and member.paused and is_hold_reason(member.reason):
                by = member.reason[len(HOLD_PREFIX) :]
                self._held.setdefault((pbx, iface), Hold(pbx, iface, "", by))
        return self._settle(now)

    # -- the rule ----------------------------------------------------------------------------

    def _member(self, pbx: str, event: Message) -> None:
        iface = event.get("Interface") or event.get("Location") or ""
        if not iface:
            return
        member = self._members.setdefault((pbx, iface), _Member())
        if event.name == "QueueMemberRemoved":
            return
        paused = event.get("Paused")
        if paused is not None:
            member.paused = paused == "1"
            member.reason = (event.get("PausedReason") or event.get("Reason") or "") if (
                member.paused
            ) else ""  # fmt: skip
        wrap = event.get("Wrapuptime")
        if wrap and wrap.isdigit():
            member.wrapup_ms = int(wrap) * 1000
        if event.get("InCall") == "0" and event.get("Status") not in BUSY_STATUS:
            self._engaged.pop((pbx, f"{MEMBER_KEY}{iface}"), None)

    def _wanted(self, now: int) -> dict[tuple[str, str], Hold]:
        """Every (PBX, interface) that should be held now, and by which PBX."""
        wanted: dict[tuple[str, str], Hold] = {}
        for key, e in list(self._engaged.items()):
            if e.wrap_until is not None and e.wrap_until <= now:
                del self._engaged[key]
                continue
            for other in self._pbxs:
                if other == e.pbx or other in self._down:
                    continue
                wanted.setdefault((other, e.interface), Hold(other, e.interface, e.agent, e.pbx))
        return wanted

    def _settle(self, now: int) -> list[HoldEffect]:
        wanted = self._wanted(now)
        effects: list[HoldEffect] = []
        for key, hold in list(self._held.items()):
            if key in wanted:
                continue
            del self._held[key]
            member = self._members.get(key)
            if member is None or not member.paused or is_hold_reason(member.reason):
                effects.append(Lift(hold.pbx, hold.interface, hold.agent, hold.by))
            # else: she paused herself meanwhile (on every PBX): her pause stays
        for key, hold in wanted.items():
            if key in self._held:
                continue
            member = self._members.get(key)
            if member is not None and member.paused and not is_hold_reason(member.reason):
                continue  # paused by her own choice there: not rung anyway, nothing to lift
            self._held[key] = hold
            effects.append(hold)
        return effects
