"""Every agent's membership, pause, device and call phase: the agents reducer (pure).

::

    agents = Agents(policy=PausePolicy.from_reasons(center.reasons.values()),
                    wrapup_ms={"labour": 10_000})
    agents.resync(status.events, now=clock_ms)          # on every (re)connect
    agents.expect("王芳", "pause", set_by=PauseSetBy.SUPERVISOR, actor="班长01", now=clock_ms)
    await ami.action("QueuePause", ...)                 # the command the expectation is for
    for event in events:
        for change in agents.apply(event):              # AgentChange: append to the journal
            journal.append(change); live.publish_agent(agents.view(change.agent))
    for change in agents.tick(clock_ms): ...            # about once a second: wrap-ups end

An agent is a queue MemberName. Membership and pause are per queue; the device state is the
member's StateInterface's; the phase comes from the Agent* events of the calls; the visible
status is derived by :func:`hotline.agents.status.status` from the four. Each change is one
:class:`~hotline.core.records.AgentChange` (kinds: login, logout, pause, unpause, device, ring,
ring_no_answer, ring_end, connect, complete, wrap_up_end), carrying the status after it.

Who paused: AMI does not say. A command the controller issues is announced first with
:meth:`Agents.expect`; the next matching event within ``expect_ms`` gets its ``set_by`` and
``actor``. Asterisk's own autopause (PausedReason ``Auto-Pause``) is SYSTEM; anything else
is unattributed (``set_by`` None).

As observed on Asterisk 22: QueueMemberPause/Status/Added/Removed carry ``MemberName`` and
``Interface``; QueueStatus's QueueMember says ``Name`` and ``Location`` instead. An unpause
carries the reason given to it, but QueueStatus then shows an empty PausedReason: the model
keeps the reason only while paused. A Local member without its own device state shows
Status 2 (INUSE) from AgentCalled on and InCall 0 in that event: the phase never comes from
the device state. When the caller hangs up during the ring no Agent* event ends it; the
caller's QueueCallerAbandon/Hangup does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from hotline.agents.model import AUTOPAUSE_REASON, AgentView, Expectation, Kind, Membership
from hotline.agents.status import DeviceState, PauseKind, PausePolicy, Phase, status
from hotline.ami.message import Message
from hotline.ami.timestamps import event_time
from hotline.core.records import BUSY_RING_MS, AgentChange, AgentStatus, PauseSetBy

__all__ = ["PBX_BACK", "PBX_LOST", "Agents", "diff"]

PBX_LOST = "pbx lost"
"""The note (and ring_end reason) of what ended because the call's PBX was lost."""
PBX_BACK = "pbx back"
"""The note of a talk that goes on because the PBX came back with the call."""


@dataclass(slots=True)
class _Agent:
    name: str
    members: dict[str, Membership] = field(default_factory=dict)
    device: DeviceState = DeviceState.UNKNOWN
    ringing: dict[str, None] = field(default_factory=dict)  # call ids, ordered
    talking: str | None = None  # call id; "" = a call we did not see start (resync)
    wrap_until: int | None = None
    status: AgentStatus = AgentStatus.LOGGED_OUT
    since: int = 0


