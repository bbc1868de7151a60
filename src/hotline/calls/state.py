"""Follow every citizen's call from AMI events: the calls reducer (pure).

Feed it every event in the order Asterisk sent it; each change comes back as an effect::

    calls = Calls()
    for event in events:                      # hotline.ami.Message, in stream order
        for effect in calls.apply(event):
            if isinstance(effect, (CallEnded, CallAmended)):
                history.save(effect.record)   # final CallRecord (end_reason set), or its
                                              # completion by a late event (upsert)
            else:
                live.publish(effect.record)   # CallUpdated: the call in progress
    ...
    calls.resync(channels, queue_status, now=clock_ms)   # after every (re)connect

A call is the caller channel that ran our IVR (the Uniqueid of its UserEvents; with Local
channels the ``;2`` half) or, for a call that never ran it, the channel that joined a queue.
Its clock is the events' ``Timestamp`` (ms); an event without one (or with garbage) takes
the last good time. Other channels (the ``;1`` half, agents' legs) are never calls: they
appear only as DestUniqueid in Agent* events or as Hangups of unknown ids, ignored.

What Asterisk 22 sent in the recorded scenarios (tests/fixtures/ami/scenarios):

- answered: QueueCallerJoin → AgentCalled → QueueCallerLeave → AgentConnect → BridgeEnter;
  the agent's leg hangs up before AgentComplete (Reason agent); then HotlineSurvey, Hangup;
- the caller's hang-up: HangupRequest on the caller channel, then AgentComplete (Reason
  caller) or QueueCallerAbandon → QueueCallerLeave, then its Hangup; under load (SIP
  callers, 200 calls) the Hangup may come before the AgentComplete, which app_queue
  publishes from its own stasis subscription: the late AgentComplete of an answered call
  that ended without one completes its record (CallAmended);
- a queue timeout: QueueCallerAbandon (no HangupRequest before it) → QueueCallerLeave →
  HotlineQueueExit Status TIMEOUT; so QueueCallerAbandon alone never means an abandon;
- JOINEMPTY: no QueueCaller* event at all, only HotlineQueueExit Status JOINEMPTY;
- ringing when the caller hangs up: no Agent* event ends the ring (queue_log: RINGCANCELED).
- Asterisk stopping (SIGTERM, ``core stop``/``restart``): first SoftHangupRequest Cause 4
  (AST_SOFTHANGUP_SHUTDOWN) on every channel, then the usual hang-up events (AgentComplete
  Reason caller, QueueCallerAbandon: queue_log writes COMPLETECALLER and ABANDON as for any
  call), then Shutdown. Such a call ends as PBX_DOWN. A PBX killed outright sends nothing:
  the resync after it finds a new CoreStartupTime and the calls gone (``pbx_restarted``).
- A PBX lost (its host gone, frozen, its network cut) sends nothing either, and may never
  come back: once its AMI link has been down long enough (``HOTLINE_PBX_LOST_S``) the
  controller calls :meth:`Calls.lost`, which closes its calls as PBX_LOST at the moment
  the PBX was last heard (:class:`CallLost`). If it comes back with a call (an event of
  that call, or the call's channel at the resync), the call is reopened as it was
  (:class:`CallResumed`) and its final CallEnded replaces the record, under the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from hotline.ami.message import Message
from hotline.ami.timestamps import event_time
from hotline.core.records import CallRecord, EndReason, QueueVisit, Ring
from hotline.ivr.asterisk import (
    CALLBACK,
    ENTRY,
    HOURS,
    NOTICE,
    STEP,
    SURVEY,
    menu_context,
    queue_context,
)

__all__ = [
    "GONE_AT_RESYNC",
    "LOST_NOTE",
    "REOPENED_NOTE",
    "CallAmended",
    "CallEnded",
    "CallLost",
    "CallResumed",
    "CallUpdated",
    "Calls",
    "Effect",
    "Unsettled",
]

GONE_AT_RESYNC = "channel gone at resync"
SOFTHANGUP_SHUTDOWN = "4"  # SoftHangupRequest Cause: AST_SOFTHANGUP_SHUTDOWN (1 << 2)


@dataclass(frozen=True, slots=True)
class CallUpdated:
    """A call in progress changed: publish ``record`` to the live store."""

    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over: ``record`` is final (``end_reason`` set). No CallUpdated follows."""

    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallAmended:
    """An ended call's final record, completed by an event that came after its Hangup (an
    AgentComplete): ``record`` replaces the one its CallEnded carried."""

    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallLost:
    """The call's PBX was lost (:meth:`Calls.lost`): ``record`` is closed as PBX_LOST, its
    end presumed when the PBX was last heard. Store it and take the call off the live store,
    but leave its legs alone: the PBX may still be writing them (a frozen or cut-off PBX),
    and a call it comes back with is reopened (:class:`CallResumed`) and ends again, same id.
    """

    record: CallRecord


