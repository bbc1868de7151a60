"""One call's record from its queue_log lines (pure).

Usage::

    record = call_record("1795463379.1", entries_of_that_callid)  # any order, repeats ok

The lines are put in order (time, then the call's natural sequence for lines of the same
second, then arrival) and repeats collapse, so the record depends only on the set of lines.
Every time is the line's whole second in ms (``precision`` SECOND, ``source`` QUEUE_LOG).

How the record is read from the lines:

- **visits**: ENTERQUEUE opens one; CONNECT, ABANDON, EXITWITHTIMEOUT, EXITEMPTY,
  EXITWITHKEY, WITHDRAW and SYSCOMPAT close the earliest open visit of *their* queue (a
  close matched by queue keeps an overflow -- EXITWITHTIMEOUT in A, ENTERQUEUE in B in the
  same second -- right whatever the order). ``position`` is the entry position. A line of a
  queue with no open visit means its ENTERQUEUE is not in the input (the log began or was
  rotated mid-call): the visit is inferred, its entry being the line's time minus the wait
  it reports (waittime, holdtime, or ring time), and a note says so.
- **t_answer, agent**: the first CONNECT; ``rings``: one per RINGNOANSWER and RINGCANCELED
  (ring time in ms), one answered ring per CONNECT (its ring time, whole seconds).
- **talk_end, completed_by**: the last COMPLETEAGENT / COMPLETECALLER (``agent`` /
  ``caller``) or TRANSFER / BLINDTRANSFER / ATTENDEDTRANSFER (``transfer``). Without its
  CONNECT in the input, the answer is inferred from the completion's calltime and holdtime.
- **survey_score** from our SURVEY line; **callback_number** from our CALLBACK line. A
  CALLBACK that follows no timeout or exit in its queue (the offer before the queue, or no
  agent logged in) is a zero-length visit with outcome CALLBACK, so the call counts in R.
- **end_reason**, from the last visit (None while it is open or its call is talking):
  answered if any CONNECT; else callback if requested; else by the last visit's outcome:
  ABANDON is ``abandoned_ringing`` when a RINGCANCELED of that visit came first (Asterisk
  logs it for each ringing member only when the caller hangs up during the ring) or when
  the ABANDON names a member (app_queue's "caller hung up just before being connected"),
  and ``abandoned_in_queue`` otherwise -- without RINGCANCELED (older Asterisk) queue_log
  cannot tell the two apart; EXITWITHTIMEOUT ``timeout``, EXITEMPTY ``leave_empty``,
  EXITWITHKEY ``left_with_key``, WITHDRAW ``withdrawn``, SYSCOMPAT ``failed``.
- **t_request**: the first visit's entry (queue_log has nothing earlier).
- **t_end**: the last line of the call when it is done. queue_log logs no hangup, so this
  is exact for COMPLETECALLER and ABANDON and a lower bound otherwise (the caller may stay
  in the dialplan after, e.g. to decline a survey).

A closed call can reopen: EXITWITHTIMEOUT followed by an ENTERQUEUE elsewhere (overflow) or
in the same queue (wait on) makes the call a single record with two visits, open again. So
consumers upsert records by ``call_id`` and do not treat ``done`` as final until the call
has been quiet for a while (see :func:`hotline.queuelog.build.iter_build`).

app_queue repeats a close in two places, which are ignored with a note: SYSCOMPAT is
followed by an ABANDON of the same visit, and "caller hung up just before being connected"
logs ABANDON twice. A close with no open visit whose reported wait points at the entry of
the last closed visit of that queue is taken as such a repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit, Ring, Source
from hotline.queuelog.parse import Event, QueueLogEntry

__all__ = ["CALL_EVENTS", "call_record", "order_key", "ordered", "walk"]

# Where a line sits among lines of the same second, in a call's natural sequence.
_RANK: dict[str, int] = {
    Event.ENTERQUEUE: 0,
    Event.JOINEMPTY: 0,
    Event.FULL: 0,
    Event.RINGNOANSWER: 1,
    Event.RINGCANCELED: 1,
    Event.AGENTDUMP: 1,
    Event.SYSCOMPAT: 2,
    Event.CONNECT: 2,
    Event.ABANDON: 3,
    Event.EXITWITHTIMEOUT: 3,
    Event.EXITEMPTY: 3,
    Event.EXITWITHKEY: 3,
    Event.WITHDRAW: 3,
    Event.COMPLETEAGENT: 4,
    Event.COMPLETECALLER: 4,
    Event.TRANSFER: 4,
    Event.BLINDTRANSFER: 4,
    Event.ATTENDEDTRANSFER: 4,
    Event.SURVEY: 5,
    Event.CALLBACK: 5,
}

CALL_EVENTS = frozenset(_RANK)
"""The events that belong to a call (keyed by callid)."""

_OUTCOME_REASON: dict[str, EndReason] = {
    Event.ABANDON: EndReason.ABANDONED_IN_QUEUE,
    Event.EXITWITHTIMEOUT: EndReason.TIMEOUT,
    Event.EXITEMPTY: EndReason.LEAVE_EMPTY,
    Event.EXITWITHKEY: EndReason.LEFT_WITH_KEY,
    Event.WITHDRAW: EndReason.WITHDRAWN,
    Event.SYSCOMPAT: EndReason.FAILED,
    Event.JOINEMPTY: EndReason.REFUSED_NO_AGENT,
    Event.FULL: EndReason.REFUSED_FULL,
    Event.CALLBACK: EndReason.CALLBACK,
}
# A CALLBACK right after one of these in the same queue is the caller leaving that wait.
_LEAVES_FOR_CALLBACK = frozenset({Event.EXITWITHTIMEOUT, Event.EXITEMPTY, Event.EXITWITHKEY})
_NEVER = 1 << 62  # sorts after any time
_REPEAT_SLACK_MS = 2000  # a wait reported in whole seconds, against entry times in seconds


def _num(data: tuple[str, ...], index: int) -> int | None:
    # QueueLogEntry.int_at without the method call: the walk calls it ~6 times a call
    if 0 <= index < len(data):
        value = data[index]
        if value.isdigit() and value.isascii():
            return int(value)
    return None


def order_key(e: QueueLogEntry) -> tuple[int, int, bool, str, str, str, tuple[str, ...]]:
    """Sort key of a call's lines: time; within a second, the call's natural sequence.

    Then a close naming a member before one that does not (app_queue writes the member's
    ABANDON first when it repeats it); then content, so that any arrival order gives the
    same walk.
    """
    return (e.t, _RANK.get(e.event, 9), e.agent in ("NONE", ""), e.event, e.queue, e.agent, e.data)


def ordered(entries: Iterable[QueueLogEntry]) -> list[QueueLogEntry]:
    """The distinct entries of one call in the order the call went through them."""
    return sorted(set(entries), key=order_key)


class _Visit:
    __slots__ = (
        "canceled",
        "inferred",
        "outcome",
        "position",
        "queue",
        "t_enter",
        "t_leave",
        "talk_end",
        "talking",
    )

    def __init__(self, queue: str, t_enter: int, position: int, inferred: bool = False):
        self.queue = queue
        self.t_enter = t_enter
        self.position = position
        self.inferred = inferred
        self.t_leave: int | None = None
        self.outcome = ""
        self.canceled = False  # the caller hung up while a member rang (RINGCANCELED)
        self.talking = False  # CONNECT seen, no completion yet
        self.talk_end: int | None = None

    def close(self, t: int, outcome: str) -> None:
        self.t_leave = t
        self.outcome = outcome

    def value(self) -> QueueVisit:
        return QueueVisit(self.queue, self.t_enter, self.position, self.t_leave, self.outcome)


class _Walk:
    """The state of one call while its lines are read in order."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.caller = ""
        self.caller_name = ""
        self.visits: list[_Visit] = []
        self.rings: list[Ring] = []
        self.t_answer: int | None = None
        self.agent = ""
        self.talk_end: int | None = None
        self.completed_by = ""
        self.survey: int | None = None
        self.callback = False
        self.callback_number = ""
        self.notes: list[str] = []
        self.last = 0

    # -- finding the visit a line belongs to ------------------------------------------------

    def visit(
        self, e: QueueLogEntry, wait: int | None, *, exact: bool = True, position: int = 0
    ) -> _Visit | None:
        """The visit ``e`` belongs to; None when ``e`` repeats the close of a closed visit.

        ``wait`` is how long before ``e`` the caller entered the queue: ``exact`` when
        app_queue measured it from the entry (holdtime, waittime), else a lower bound (a
        ring time). It places an inferred visit; ``position`` is its entry position.
        """
        entered = (e.t - (wait or 0)) * 1000
        for v in self.visits:
            if v.queue == e.queue and v.t_leave is None:
                if v.inferred and wait is not None:
                    v.t_enter = entered if exact else min(v.t_enter, entered)
                    v.position = v.position or position
                return v
        if exact and wait is not None:
            last = next((v for v in reversed(self.visits) if v.queue == e.queue), None)
            if last is not None and abs(last.t_enter - entered) <= _REPEAT_SLACK_MS:
                self.notes.append(f"{e.event} in {e.queue} repeats the {last.outcome}: ignored")
                return None
        v = _Visit(e.queue, entered, position, inferred=True)
        self.visits.append(v)
        self.notes.append(f"no ENTERQUEUE for {e.queue} in the input: inferred from {e.event}")
        return v

    # -- one method per event ---------------------------------------------------------------

    def on_enterqueue(self, e: QueueLogEntry) -> None:
        self.caller = self.caller or e.at(1)
        self.caller_name = self.caller_name or e.at(3)
        self.visits.append(_Visit(e.queue, e.t * 1000, _num(e.data, 2) or 0))

    def on_refused(self, e: QueueLogEntry) -> None:
        v = _Visit(e.queue, e.t * 1000, 0)
        v.close(e.t * 1000, e.event)
        self.visits.append(v)

    def on_connect(self, e: QueueLogEntry) -> None:
        v = self.visit(e, _num(e.data, 0))
        if v is None:
            return
        t = e.t * 1000
        v.close(t, e.event)
        v.talking = True
        self.rings.append(Ring(e.agent, t - (_num(e.data, 2) or 0) * 1000, t, answered=True))
        if self.t_answer is None or t < self.t_answer:
            self.t_answer, self.agent = t, e.agent

    def on_leave(self, e: QueueLogEntry) -> None:
        # waittime is the last field of ABANDON, EXITWITHTIMEOUT, EXITEMPTY and EXITWITHKEY
        # and the third of WITHDRAW (position|origposition|waittime|info); origposition is
        # the one before
        n = 3 if e.event == Event.WITHDRAW else len(e.data)
        v = self.visit(e, _num(e.data, n - 1), position=_num(e.data, n - 2) or 0)
        if v is None:
            return
        v.close(e.t * 1000, e.event)
        if e.event == Event.ABANDON and e.agent not in ("NONE", ""):
            # try_calling(): the member answered, but the caller hung up before the bridge
            v.canceled = True
            self.notes.append(f"caller hung up while {e.agent} was being connected")

    def on_syscompat(self, e: QueueLogEntry) -> None:
        v = self.visit(e, None)
        if v is not None:
            v.close(e.t * 1000, e.event)
            self.notes.append(f"{e.agent} answered but the channels were not compatible")

    def on_ring(self, e: QueueLogEntry) -> None:
        ms = _num(e.data, 0) or 0
        v = self.visit(e, ms // 1000, exact=False)
        t = e.t * 1000
        self.rings.append(Ring(e.agent, t - ms, t, answered=False))
        if v is not None and e.event == Event.RINGCANCELED:
            v.canceled = True

    def on_agentdump(self, e: QueueLogEntry) -> None:
        t = e.t * 1000
        self.rings.append(Ring(e.agent, t, t, answered=False))
        self.notes.append(f"{e.agent} hung up on the caller before the connect (AGENTDUMP)")

    def on_complete(self, e: QueueLogEntry) -> None:
        # holdtime|calltime|origposition end every completion: COMPLETE* is just that;
        # TRANSFER and BLINDTRANSFER put extension|context first, ATTENDEDTRANSFER BRIDGE|id,
        # APP|app or LINK|chan|chan
        n = len(e.data)
        hold, talk, position = _num(e.data, n - 3), _num(e.data, n - 2), _num(e.data, n - 1) or 0
        if e.event in (Event.COMPLETEAGENT, Event.COMPLETECALLER):
            how = "agent" if e.event == Event.COMPLETEAGENT else "caller"
        else:
            how = "transfer"
            self.notes.append(f"{e.event} by {e.agent}: {'|'.join(e.data[: n - 3])}")
        t = e.t * 1000
        answered = t - (talk or 0) * 1000
        v = next((v for v in self.visits if v.queue == e.queue and v.talking), None)
        if v is None:
            ends = [w.t_leave for w in self.visits if w.queue == e.queue and w.talk_end]
            if ends and ends[-1] is not None and abs(ends[-1] - answered) <= _REPEAT_SLACK_MS:
                self.notes.append(f"{e.event} in {e.queue} repeats a completion: ignored")
                return
            v = _Visit(e.queue, answered - (hold or 0) * 1000, position, inferred=True)
            v.close(answered, Event.CONNECT.value)
            self.visits.append(v)
            self.notes.append(f"no CONNECT for {e.queue} in the input: inferred from {e.event}")
            if self.t_answer is None or answered < self.t_answer:
                self.t_answer, self.agent = answered, e.agent
        v.talking = False
        v.talk_end = t
        if self.talk_end is None or t >= self.talk_end:
            self.talk_end, self.completed_by = t, how

    def on_survey(self, e: QueueLogEntry) -> None:
        score = _num(e.data, 0)
        if score is not None and 1 <= score <= 5:
            self.survey = score
        else:
            self.notes.append(f"survey score {e.text()!r} is not 1-5: ignored")

    def on_callback(self, e: QueueLogEntry) -> None:
        self.callback = True
        self.callback_number = e.at(0)
        self.caller = self.caller or self.callback_number  # QueueLog(...,${CALLERID(num)})
        if any(v.queue == e.queue and v.t_leave is None for v in self.visits):
            return
        last = max(self.visits, key=lambda v: v.t_enter, default=None)
        if last is None or last.queue != e.queue or last.outcome not in _LEAVES_FOR_CALLBACK:
            self.on_refused(e)

    # -- the record -------------------------------------------------------------------------

    def end_reason(self, visits: list[_Visit]) -> EndReason | None:
        if not visits:
            return None
        last = visits[-1]
        if last.t_leave is None or last.talking:
            return None
        if self.t_answer is not None:
            return EndReason.ANSWERED
        if self.callback:
            return EndReason.CALLBACK
        if last.outcome == Event.ABANDON and last.canceled:
            return EndReason.ABANDONED_RINGING
        return _OUTCOME_REASON.get(last.outcome)

    def record(self) -> CallRecord:
        # by entry; of two entries in one second, the one left first (an overflow in 0 s)
        visits = sorted(self.visits, key=lambda v: (v.t_enter, v.t_leave or _NEVER))
        for v in visits[:-1]:
            if v.t_leave is None:
                self.notes.append(f"the visit to {v.queue} has no closing line")
        end = self.end_reason(visits)
        return CallRecord(
            call_id=self.call_id,
            caller=self.caller,
            caller_name=self.caller_name,
            # queue_log knows of no request before the first visit (see the package docs)
            t_request=visits[0].t_enter if visits else None,
            visits=tuple(v.value() for v in visits),
            rings=tuple(sorted(self.rings, key=lambda r: (r.t_start, r.t_end or 0, r.agent))),
            t_answer=self.t_answer,
            agent=self.agent,
            talk_end=self.talk_end,
            completed_by=self.completed_by,
            t_end=self.last * 1000 if end is not None else None,
            end_reason=end,
            survey_score=self.survey,
            callback_number=self.callback_number,
            precision=Precision.SECOND,
            source=Source.QUEUE_LOG,
            notes=tuple(self.notes),
        )


_HANDLERS: dict[str, Callable[[_Walk, QueueLogEntry], None]] = {
    Event.ENTERQUEUE: _Walk.on_enterqueue,
    Event.JOINEMPTY: _Walk.on_refused,
    Event.FULL: _Walk.on_refused,
    Event.CONNECT: _Walk.on_connect,
    Event.ABANDON: _Walk.on_leave,
    Event.EXITWITHTIMEOUT: _Walk.on_leave,
    Event.EXITEMPTY: _Walk.on_leave,
    Event.EXITWITHKEY: _Walk.on_leave,
    Event.WITHDRAW: _Walk.on_leave,
    Event.SYSCOMPAT: _Walk.on_syscompat,
    Event.RINGNOANSWER: _Walk.on_ring,
    Event.RINGCANCELED: _Walk.on_ring,
    Event.AGENTDUMP: _Walk.on_agentdump,
    Event.COMPLETEAGENT: _Walk.on_complete,
    Event.COMPLETECALLER: _Walk.on_complete,
    Event.TRANSFER: _Walk.on_complete,
    Event.BLINDTRANSFER: _Walk.on_complete,
    Event.ATTENDEDTRANSFER: _Walk.on_complete,
    Event.SURVEY: _Walk.on_survey,
    Event.CALLBACK: _Walk.on_callback,
}


def call_record(call_id: str, entries: Iterable[QueueLogEntry]) -> CallRecord:
    """The record of call ``call_id`` from its lines (other events are skipped)."""
    return walk(call_id, ordered(entries))


def walk(call_id: str, entries: list[QueueLogEntry]) -> CallRecord:
    """The record of call ``call_id`` from its distinct lines already :func:`ordered`."""
    state = _Walk(call_id)
    for e in entries:
        handler = _HANDLERS.get(e.event)
        if handler is not None:
            handler(state, e)
            state.last = e.t  # in order: the last one is the latest
    return state.record()