class Agents:
    """The agents seen (in QueueStatus or events); logged-out ones stay, as LOGGED_OUT."""

    def __init__(
        self,
        *,
        policy: PausePolicy | None = None,
        wrapup_ms: Mapping[str, int] | None = None,
        expect_ms: int = 10_000,
    ) -> None:
        self.policy = policy or PausePolicy()
        self.wrapup_ms = dict(wrapup_ms or {})
        """Wrap-up after a call, per queue (queues.conf ``wrapuptime``); 0 or absent: none."""
        self.expect_ms = expect_ms
        self.now = 0
        """The last good event Timestamp (ms)."""
        self._agents: dict[str, _Agent] = {}
        self._calls: dict[str, set[str]] = {}  # call id -> agents ringing or talking it
        self._wraps: dict[str, int] = {}  # agent -> wrap-up end
        self._expected: list[Expectation] = []

    # -- reading -----------------------------------------------------------------------------

    def view(self, name: str) -> AgentView | None:
        agent = self._agents.get(name)
        return self._view(agent) if agent is not None else None

    def views(self) -> dict[str, AgentView]:
        return {name: self._view(a) for name, a in sorted(self._agents.items())}

    def _view(self, a: _Agent) -> AgentView:
        call = a.talking if a.talking is not None else next(iter(a.ringing), "")
        return AgentView(
            a.name,
            tuple(m for _, m in sorted(a.members.items())),
            a.device,
            self._phase(a),
            call,
            a.wrap_until,
            self._pause(a),
            a.status,
            a.since,
        )

    def _phase(self, a: _Agent) -> Phase:
        if a.talking is not None:
            return Phase.TALKING
        if a.ringing:
            return Phase.RINGING
        return Phase.WRAP_UP if a.wrap_until is not None else Phase.IDLE

    def _pause(self, a: _Agent) -> PauseKind:
        # paused means paused in every queue: unpaused anywhere, the agent still gets calls
        members = a.members.values()
        if not members or not all(m.paused for m in members):
            return PauseKind.NONE
        last = max(members, key=lambda m: m.since)
        return self.policy.kind(True, last.reason, last.set_by)

    # -- commands ----------------------------------------------------------------------------

    def expect(
        self,
        agent: str,
        kind: Kind,
        *,
        set_by: PauseSetBy,
        actor: str = "",
        queue: str = "",
        now: int,
    ) -> None:
        """Announce a command about to be sent, so its event is attributed to ``actor``.

        ``queue`` "" means every queue of the agent (QueuePause without Queue: one event per
        queue, all attributed within ``expect_ms``); a named queue matches one event.
        """
        live = [x for x in self._expected if x.until >= now]
        live.append(Expectation(agent, kind, queue, set_by, actor, now + self.expect_ms))
        self._expected = live

    def _attribute(self, agent: str, kind: Kind, queue: str, t: int) -> Expectation | None:
        live = [x for x in self._expected if x.until >= t]
        self._expected = live
        for x in live:
            if x.agent == agent and x.kind == kind and x.queue in ("", queue):
                if x.queue:  # one queue: one event; every queue: all within the window
                    live.remove(x)
                return x
        return None

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Message) -> list[AgentChange]:
        """Fold one AMI event in; return the journal entries of what changed."""
        handler = _EVENTS.get(event.name)
        if handler is None:
            return []
        t = self.now = event_time(event, self.now)
        out = self.tick(t) if self._wraps else []
        handler(self, event, t, out)
        return out

    def tick(self, now: int) -> list[AgentChange]:
        """End the wrap-ups due by ``now`` (call it about once a second)."""
        out: list[AgentChange] = []
        for name, until in list(self._wraps.items()):
            if until <= now:
                del self._wraps[name]
                agent = self._agents[name]
                agent.wrap_until = None
                out.append(self._change(agent, until, "wrap_up_end"))
        return out

    def _agent(self, name: str) -> _Agent:
        agent = self._agents.get(name)
        if agent is None:
            agent = self._agents[name] = _Agent(name)
        return agent

    def _change(
        self,
        a: _Agent,
        t: int,
        kind: str,
        *,
        queue: str = "",
        reason: str = "",
        call_id: str = "",
        set_by: PauseSetBy | None = None,
        actor: str = "",
        note: str = "",
    ) -> AgentChange:
        new = status(
            logged_in=bool(a.members),
            phase=self._phase(a),
            pause=self._pause(a),
            reachable=a.device.reachable,
        )
        if new is not a.status:
            a.status, a.since = new, t
        return AgentChange(t, a.name, kind, queue, reason, set_by, actor, call_id, new, note)

    def _member(self, e: Message, t: int, out: list[AgentChange], note: str = "") -> _Agent | None:
        """The agent of a Queue Member* event (or QueueStatus's QueueMember), its membership
        synced with it: login, pause/unpause, device change, each journaled."""
        name = e.get("MemberName") or e.get("Name")
        queue = e.get("Queue")
        if not name or not queue:
            return None
        a = self._agent(name)
        old = a.members.get(queue)
        paused = e.get("Paused") == "1"
        reason = (e.get("PausedReason") or "") if paused else ""
        since = t
        if e.name == "QueueMember":  # resync: Asterisk's own times, to the second
            since = 1000 * _int(e.get("LastPause" if paused else "LoginTime")) or t
        if old is None:
            x = self._attribute(name, "login", queue, t)
            set_by, actor = (x.set_by, x.actor) if x else (None, "")
            a.members[queue] = Membership(
                queue,
                e.get("Interface") or e.get("Location") or "",
                e.get("StateInterface") or "",
                paused,
                reason,
                since,
                set_by if paused else None,
                actor if paused else "",
                _int(e.get("Wrapuptime")),
            )
            a.device = DeviceState.parse(e.get("Status"))  # told with the login
            out.append(
                self._change(
                    a, t, "login", queue=queue, reason=reason, set_by=set_by, actor=actor, note=note
                )
            )
        elif (old.paused, old.reason) != (paused, reason):
            kind: Kind = "pause" if paused else "unpause"
            x = self._attribute(name, kind, queue, t)
            set_by = x.set_by if x else (PauseSetBy.SYSTEM if reason == AUTOPAUSE_REASON else None)
            actor = x.actor if x else ""
            a.members[queue] = replace(
                old, paused=paused, reason=reason, since=since, set_by=set_by, actor=actor
            )
            # an unpause's own reason ("回来了") goes to the journal, not the model
            said = e.get("PausedReason") or ""
            out.append(
                self._change(
                    a, t, kind, queue=queue, reason=said, set_by=set_by, actor=actor, note=note
                )
            )
        device = DeviceState.parse(e.get("Status"))
        if device is not a.device:
            a.device = device
            out.append(self._change(a, t, "device", queue=queue, reason=device.name, note=note))
        return a

    def _member_event(self, e: Message, t: int, out: list[AgentChange]) -> None:
        self._member(e, t, out)

    def _removed(self, e: Message, t: int, out: list[AgentChange]) -> None:
        name, queue = e.get("MemberName"), e.get("Queue") or ""
        a = self._agents.get(name or "")
        if a is None or queue not in a.members:
            return
        del a.members[queue]
        x = self._attribute(a.name, "logout", queue, t)
        out.append(
            self._change(
                a,
                t,
                "logout",
                queue=queue,
                set_by=x.set_by if x else None,
                actor=x.actor if x else "",
            )
        )

    def _called(self, e: Message, t: int, out: list[AgentChange]) -> None:
        a, call = self._agent_of(e)
        if a is None or call in a.ringing or a.talking == call:
            return
        a.ringing[call] = None
        self._calls.setdefault(call, set()).add(a.name)
        out.append(self._change(a, t, "ring", queue=e.get("Queue") or "", call_id=call))

    def _agent_of(self, e: Message) -> tuple[_Agent | None, str]:
        # the caller's Uniqueid and the member; an unknown member is not made a member here
        # (Agent* events say nothing of pause or device): the next resync adds it
        call, name = e.get("Uniqueid") or "", e.get("MemberName") or ""
        if not call or not name:
            return None, call
        return self._agent(name), call

    def _no_answer(self, e: Message, t: int, out: list[AgentChange]) -> None:
        """A ring she let go (``ring_no_answer``, its RingTime in ms as the reason); a ring
        refused at once (under :data:`BUSY_RING_MS`: her phone, or Kamailio while she talks
        on another PBX, said busy) is a ``ring_end`` "busy": she had no ring to answer."""
        a, call = self._agent_of(e)
        if a is None or call not in a.ringing:
            return
        self._unring(a, call)
        queue, rang = e.get("Queue") or "", e.get("RingTime") or ""
        if rang.isdigit() and int(rang) < BUSY_RING_MS:
            out.append(self._change(a, t, "ring_end", queue=queue, reason="busy", call_id=call))
            return
        out.append(self._change(a, t, "ring_no_answer", queue=queue, reason=rang, call_id=call))

    def _unring(self, a: _Agent, call: str) -> None:
        del a.ringing[call]
        if a.talking != call:
            self._forget(call, a.name)

    def _forget(self, call: str, name: str) -> None:
        agents = self._calls.get(call)
        if agents is not None:
            agents.discard(name)
            if not agents:
                del self._calls[call]

    def _connect(self, e: Message, t: int, out: list[AgentChange]) -> None:
        a, call = self._agent_of(e)
        if a is None or a.talking == call:
            return
        a.ringing.pop(call, None)
        if a.talking is not None:  # a Connect for another call while talking: that one is over
            self._forget(a.talking, a.name)
        a.talking = call
        a.wrap_until = None
        self._wraps.pop(a.name, None)
        self._calls.setdefault(call, set()).add(a.name)
        out.append(self._change(a, t, "connect", queue=e.get("Queue") or "", call_id=call))
        self._end_rings(call, t, out, f"answered by {a.name}")

    def _end_rings(self, call: str, t: int, out: list[AgentChange], why: str) -> None:
        for name in sorted(self._calls.get(call, ())):
            other = self._agents[name]
            if call in other.ringing:
                self._unring(other, call)
                out.append(self._change(other, t, "ring_end", call_id=call, reason=why))

    def _complete(self, e: Message, t: int, out: list[AgentChange]) -> None:
        a, call = self._agent_of(e)
        if a is None or a.talking is None or a.talking not in (call, ""):
            return
        member = a.members.get(e.get("Queue") or "")
        wrap = member.wrapuptime * 1000 if member and member.wrapuptime else 0
        queue = e.get("Queue") or ""
        wrap = wrap or self.wrapup_ms.get(queue, 0)
        self._end_talk(a, call, t, out, wrap, queue=queue, reason=e.get("Reason") or "")

    def _end_talk(
        self,
        a: _Agent,
        call: str,
        t: int,
        out: list[AgentChange],
        wrap: int,
        *,
        queue: str = "",
        reason: str = "",
        note: str = "",
    ) -> None:
        a.talking = None
        self._forget(call, a.name)
        if wrap > 0:
            a.wrap_until = self._wraps[a.name] = t + wrap
        out.append(
            self._change(a, t, "complete", queue=queue, call_id=call, reason=reason, note=note)
        )

    def _caller_gone(self, e: Message, t: int, out: list[AgentChange]) -> None:
        call = e.get("Uniqueid") or ""
        if call not in self._calls:
            return
        self._end_rings(call, t, out, "caller left" if e.name == "Hangup" else "abandon")
        if e.name == "Hangup":  # AgentComplete always came first on Asterisk 22: missed
            for name in sorted(self._calls.get(call, ())):
                self._end_talk(self._agents[name], call, t, out, 0, note="hangup")

    # -- a lost PBX ----------------------------------------------------------------------------

    def calls_lost(self, calls: Iterable[str], *, now: int) -> list[AgentChange]:
        """The PBX of ``calls`` was lost (:meth:`hotline.calls.state.Calls.lost`): their
        rings end and their talks end (no wrap-up), noted ``pbx lost``."""
        self.now = max(self.now, now)
        out: list[AgentChange] = []
        for call in calls:
            self._end_rings(call, now, out, PBX_LOST)
            for name in sorted(self._calls.get(call, ())):
                agent = self._agents[name]
                if agent.talking == call:
                    self._end_talk(agent, call, now, out, 0, note=PBX_LOST)
        return out

    def resume(self, name: str, call: str, *, now: int) -> list[AgentChange]:
        """Her call, closed with its lost PBX, goes on (the PBX came back with it): she
        talks again, unless she talks on another call now."""
        agent = self._agents.get(name)
        if agent is None or agent.talking is not None:
            return []
        self.now = max(self.now, now)
        agent.ringing.pop(call, None)
        agent.talking, agent.wrap_until = call, None
        self._wraps.pop(name, None)
        self._calls.setdefault(call, set()).add(name)
        return [self._change(agent, now, "connect", call_id=call, note=PBX_BACK)]

    # -- resync ------------------------------------------------------------------------------

    def resync(
        self, queue_status: Iterable[Message], *, now: int, calls: Iterable[str] | None = None
    ) -> list[AgentChange]:
        """Make the model Asterisk's view (QueueStatus's QueueMember items); journal the fixes.

        Members Asterisk has and we do not appear (login), ours it lacks go (logout), pause
        and device differences are taken over; each such entry has ``note="resync"``. InCall
        says who talks. ``calls``: the calls alive now (Uniqueids), if known: rings and talks
        of other calls end.
        """
        self.now = max(self.now, now)
        out: list[AgentChange] = []
        seen: set[tuple[str, str]] = set()
        in_call: set[str] = set()
        for e in queue_status:
            if e.name != "QueueMember":
                continue
            a = self._member(e, now, out, note="resync")
            if a is not None:
                seen.add((a.name, e.get("Queue") or ""))
                if e.get("InCall") == "1":
                    in_call.add(a.name)
        alive = set(calls) if calls is not None else None
        for a in list(self._agents.values()):
            for queue in [q for q in a.members if (a.name, q) not in seen]:
                del a.members[queue]
                out.append(self._change(a, now, "logout", queue=queue, note="resync"))
            for call in [c for c in a.ringing if alive is not None and c not in alive]:
                self._unring(a, call)
                out.append(self._change(a, now, "ring_end", call_id=call, note="resync"))
            if a.name in in_call and a.talking is None:
                a.talking, a.wrap_until = "", None
                out.append(self._change(a, now, "connect", note="resync"))
            elif a.talking is not None and (
                a.name not in in_call or (alive is not None and a.talking not in alive)
            ):
                self._end_talk(a, a.talking, now, out, 0, note="resync")
        return out

    @classmethod
    def from_status(
        cls,
        queue_status: Iterable[Message],
        *,
        now: int,
        policy: PausePolicy | None = None,
        wrapup_ms: Mapping[str, int] | None = None,
    ) -> Agents:
        """A model of Asterisk's view alone (to compare with :func:`diff`)."""
        model = cls(policy=policy, wrapup_ms=wrapup_ms)
        model.resync(queue_status, now=now)
        return model


