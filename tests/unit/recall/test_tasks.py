"""Recall tasks: who is owed a call back, folding, getting through, attempts, offers."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from hotline.core.records import CallRecord, EndReason, QueueVisit
from hotline.recall.rules import RecallRules
from hotline.recall.tasks import (
    Close,
    Fold,
    New,
    Origin,
    Outcome,
    State,
    Task,
    after_attempt,
    at_the_front,
    decide,
    dialable,
    expire,
    missed,
    next_offer,
    outcome_of,
    virtual_hold,
)

T0 = 1_796_000_000_000
RULES = RecallRules(min_wait_ms=10_000, attempts=3, retry_ms=(600_000, 1_800_000))


def call(
    reason: EndReason | None,
    *,
    caller: str = "13800000001",
    waited: int = 30_000,
    answered: bool = False,
    **changes: object,
) -> CallRecord:
    t_q = T0 + 5_000
    end = t_q + waited
    record = CallRecord(
        call_id=f"c{end}",
        caller=caller,
        t_arrival=T0,
        t_request=t_q,
        visits=(QueueVisit("intake", t_q, 1, end, "ABANDON"),),
        t_answer=end - 1_000 if answered else None,
        t_end=end,
        end_reason=reason,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_each_kind_of_unserved_caller_is_owed_a_call_back() -> None:
    for reason in (EndReason.ABANDONED_IN_QUEUE, EndReason.ABANDONED_RINGING,
                   EndReason.TIMEOUT, EndReason.LEAVE_EMPTY, EndReason.REFUSED_NO_AGENT,
                   EndReason.REFUSED_FULL, EndReason.PBX_DOWN, EndReason.PBX_LOST):  # fmt: skip
        m = missed(call(reason), RULES)
        assert m is not None, reason
        assert m.number == "13800000001", reason
        assert m.origin is Origin.MISSED
        assert m.reason == reason.value
        assert m.queue == "intake"


def test_served_short_unfinished_ivr_only_and_anonymous_calls_are_not() -> None:
    assert missed(call(EndReason.ANSWERED, answered=True), RULES) is None
    assert missed(call(EndReason.ABANDONED_IN_QUEUE, waited=9_999), RULES) is None
    assert missed(call(EndReason.ABANDONED_IN_QUEUE, waited=10_000), RULES) is not None
    assert missed(call(None), RULES) is None  # still going
    assert missed(call(EndReason.IVR_ONLY, visits=(), t_request=None), RULES) is None
    assert missed(call(EndReason.CLOSED, visits=(), t_request=None), RULES) is None
    assert missed(call(EndReason.PBX_DOWN, answered=True), RULES) is None  # was served
    assert missed(call(EndReason.PBX_LOST, answered=True), RULES) is None
    for anonymous in ("", "anonymous", "<unknown>", "12"):
        assert missed(call(EndReason.TIMEOUT, caller=anonymous), RULES) is None


def test_a_refused_caller_who_never_queued_is_owed_from_their_request() -> None:
    record = call(EndReason.REFUSED_NO_AGENT, visits=())
    m = missed(record, RULES)
    assert m is not None
    assert m.queue == ""
    assert m.waited_ms == record.t_end - record.t_request


def test_a_callback_request_is_a_task_for_the_number_given() -> None:
    m = missed(call(EndReason.CALLBACK, callback_number="13900000009"), RULES)
    assert m is not None
    assert m.origin is Origin.CALLBACK
    assert m.number == "13900000009"
    m = missed(call(EndReason.CALLBACK), RULES)  # no number keyed: the caller's own
    assert m is not None
    assert m.number == "13800000001"


def task(**changes: object) -> Task:
    base = Task(1, "13800000001", Origin.MISSED, "intake", T0, T0 + 1_800_000, ("c1",))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_miss_opens_a_task_and_a_second_miss_folds_into_it() -> None:
    first = call(EndReason.TIMEOUT)
    action = decide(first, None, RULES)
    assert isinstance(action, New)
    assert action.deadline == RULES.deadline(first.t_end)
    again = decide(call(EndReason.ABANDONED_IN_QUEUE, waited=60_000), task(), RULES)
    assert isinstance(again, Fold)
    assert again.task == 1


def test_a_later_answered_call_closes_the_task_as_got_through() -> None:
    later = call(EndReason.ANSWERED, answered=True, waited=40_000, t_arrival=T0 + 60_000)
    action = decide(later, task(t_first=T0), RULES)
    assert action == Close(1, Outcome.GOT_THROUGH, later.t_answer, later.call_id)  # type: ignore[arg-type]
    # an answered call of someone else, or from before the miss, closes nothing
    assert decide(replace(later, caller="13700000000"), task(), RULES) is None
    assert decide(later, task(t_first=later.t_answer + 1), RULES) is None  # type: ignore[operator]
    assert decide(later, task(state=State.DONE), RULES) is None


def test_outcomes_follow_the_dial_status_and_the_hangup_cause() -> None:
    assert outcome_of("ANSWER", "16") is Outcome.REACHED
    assert outcome_of("BUSY", "17") is Outcome.BUSY
    assert outcome_of("NOANSWER", "19") is Outcome.NO_ANSWER
    assert outcome_of("CHANUNAVAIL", "1") is Outcome.INVALID
    assert outcome_of("CONGESTION", "28") is Outcome.INVALID
    assert outcome_of("CHANUNAVAIL", "21") is Outcome.REFUSED
    assert outcome_of("CONGESTION", "34") is Outcome.FAILED
    assert outcome_of("CANCEL", "0") is Outcome.CANCELLED
    assert outcome_of("", "16") is Outcome.CANCELLED


def test_attempts_retry_at_the_configured_waits_until_used_up() -> None:
    t = after_attempt(task(), Outcome.BUSY, T0 + 100, "王芳", RULES)
    assert (t.state, t.attempts, t.t_next) == (State.OPEN, 1, T0 + 100 + 600_000)
    t = after_attempt(t, Outcome.NO_ANSWER, T0 + 200, "王芳", RULES)
    assert (t.attempts, t.t_next) == (2, T0 + 200 + 1_800_000)
    t = after_attempt(t, Outcome.FAILED, T0 + 300, "李娜", RULES)
    assert (t.state, t.outcome, t.t_closed) == (State.EXPIRED, Outcome.ATTEMPTS_USED, T0 + 300)
    assert after_attempt(t, Outcome.REACHED, T0 + 400, "李娜", RULES) == t  # closed stays


def test_reached_closes_done_invalid_closes_expired_agent_missed_is_no_attempt() -> None:
    t = after_attempt(task(), Outcome.REACHED, T0 + 100, "王芳", RULES)
    assert (t.state, t.outcome, t.closed_by, t.attempts) == (State.DONE, Outcome.REACHED, "王芳", 1)
    t = after_attempt(task(), Outcome.INVALID, T0 + 100, "王芳", RULES)
    assert (t.state, t.outcome) == (State.EXPIRED, Outcome.INVALID)
    assert after_attempt(task(), Outcome.AGENT_MISSED, T0 + 100, "王芳", RULES) == task()


@given(st.lists(st.sampled_from(list(Outcome)), max_size=12))
def test_no_task_is_dialled_more_often_than_the_rules_allow(outcomes: list[Outcome]) -> None:
    t = task()
    for n, outcome in enumerate(outcomes):
        t = after_attempt(t, outcome, T0 + n, "王芳", RULES)
        assert t.attempts <= RULES.attempts
        assert t.open == (t.state is State.OPEN)
        assert (t.outcome is None) == t.open


def test_an_open_task_expires_long_past_its_deadline() -> None:
    t = task()
    assert expire(t, t.deadline + RULES.give_up_ms, RULES) == t
    gone = expire(t, t.deadline + RULES.give_up_ms + 1, RULES)
    assert (gone.state, gone.outcome) == (State.EXPIRED, Outcome.GAVE_UP)


def test_offers_go_by_deadline_and_never_while_callers_wait_too_long() -> None:
    a = task(id=1, deadline=T0 + 900_000)
    b = task(id=2, deadline=T0 + 300_000, t_next=T0 + 10_000)
    c = task(id=3, deadline=T0 + 600_000)
    assert next_offer([a, b, c], T0, longest_wait_ms=5_000, service_level_ms=15_000) == c
    assert next_offer([a, b, c], T0 + 10_000, 5_000, 15_000) == b
    assert next_offer([a, b, c], T0 + 10_000, 15_001, 15_000) is None
    assert next_offer([task(state=State.DONE)], T0, 0, 15_000) is None


def test_dialable_numbers() -> None:
    assert dialable("13800000001")
    assert dialable("+8613800000001")
    assert dialable("12345")
    assert not dialable("138-0000")
    assert not dialable("anonymous")
    assert not dialable("")


def test_a_callback_keeps_the_callers_place_in_the_queue() -> None:
    record = call(EndReason.CALLBACK, waited=200_000)  # waited 200 s, then pressed 1
    m = missed(record, RULES)
    assert m is not None
    assert m.place == record.visits[0].t_enter  # their place: when they joined
    cb = task(origin=Origin.CALLBACK, t_place=T0, t_first=T0 + 200_000)
    assert at_the_front(cb, [T0 + 1, T0 + 90_000])  # everyone waiting came after them
    assert not at_the_front(cb, [T0 - 1, T0 + 5])  # someone waits since before


def test_virtual_hold_gives_each_callback_at_the_front_one_ready_agent() -> None:
    def cb(id_: int, place: int, queue: str = "intake", **kw: object) -> Task:
        return task(id=id_, origin=Origin.CALLBACK, t_place=place, queue=queue, **kw)

    tasks = [
        cb(1, T0 + 50),  # no third agent for it
        cb(2, T0 + 10),  # the oldest place: first
        cb(3, T0 + 20, queue="labour"),  # someone waits in labour since before it
        cb(4, T0 + 30, t_next=T0 + 999_999),  # tried a moment ago: not yet
        cb(5, T0 + 40),  # then this one
        task(id=6),  # a missed caller, not a callback: offered, not held
        cb(7, T0 + 5, state=State.DONE),
    ]
    waiting = {"intake": [T0 + 100], "labour": [T0 + 15]}
    ready = {"intake": ["王芳", "李娜"], "labour": ["刘洋"]}
    got = virtual_hold(tasks, waiting, ready, now=T0 + 1_000)
    assert [(t.id, agent) for t, agent in got] == [(2, "王芳"), (5, "李娜")]
    assert virtual_hold(tasks, waiting, ready, now=T0 + 1_000, busy={2}) == [
        (tasks[4], "王芳"), (tasks[0], "李娜")
    ]  # fmt: skip
    assert virtual_hold(tasks, {}, {}, now=T0) == []  # nobody free


def test_the_wait_spared_runs_from_the_request_to_the_offer() -> None:
    cb = task(origin=Origin.CALLBACK, t_first=T0, t_offered=T0 + 240_000)
    assert cb.spared_ms == 240_000
    assert task(t_offered=T0 + 240_000).spared_ms is None  # not a callback
    assert task(origin=Origin.CALLBACK).spared_ms is None  # not offered yet