@dataclass(frozen=True, slots=True)
class CallResumed(CallUpdated):
    """A call closed as PBX_LOST that its PBX came back with: in progress again (publish it
    as any CallUpdated; its agent, if she was talking, talks again)."""


Effect = CallUpdated | CallEnded | CallAmended | CallLost
LATE_COMPLETE = "AgentComplete came after the hang-up"
LOST_NOTE = "its PBX was lost (AMI link down, no word of the end): end presumed when last heard"
REOPENED_NOTE = "closed as pbx_lost, reopened: the PBX came back with the call"
TRANSFER = "transfer"
"""AgentComplete's Reason when the agent transferred the caller (BlindTransfer,
AttendedTransfer): the call goes on with the next agent, the same call."""


@dataclass(slots=True)
class _Call:
    """The working state of one call; :meth:`record` freezes it."""

    call_id: str
    linkedid: str = ""
    caller: str = ""
    caller_name: str = ""
    line: str = ""
    t_arrival: int | None = None
    t_request: int | None = None
    ivr_path: str = ""
    tag: str = ""
    visits: list[QueueVisit] = field(default_factory=list)
    rings: list[Ring] = field(default_factory=list)
    t_answer: int | None = None
    agent: str = ""
    talk_end: int | None = None
    completed_by: str = ""
    survey_score: int | None = None
    callback_number: str = ""
    recording: str = ""
    notes: list[str] = field(default_factory=list)
    closed: bool = False  # out of hours (HotlineIvr Digit: closed)
    hangup_requested: bool = False  # HangupRequest/SoftHangupRequest seen: the caller is going
    pbx_down: bool = False  # hung up by Asterisk shutting down
    ringing_at_abandon: bool = False
    twilio_sid: str = ""

    def record(self, t_end: int | None = None, reason: EndReason | None = None) -> CallRecord:
        return CallRecord(
            call_id=self.call_id,
            linkedid=self.linkedid,
            caller=self.caller,
            caller_name=self.caller_name,
            line=self.line,
            t_arrival=self.t_arrival,
            t_request=self.t_request,
            ivr_path=self.ivr_path,
            tag=self.tag,
            visits=tuple(self.visits),
            rings=tuple(self.rings),
            t_answer=self.t_answer,
            agent=self.agent,
            talk_end=self.talk_end,
            completed_by=self.completed_by,
            t_end=t_end,
            end_reason=reason,
            survey_score=self.survey_score,
            twilio_sid=self.twilio_sid,
            callback_number=self.callback_number,
            recording=self.recording,
            notes=tuple(self.notes),
        )

    def open_visit(self, queue: str) -> int:
        """Index of the last visit to ``queue`` not yet left, else -1."""
        visits = self.visits
        for i in range(len(visits) - 1, -1, -1):
            if visits[i].queue == queue and visits[i].t_leave is None:
                return i
        return -1

    def last_visit(self, queue: str) -> int:
        visits = self.visits
        for i in range(len(visits) - 1, -1, -1):
            if visits[i].queue == queue:
                return i
        return -1

    def close_rings(self, t: int, answered_by: str = "") -> bool:
        changed = False
        for i, ring in enumerate(self.rings):
            if ring.t_end is None:
                self.rings[i] = replace(ring, t_end=t, answered=ring.agent == answered_by)
                changed = True
        return changed


_Handler = Callable[["Calls", _Call, Message, int], bool]


