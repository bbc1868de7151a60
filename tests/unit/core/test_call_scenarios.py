"""Recorded scenarios replayed through the reducers: the CallRecords, checked against the
queue_log Asterisk wrote in the same run (tests/fixtures/ami/record_scenarios.py)."""

from __future__ import annotations

import re

import pytest

from hotline.core.records import CallRecord, EndReason, Precision

from .replay import NAMES, Run, Scenario, load, replay

REC = "/srv/hotline/spool/recordings/"


def run_of(name: str) -> tuple[Scenario, Run]:
    scenario = load(name)
    return scenario, replay(scenario)


def by_caller(run: Run) -> dict[str, CallRecord]:
    return {r.caller: r for r in run.ended.values()}


def test_every_scenario_is_recorded() -> None:
    assert set(NAMES) >= {
        "answered_agent_hangs_up",
        "answered_caller_hangs_up",
        "abandoned_in_queue",
        "abandoned_ringing",
        "ring_no_answer_then_answered",
        "timeout_overflow",
        "refused_no_agent",
        "callback_at_offer",
        "ivr_hangup",
        "agent_pause_membership",
        "concurrent",
    }


def test_answered_then_the_agent_hangs_up_and_the_caller_rates() -> None:
    _, run = run_of("answered_agent_hangs_up")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ANSWERED
    assert (r.line, r.caller, r.caller_name) == ("12345", "13800138000", "市民1")
    assert (r.ivr_path, r.tag) == ("language:1>main:3>help:1", "unpaid-wages")
    assert [(v.queue, v.outcome, v.position) for v in r.visits] == [("labour", "CONNECT", 1)]
    assert (r.agent, r.completed_by, r.survey_score) == ("王芳", "agent", 4)
    assert r.t_arrival is not None
    assert r.t_request is not None
    assert r.t_q is not None
    assert r.t_arrival < r.t_request <= r.t_q
    assert r.t_answer is not None
    assert 0 <= r.t_answer - r.t_q < 100
    assert r.talk_end is not None
    assert 1900 < r.talk_end - r.t_answer < 2200
    assert r.t_end is not None
    assert r.t_end > r.talk_end
    assert re.fullmatch(rf"{REC}\d{{4}}/\d\d/\d\d/{re.escape(r.call_id)}", r.recording)
    assert r.rings[0].agent == "王芳"
    assert r.rings[0].answered
    assert r.precision is Precision.MILLISECOND
    assert r.notes == ()
    # the wallboard saw the call in progress: answered, not yet ended
    live = [u for u in run.updates if u.call_id == r.call_id]
    assert any(u.t_answer is not None and u.end_reason is None for u in live)
    assert all(u.end_reason is None for u in live)


def test_answered_then_the_caller_hangs_up() -> None:
    _, run = run_of("answered_caller_hangs_up")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ANSWERED
    assert (r.agent, r.completed_by, r.survey_score) == ("agent8002", "caller", None)
    assert (r.ivr_path, r.tag, r.first_queue) == (
        "language:1>main:1>inquiry:1",
        "inquiry",
        "property",
    )
    assert r.talk_end is not None
    assert r.t_end is not None
    assert 0 <= r.t_end - r.talk_end < 50


def test_abandoned_in_queue() -> None:
    _, run = run_of("abandoned_in_queue")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ABANDONED_IN_QUEUE
    assert r.t_answer is None
    assert r.agent == ""
    assert r.rings == ()
    (v,) = r.visits
    assert (v.queue, v.outcome) == ("property", "ABANDON")
    assert v.t_leave is not None
    assert 7000 < v.t_leave - v.t_enter < 8000


def test_abandoned_while_an_agent_rings() -> None:
    _, run = run_of("abandoned_ringing")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ABANDONED_RINGING
    (ring,) = r.rings
    assert (ring.agent, ring.answered) == ("未接", False)
    assert ring.t_end == r.visits[0].t_leave  # no Agent* event ends it: the abandon does


def test_ring_no_answer_then_another_agent_answers() -> None:
    _, run = run_of("ring_no_answer_then_answered")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ANSWERED
    assert r.agent == "agent8004"
    missed, answered = r.rings
    assert (missed.agent, missed.answered) == ("未接", False)
    assert missed.t_end is not None
    assert abs(missed.t_end - missed.t_start - 15000) < 50
    assert (answered.agent, answered.answered) == ("agent8004", True)
    assert r.t_answer is not None
    assert r.t_q is not None
    assert 17000 <= r.t_answer - r.t_q < 18000  # 15 s ring, retry 2 s
    assert r.survey_score is None  # the survey timed out ("Score: none")


def test_queue_timeout_overflows_into_intake() -> None:
    _, run = run_of("timeout_overflow")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.ANSWERED
    assert r.agent == "agent8005"
    first, second = r.visits
    assert (first.queue, first.outcome, second.queue, second.outcome) == (
        "property",
        "EXITWITHTIMEOUT",
        "intake",
        "CONNECT",
    )
    assert first.t_leave is not None
    assert 4000 <= first.t_leave - first.t_enter < 4100
    assert r.t_q == first.t_enter  # the first queue counts; the overflow is a transfer
    assert r.survey_score is None  # the caller hung up during the survey prompt


def test_refused_with_nobody_logged_in_becomes_a_callback() -> None:
    _, run = run_of("refused_no_agent")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.CALLBACK
    assert r.callback_number == "13912345678"
    assert [(v.queue, v.outcome) for v in r.visits] == [
        ("labour", "JOINEMPTY"),
        ("intake", "JOINEMPTY"),
        ("intake", "CALLBACK"),
    ]
    assert all(v.t_leave == v.t_enter for v in r.visits)  # refused at the door
    assert r.t_q == r.t_request  # counted in R from the moment it asked