def diff(ours: Agents, theirs: Agents, *, calls: bool = True) -> list[str]:
    """What differs: membership (queue, interface), pause and reason, and (``calls``) who
    talks. Empty means equal. Agents without any membership on either side are skipped."""
    problems = []
    a, b = ours.views(), theirs.views()
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        ma = {m.queue: (m.interface, m.paused, m.reason) for m in va.memberships} if va else {}
        mb = {m.queue: (m.interface, m.paused, m.reason) for m in vb.memberships} if vb else {}
        if ma != mb:
            problems.append(f"{name}: memberships {ma} != {mb}")
        ta = va is not None and va.phase is Phase.TALKING
        tb = vb is not None and vb.phase is Phase.TALKING
        if calls and ta != tb:
            problems.append(f"{name}: talking {ta} != {tb}")
    return problems


def _int(value: str | None) -> int:
    return int(value) if value and value.isdecimal() else 0


_EVENTS = {
    "QueueMemberAdded": Agents._member_event,
    "QueueMemberPause": Agents._member_event,
    "QueueMemberStatus": Agents._member_event,
    "QueueMemberPenalty": Agents._member_event,
    "QueueMemberRinginuse": Agents._member_event,
    "QueueMemberRemoved": Agents._removed,
    "AgentCalled": Agents._called,
    "AgentRingNoAnswer": Agents._no_answer,
    "AgentConnect": Agents._connect,
    "AgentComplete": Agents._complete,
    "QueueCallerAbandon": Agents._caller_gone,
    "Hangup": Agents._caller_gone,
}