class Calls:
    """Every call in progress, keyed by call_id (the caller channel's Uniqueid).

    ``keep_ended`` bounds the memory of ended call ids, kept so that late or duplicated
    events of a finished call are ignored instead of starting a new one.
    """

    def __init__(self, *, keep_ended: int = 4096) -> None:
        self.now = 0
        """The last good event Timestamp (ms): the reducer's clock."""
        self._active: dict[str, _Call] = {}
        self._ended: dict[str, None] = {}
        self._keep_ended = keep_ended
        # answered calls that ended with no AgentComplete yet: it may still come (see apply)
        self._unfinished: dict[str, CallRecord] = {}
        # calls closed with their lost PBX, as they were then: reopened if it comes back
        self._lost: dict[str, _Call] = {}

    # -- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._active)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._active

    def get(self, call_id: str) -> CallRecord | None:
        """The call in progress as a record (end_reason None), or None."""
        call = self._active.get(call_id)
        return call.record() if call is not None else None

    def records(self) -> list[CallRecord]:
        """Every call in progress, in order of arrival."""
        return [call.record() for call in self._active.values()]

    def is_lost(self, call_id: str) -> bool:
        """Whether the call was closed with its lost PBX, which has not come back since."""
        return call_id in self._lost

    @property
    def unsettled(self) -> Unsettled:
        """The calls in progress and those closed with a lost PBX (``in``): their files may
        still be written (the recordings sweep keeps off them)."""
        return Unsettled(self)

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Message) -> list[Effect]:
        """Fold one AMI event in; return the effects (empty if nothing changed)."""
        name = event.name
        if name == "UserEvent":
            handler = _USER_EVENTS.get(event.get("UserEvent") or "")
        else:
            handler = _EVENTS.get(name)
        if handler is None:
            return []
        uid = event.get("Uniqueid")
        if not uid:
            return []
        resumed = uid in self._lost and self._reopen(uid)
        if uid in self._ended:
            # app_queue publishes AgentComplete from its own stasis subscription, the
            # channel its Hangup: under load (200 calls) the Hangup of a caller who hung
            # up can reach AMI first. The late event completes the record it ended with.
            if name == "AgentComplete" and uid in self._unfinished:
                self.now = event_time(event, self.now)
                return [self._late_complete(self._unfinished.pop(uid), event, self.now)]
            return []
        t = self.now = event_time(event, self.now)
        call = self._active.get(uid)
        created = call is None
        if call is None:
            if name == "Hangup" or name.endswith("HangupRequest") or handler is _transfer:
                return []  # the ;1 half, agents' legs, anything not a call
            call = self._start(uid, event, t, name)
        if name == "Hangup":
            return [self._end(call, t)]
        if handler(self, call, event, t) or created or resumed:
            return [CallResumed(call.record()) if resumed else CallUpdated(call.record())]
        return []

    def _start(self, uid: str, event: Message, t: int, name: str) -> _Call:
        call = _Call(
            call_id=uid,
            linkedid=event.get("Linkedid") or "",
            caller=event.get("CallerIDNum") or "",
            caller_name=event.get("CallerIDName") or "",
        )
        is_entry = name == "UserEvent" and event.get("Menu") == "entry"
        if is_entry or name == "QueueCallerJoin":
            call.t_arrival = t  # a call that never ran our IVR arrives at its queue
        else:
            call.notes.append(f"first seen in {event.get('UserEvent') or name}")
        self._active[uid] = call
        return call

    def _end(self, call: _Call, t: int, reason: EndReason | None = None) -> CallEnded:
        for i, visit in enumerate(call.visits):
            if visit.t_leave is None:
                # a Hangup inside Queue() without QueueCallerAbandon: missed events
                call.visits[i] = replace(visit, t_leave=t, outcome="ABANDON")
                call.ringing_at_abandon = any(r.t_end is None for r in call.rings)
        call.close_rings(t)
        if reason is None:
            reason = EndReason.PBX_DOWN if call.pbx_down else end_reason(call)
        del self._active[call.call_id]
        ended = self._ended
        ended[call.call_id] = None
        if len(ended) > self._keep_ended:
            del ended[next(iter(ended))]
        record = call.record(t, reason)
        if record.t_answer is not None and record.talk_end is None:
            unfinished = self._unfinished
            unfinished[call.call_id] = record
            if len(unfinished) > self._keep_ended:
                del unfinished[next(iter(unfinished))]
        return CallEnded(record)

    def lost(self, owns: Callable[[str], bool], *, at: int, note: str = "") -> list[Effect]:
        """The PBX of the calls ``owns`` picks was lost: close each as PBX_LOST (CallLost).

        ``at``: when the PBX was last heard (ms, the controller's clock), the end given to
        each call (never before what the call itself saw); ``note``: added to each (how
        far the true end may be from it). Each is remembered as it was,
        to be reopened if the PBX comes back with it (an event of it, or its channel at the
        resync); the resync forgets those it does not have.
        """
        effects: list[Effect] = []
        for call in [c for c in self._active.values() if owns(c.call_id)]:
            self._lost[call.call_id] = replace(
                call, visits=list(call.visits), rings=list(call.rings), notes=list(call.notes)
            )
            call.notes.append(LOST_NOTE)
            if note:
                call.notes.append(note)
            ended = self._end(call, max(at, _latest(call)), EndReason.PBX_LOST)
            self._unfinished.pop(call.call_id, None)  # no AgentComplete comes over a lost link
            effects.append(CallLost(ended.record))
        while len(self._lost) > self._keep_ended:
            del self._lost[next(iter(self._lost))]
        return effects

    def _reopen(self, uid: str) -> bool:
        """The PBX is back with a call closed as lost: in progress again, as it was."""
        call = self._lost.pop(uid, None)
        if call is None:
            return False
        self._ended.pop(uid, None)
        self._unfinished.pop(uid, None)
        call.notes.append(REOPENED_NOTE)
        self._active[uid] = call
        return True

    def _late_complete(self, record: CallRecord, e: Message, t: int) -> CallAmended:
        """The talk ended no later than the caller's channel: ``t_end`` bounds it."""
        talk_end = t if record.t_end is None else min(t, record.t_end)
        return CallAmended(
            replace(
                record,
                talk_end=talk_end,
                completed_by=e.get("Reason") or "",
                notes=(*record.notes, LATE_COMPLETE),
            )
        )

    # -- resync ------------------------------------------------------------------------------

    def resync(
        self,
        channels: Iterable[Message],
        queue_status: Iterable[Message] = (),
        *,
        now: int,
        pbx_restarted: bool = False,
        owns: Callable[[str], bool] | None = None,
    ) -> list[Effect]:
        """Reconcile with Asterisk's own view after a (re)connect.

        ``channels``: the CoreShowChannel items of CoreShowChannels; ``queue_status``: the
        QueueEntry items of QueueStatus (others are skipped); ``now``: the controller's clock
        in ms. A call we follow whose channel is gone ends as VANISHED (the queue_log importer
        may complete it); a caller channel we do not know (in our IVR contexts, or in Queue())
        starts a call with second-precision times and a note. ``pbx_restarted``: Asterisk
        started anew since the last resync, so a call gone meanwhile was cut off by it
        (PBX_DOWN), not lost from sight. ``owns``: which calls this PBX's view settles (a
        centre on several PBXs resyncs each apart: ``calls.namespace.Namespace.owns``).
        """
        self.now = max(self.now, now)
        alive: dict[str, Message] = {}
        for ch in channels:
            uid = ch.get("Uniqueid")
            if ch.name == "CoreShowChannel" and uid and is_caller_channel(ch):
                alive[uid] = ch
        waits = {e.get("Uniqueid") or "": e for e in queue_status if e.name == "QueueEntry"}
        effects: list[Effect] = []
        for call in list(self._active.values()):
            if owns is not None and not owns(call.call_id):
                continue  # another PBX's call
            if call.call_id not in alive:
                call.notes.append(GONE_AT_RESYNC)
                if pbx_restarted:
                    call.notes.append("the PBX restarted meanwhile")
                gone = EndReason.PBX_DOWN if pbx_restarted else EndReason.VANISHED
                effects.append(self._end(call, now, gone))
        for uid in [u for u in self._lost if (owns is None or owns(u)) and u not in alive]:
            del self._lost[uid]  # the PBX came back without it: it stays as it was closed
        for uid, ch in alive.items():
            known = self._active.get(uid)
            if known is None and self._reopen(uid):
                call = self._active[uid]
                _sync_queue(call, ch, waits.get(uid), now)
                effects.append(CallResumed(call.record()))
            elif known is None:
                self._ended.pop(uid, None)
                self._unfinished.pop(uid, None)
                call = self._active[uid] = _Call(
                    call_id=uid,
                    linkedid=ch.get("Linkedid") or "",
                    caller=ch.get("CallerIDNum") or "",
                    caller_name=ch.get("CallerIDName") or "",
                    t_arrival=now - _seconds(ch.get("Duration")) * 1000,
                    notes=["seen first at resync: times to the second"],
                )
                _sync_queue(call, ch, waits.get(uid), now)
                effects.append(CallUpdated(call.record()))
            elif _sync_queue(known, ch, waits.get(uid), now):
                effects.append(CallUpdated(known.record()))
        return effects