def test_a_callback_chosen_at_the_offer() -> None:
    _, run = run_of("callback_at_offer")
    calls = by_caller(run)
    cb = calls["13912345678"]
    assert cb.end_reason is EndReason.CALLBACK
    assert [(v.queue, v.outcome) for v in cb.visits] == [("intake", "CALLBACK")]
    assert cb.recording == ""  # offered before MixMonitor started
    waiting = calls["13800138000"]
    assert waiting.end_reason is EndReason.ABANDONED_IN_QUEUE
    assert (waiting.tag, waiting.ivr_path) == ("suggestion", "language:1>main:4")


def test_a_caller_who_hangs_up_in_the_menus() -> None:
    _, run = run_of("ivr_hangup")
    (r,) = run.ended.values()
    assert r.end_reason is EndReason.IVR_ONLY
    assert (r.ivr_path, r.visits, r.t_q, r.t_request) == ("language:1", (), None, None)


def test_concurrent_calls_each_get_their_record() -> None:
    _, run = run_of("concurrent")
    calls = by_caller(run)
    assert {c: r.end_reason for c, r in calls.items()} == {
        "13800000001": EndReason.ANSWERED,
        "13800000002": EndReason.ANSWERED,
        "13800000003": EndReason.ANSWERED,
        "13800000004": EndReason.ABANDONED_IN_QUEUE,
    }
    assert calls["13800000002"].tag == "complaint"
    # whoever joined property third waited for an agent to finish (AGENT_TALK 4-6 s)
    waits = sorted(
        r.t_answer - r.t_q for r in calls.values() if r.t_answer is not None and r.t_q is not None
    )
    assert all(w < 100 for w in waits[:2])
    assert 3900 < waits[2] < 6100
    assert {r.agent for r in calls.values()} == {"王芳", "李娜", ""}


@pytest.mark.parametrize("name", NAMES)
def test_no_call_is_left_open_and_only_callers_are_calls(name: str) -> None:
    scenario, run = run_of(name)
    assert len(run.calls) == 0
    # only the IVR side (;2) of the Local channels: every call id ends in -i
    assert all(call_id.endswith("-i") for call_id in run.ended)
    logged = {line.callid for line in scenario.queue_log if line.callid not in ("NONE", "MANAGER")}
    assert logged <= set(run.ended)


@pytest.mark.parametrize("name", NAMES)
def test_records_agree_with_queue_log(name: str) -> None:
    scenario, run = run_of(name)
    for record in run.ended.values():
        check_against_queue_log(record, scenario)


def near(ms: int | None, seconds: str | int, slack: float = 1.0) -> bool:
    """An AMI time span in ms against queue_log's whole seconds."""
    return ms is not None and abs(ms / 1000 - int(seconds)) <= slack


def check_against_queue_log(r: CallRecord, scenario: Scenario) -> None:
    lines = scenario.log_of(r.call_id)
    entered = [
        v for v in r.visits if v.outcome not in ("JOINEMPTY", "JOINUNAVAIL", "FULL", "CALLBACK")
    ]
    enters = [line for line in lines if line.event == "ENTERQUEUE"]
    assert [e.queue for e in enters] == [v.queue for v in entered]
    for e, v in zip(enters, entered, strict=True):
        assert abs(e.epoch - v.t_enter / 1000) <= 1
    exits = [line for line in lines if line.event in ("CONNECT", "ABANDON", "EXITWITHTIMEOUT")]
    assert [(x.queue, x.event) for x in exits] == [(v.queue, v.outcome) for v in entered]
    for x, v in zip(exits, entered, strict=True):
        if x.event == "CONNECT":
            assert x.agent == r.agent
            assert r.t_answer is not None
            assert near(r.t_answer - v.t_enter, x.data[0])
        else:
            assert v.t_leave is not None
            assert near(v.t_leave - v.t_enter, x.data[2])
    for line in lines:
        if line.event in ("COMPLETEAGENT", "COMPLETECALLER"):
            assert r.completed_by == line.event.removeprefix("COMPLETE").lower()
            assert r.talk_end is not None
            assert r.t_answer is not None
            assert near(r.talk_end - r.t_answer, line.data[1])
    surveys = [line.data[0] for line in lines if line.event == "SURVEY"]
    assert surveys == ([str(r.survey_score)] if r.survey_score is not None else [])
    callbacks = [line.data[0] for line in lines if line.event == "CALLBACK"]
    assert callbacks == ([r.callback_number] if r.callback_number else [])
    no_answer = [(line.agent, int(line.data[0])) for line in lines if line.event == "RINGNOANSWER"]
    missed = [g for g in r.rings if not g.answered and g.t_end is not None]
    if r.end_reason is EndReason.ABANDONED_RINGING:
        assert [line.agent for line in lines if line.event == "RINGCANCELED"] == [
            g.agent for g in missed
        ]
    else:
        assert [a for a, _ in no_answer] == [g.agent for g in missed]
        for (_, ring_ms), g in zip(no_answer, missed, strict=True):
            assert g.t_end is not None
            assert abs(g.t_end - g.t_start - ring_ms) < 100


@pytest.mark.parametrize("name", ["abandoned_in_queue", "agent_pause_membership", "concurrent"])
def test_the_model_equals_asterisks_view_at_each_snapshot(name: str) -> None:
    """What the fault tests demand after a reconnect, on the real captures: the model built
    from events equals the one built from QueueStatus + CoreShowChannels taken then."""
    _, run = run_of(name)
    assert run.snapshots
    for snap in run.snapshots:
        assert snap.queues == []
        assert snap.agents == []
        assert snap.calls == snap.asterisk_calls