class Unsettled:
    """``call_id in calls.unsettled``: in progress, or closed with a lost PBX."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls or (isinstance(call_id, str) and self._calls.is_lost(call_id))


def _latest(call: _Call) -> int:
    """The last moment the call's own events name (ms; 0 if none)."""
    times = [call.t_arrival, call.t_request, call.t_answer, call.talk_end]
    for visit in call.visits:
        times += (visit.t_enter, visit.t_leave)
    for ring in call.rings:
        times += (ring.t_start, ring.t_end)
    return max((t for t in times if t is not None), default=0)


def _sync_queue(call: _Call, ch: Message, entry: Message | None, now: int) -> bool:
    """A caller in Queue() (waiting: a QueueEntry; bridged: a BridgeId) whose entry or
    answer we missed gets the visit, to the second, with a note."""
    if ch.get("Application") != "Queue":
        return False
    queue = (ch.get("ApplicationData") or "").split(",", 1)[0]
    if entry is not None:
        if call.open_visit(queue) >= 0:
            return False
        call.visits.append(QueueVisit(queue, now - _int(entry.get("Wait")) * 1000))
        call.notes.append(f"in {queue} at resync: entry time to the second")
        return True
    if not ch.get("BridgeId") or call.t_answer is not None:
        return False
    i = call.open_visit(queue)
    if i >= 0:
        call.visits[i] = replace(call.visits[i], t_leave=now, outcome="CONNECT")
    else:
        t_enter = call.t_arrival if call.t_arrival is not None else now
        call.visits.append(QueueVisit(queue, t_enter, t_leave=now, outcome="CONNECT"))
    call.t_answer = now
    call.notes.append("bridged at resync: answer time unknown")
    return True


# -- how a call ended: data, then one function -------------------------------------------------

# HotlineQueueExit Status (${QUEUESTATUS}) → (the visit's outcome as queue_log names it,
# refused at the door: Queue() sent no QueueCallerJoin before it). CONTINUE never comes: with
# an agent (MEMBERINTERFACE set) our dialplan goes to the survey without a HotlineQueueExit.
_EXIT_STATUS: dict[str, tuple[str, bool]] = {
    "TIMEOUT": ("EXITWITHTIMEOUT", False),
    "LEAVEEMPTY": ("EXITEMPTY", False),
    "LEAVEUNAVAIL": ("EXITEMPTY", False),
    "WITHDRAW": ("WITHDRAW", False),
    "JOINEMPTY": ("JOINEMPTY", True),
    "JOINUNAVAIL": ("JOINUNAVAIL", True),
    "FULL": ("FULL", True),
}

# a callback registered after these is the next step of that visit, not a visit of its own
_LEAVES_FOR_CALLBACK = frozenset({"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})

# the last visit's outcome → why an unanswered call ended (as hotline.queuelog.calls reads it)
_LAST_OUTCOME: dict[str, EndReason] = {
    "ABANDON": EndReason.ABANDONED_IN_QUEUE,
    "EXITWITHTIMEOUT": EndReason.TIMEOUT,
    "EXITEMPTY": EndReason.LEAVE_EMPTY,
    "EXITWITHKEY": EndReason.LEFT_WITH_KEY,
    "WITHDRAW": EndReason.WITHDRAWN,
    "JOINEMPTY": EndReason.REFUSED_NO_AGENT,
    "JOINUNAVAIL": EndReason.REFUSED_NO_AGENT,
    "FULL": EndReason.REFUSED_FULL,
    "CALLBACK": EndReason.CALLBACK,
}


def end_reason(call: _Call) -> EndReason:
    """Why the call ended, from what it went through (docs/domain.md populations).

    The same precedence as the queue_log importer (hotline.queuelog.calls), so both sources
    agree: answered if an agent was bridged; out of hours; a callback if one was registered
    (after a refusal or a timeout too: the visits still say JOINEMPTY/EXITWITHTIMEOUT); else
    the last visit's outcome (a timeout that overflowed is a transfer: the next visit
    decides); no queue at all: IVR_ONLY.
    """
    if call.t_answer is not None:
        return EndReason.ANSWERED
    if call.closed:
        return EndReason.CLOSED
    if call.callback_number:
        return EndReason.CALLBACK
    if not call.visits:
        return EndReason.IVR_ONLY
    reason = _LAST_OUTCOME.get(call.visits[-1].outcome, EndReason.ABANDONED_IN_QUEUE)
    if reason is EndReason.ABANDONED_IN_QUEUE and call.ringing_at_abandon:
        return EndReason.ABANDONED_RINGING
    return reason


_CALLER_CONTEXTS = (
    ENTRY,
    STEP,
    NOTICE,
    SURVEY,
    CALLBACK,
    HOURS,
    menu_context(""),
    queue_context(""),
)


def is_caller_channel(channel: Message) -> bool:
    """A CoreShowChannel that is a citizen's call: in our IVR's contexts, or in Queue()."""
    return channel.get("Application") == "Queue" or (channel.get("Context") or "").startswith(
        _CALLER_CONTEXTS
    )


def _seconds(duration: str | None) -> int:
    """CoreShowChannel ``Duration: 00:01:05`` → 65; garbage → 0."""
    total = 0
    for part in (duration or "").split(":"):
        if not part.isdecimal():
            return 0
        total = total * 60 + int(part)
    return total


def _int(value: str | None, default: int = 0) -> int:
    return int(value) if value and value.isdecimal() else default


# -- handlers: (calls, call, event, t) -> changed ---------------------------------------------


def _ivr(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    if e.get("Menu") == "entry":
        changed = False
        if e.get("Digit") == "closed":  # the out-of-hours branch of the entry context
            call.closed, changed = True, True
        line = e.get("Line")
        if line and call.line != line:
            call.line, changed = line, True
        return changed
    path = e.get("Path") or ""
    if path == call.ivr_path:
        return False
    call.ivr_path = path
    return True


def _queue_request(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    before = (call.t_request, call.tag, call.ivr_path)
    if call.t_request is None:
        call.t_request = t
    call.tag = e.get("Tag") or call.tag
    call.ivr_path = e.get("Path") or call.ivr_path
    return before != (call.t_request, call.tag, call.ivr_path)


def _twilio(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    """Twilio's SIP leg: the CallSid of the Twilio call (its IVR ran at Twilio)."""
    sid = e.get("CallSid") or ""
    if not sid or sid == call.twilio_sid:
        return False
    call.twilio_sid = sid
    return True


def _recording(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    file = e.get("File") or ""
    if not file or file == call.recording:
        return False
    call.recording = file
    return True


def _queue_exit(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    queue = e.get("Queue") or ""
    outcome, refused = _EXIT_STATUS.get(e.get("Status") or "", ("", False))
    if refused:  # JOINEMPTY, FULL, ...: Queue() refused at the door, no QueueCallerJoin
        if call.visits and call.visits[-1].queue == queue and call.visits[-1].t_enter == t:
            return False  # a duplicate
        call.visits.append(QueueVisit(queue, t, t_leave=t, outcome=outcome))
        return True
    i = call.last_visit(queue)
    if i < 0 or not outcome or call.visits[i].outcome == outcome:
        return False
    visit = call.visits[i]
    call.visits[i] = replace(visit, outcome=outcome, t_leave=visit.t_leave or t)
    return True


def _survey(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    score = e.get("Score") or ""
    if not score.isdecimal() or call.survey_score == int(score):
        return False  # "none": no digit pressed
    call.survey_score = int(score)
    return True


def _callback(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    number = e.get("Number") or call.caller or "?"
    if call.callback_number == number:
        return False
    call.callback_number = number
    if call.t_request is None:
        call.t_request = t
    queue = e.get("Queue") or ""
    i = call.last_visit(queue)
    if i < 0 or call.visits[i].outcome not in _LEAVES_FOR_CALLBACK:
        # taken at the offer before Queue(), or after a refusal: a zero-length visit, so the
        # call counts in R (the queue_log importer reads its CALLBACK line the same way)
        call.visits.append(QueueVisit(queue, t, t_leave=t, outcome="CALLBACK"))
    return True


def _join(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    queue = e.get("Queue") or ""
    if call.open_visit(queue) >= 0:
        return False  # a duplicate
    call.visits.append(QueueVisit(queue, t, position=_int(e.get("Position"))))
    call.ringing_at_abandon = False
    return True


def _leave(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    i = call.open_visit(e.get("Queue") or "")
    if i < 0:
        return False
    call.visits[i] = replace(call.visits[i], t_leave=t)
    return True


def _abandon(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    # Fired for real abandons and for timeouts alike; only a real abandon is preceded by
    # the caller channel's HangupRequest. HotlineQueueExit (our dialplan) confirms a timeout.
    queue = e.get("Queue") or ""
    i = call.open_visit(queue)
    if i < 0:
        i = call.last_visit(queue)
        if i < 0 or call.visits[i].outcome:
            return False
    outcome = "ABANDON" if call.hangup_requested else "EXITWITHTIMEOUT"
    visit = call.visits[i]
    call.visits[i] = replace(visit, t_leave=visit.t_leave or t, outcome=outcome)
    call.ringing_at_abandon = any(r.t_end is None for r in call.rings)
    call.close_rings(t)
    return True


def _called(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    agent = e.get("MemberName") or ""
    if any(r.agent == agent and r.t_end is None for r in call.rings):
        return False
    call.rings.append(Ring(agent, t))
    return True


def _no_answer(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    agent = e.get("MemberName") or ""
    for i, ring in enumerate(call.rings):
        if ring.agent == agent and ring.t_end is None:
            call.rings[i] = replace(ring, t_end=t)
            return True
    return False


def _connect(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    agent = e.get("MemberName") or ""
    if call.t_answer is not None and call.agent == agent:
        return False  # a duplicate
    if not any(r.agent == agent and r.t_end is None for r in call.rings):
        call.rings.append(Ring(agent, t))  # AgentCalled missed
    call.close_rings(t, answered_by=agent)
    if call.t_answer is None:
        call.t_answer = t
    elif call.completed_by == TRANSFER:  # the next agent after a transfer: talking again
        call.notes.append(f"transferred from {call.agent} to {agent}")
        call.talk_end, call.completed_by = None, ""
    call.agent = agent
    queue = e.get("Queue") or ""
    i = call.open_visit(queue)
    if i < 0:
        i = call.last_visit(queue)
    if i >= 0:
        visit = call.visits[i]
        call.visits[i] = replace(visit, t_leave=visit.t_leave or t, outcome="CONNECT")
    return True


def _complete(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    if call.talk_end is not None:
        return False
    call.talk_end = t
    call.completed_by = e.get("Reason") or ""
    return True


def _transfer(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    """The controller's note that it transferred the call (commands.transfer): the call goes
    on, one call; AgentComplete Reason transfer ends the agent's part."""
    note = (
        f"transfer {e.get('Mode') or '?'} to {e.get('Kind') or '?'} {e.get('Target') or '?'}"
        f" by {e.get('Actor') or '?'}"
    )
    if note in call.notes:
        return False
    call.notes.append(note)
    return True


def _hangup_request(calls: Calls, call: _Call, e: Message, t: int) -> bool:
    call.hangup_requested = True
    shutdown = e.name == "SoftHangupRequest" and e.get("Cause") == SOFTHANGUP_SHUTDOWN
    if shutdown and not call.pbx_down:
        call.pbx_down = True
        call.notes.append("hung up by the PBX shutting down")
    return False  # nothing a reader sees


_USER_EVENTS: dict[str, _Handler] = {
    "HotlineIvr": _ivr,
    "HotlineQueue": _queue_request,
    "HotlineRecording": _recording,
    "HotlineQueueExit": _queue_exit,
    "HotlineSurvey": _survey,
    "HotlineCallback": _callback,
    "HotlineTwilio": _twilio,
    "HotlineTransfer": _transfer,
}
_EVENTS: dict[str, _Handler] = {
    "QueueCallerJoin": _join,
    "QueueCallerLeave": _leave,
    "QueueCallerAbandon": _abandon,
    "AgentCalled": _called,
    "AgentRingNoAnswer": _no_answer,
    "AgentConnect": _connect,
    "AgentComplete": _complete,
    "HangupRequest": _hangup_request,
    "SoftHangupRequest": _hangup_request,
    "Hangup": _hangup_request,  # handled in apply (ends the call)
}
