"""Lines → call records: the docs/platform.md lines, a synthetic day with every event, overflow,
order and repeats, and the per-queue counts the reconciliation compares."""

from __future__ import annotations

import random

import pytest

from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit, Ring, Source
from hotline.queuelog import QueueCounts, QueueLogEntry, build, call_record, counts, parse_line

from .fixtures import QUEUE_LOG, T0, entries, ms

DAY = QUEUE_LOG / "synthetic_day.queue_log"


def line(text: str) -> QueueLogEntry:
    entry = parse_line(text)
    assert isinstance(entry, QueueLogEntry)
    return entry


def calls_by_id(lines: list[QueueLogEntry]) -> dict[str, CallRecord]:
    return {call.call_id: call for call in build(lines).calls}


@pytest.fixture(scope="module")
def day() -> dict[str, CallRecord]:
    return calls_by_id(entries(DAY))


def call(day: dict[str, CallRecord], n: int) -> CallRecord:
    return day[f"{T0}.{n}"]


# -- the queue_log lines of docs/platform.md -------------------------------------------------


def test_field_notes_calls() -> None:
    calls = calls_by_id(entries(QUEUE_LOG / "field_notes.queue_log"))
    assert sorted(calls) == ["1795463379.1", "1795463395.5", "1795463404.9", "1795465525.142"]

    answered = calls["1795463379.1"]
    assert answered.end_reason is EndReason.ANSWERED
    assert answered.visits == (QueueVisit("property", 1795463384000, 1, 1795463384000, "CONNECT"),)
    assert answered.t_q == answered.t_answer == 1795463384000
    assert (answered.agent, answered.caller) == ("agentspeak", "13800000001")
    assert (answered.talk_end, answered.completed_by) == (1795463391000, "agent")
    assert answered.rings == (Ring("agentspeak", 1795463384000, 1795463384000, True),)
    assert (answered.precision, answered.source) == (Precision.SECOND, Source.QUEUE_LOG)
    assert answered.notes == ()

    # its ENTERQUEUE and RINGNOANSWER came before the excerpt: inferred from the waits
    timeout = calls["1795463395.5"]
    assert timeout.end_reason is EndReason.TIMEOUT
    assert timeout.visits == (
        QueueVisit("sales", 1795463397000, 1, 1795463403000, "EXITWITHTIMEOUT"),
    )
    assert timeout.rings == (Ring("agentnoans", 1795463397000, 1795463400000, False),)
    assert any("inferred" in note for note in timeout.notes)

    abandoned = calls["1795463404.9"]
    assert abandoned.end_reason is EndReason.ABANDONED_IN_QUEUE
    assert abandoned.visits == (QueueVisit("sales", 1795463406000, 1, 1795463408000, "ABANDON"),)

    # COMPLETECALLER alone: answered 3 s before, after 0 s in the queue
    late = calls["1795465525.142"]
    assert late.end_reason is EndReason.ANSWERED
    assert late.t_answer == late.t_q == 1795465527000
    assert (late.talk_end, late.completed_by) == (1795465530000, "caller")


# -- a synthetic day with every event ------------------------------------------------------

EXPECTED = [
    # n, end reason, first queue, t_q, t_answer, agent, completed_by (offsets from T0)
    (1, EndReason.ANSWERED, "labour", 100, 118, "王芳", "agent"),
    (2, EndReason.ANSWERED, "property", 200, 244, "张伟", "caller"),
    (4, EndReason.ABANDONED_RINGING, "labour", 310, None, "", ""),
    (5, EndReason.ABANDONED_IN_QUEUE, "labour", 320, None, "", ""),
    (6, EndReason.CALLBACK, "property", 400, None, "", ""),
    (8, EndReason.CALLBACK, "intake", 470, None, "", ""),
    (9, EndReason.LEAVE_EMPTY, "operator", 500, None, "", ""),
    (10, EndReason.LEFT_WITH_KEY, "intake", 520, None, "", ""),
    (11, EndReason.WITHDRAWN, "intake", 540, None, "", ""),
    (12, EndReason.FAILED, "labour", 600, None, "", ""),
    (13, EndReason.ANSWERED, "labour", 610, 620, "王芳", "transfer"),
    (16, EndReason.ABANDONED_RINGING, "property", 700, None, "", ""),
    (17, EndReason.ANSWERED, "intake", 800, 801, "张伟", "transfer"),
    (19, EndReason.ANSWERED, "intake", 910, 912, "张伟", "transfer"),
    (21, EndReason.REFUSED_NO_AGENT, "operator", 960, None, "", ""),
    (22, None, "labour", 3000, None, "", ""),
    (23, None, "property", 3005, 3007, "王芳", ""),
]


@pytest.mark.parametrize(("n", "reason", "queue", "t_q", "t_answer", "agent", "by"), EXPECTED)
def test_synthetic_day_call(
    day: dict[str, CallRecord],
    n: int,
    reason: EndReason | None,
    queue: str,
    t_q: int,
    t_answer: int | None,
    agent: str,
    by: str,
) -> None:
    record = call(day, n)
    assert record.end_reason is reason
    assert record.done is (reason is not None)
    assert (record.first_queue, record.t_q) == (queue, ms(t_q))
    assert record.t_answer == (None if t_answer is None else ms(t_answer))
    assert (record.agent, record.completed_by) == (agent, by)
    assert record.t_end is None if reason is None else record.t_end is not None


def test_the_day_has_exactly_the_expected_calls(day: dict[str, CallRecord]) -> None:
    assert sorted(day) == sorted(f"{T0}.{row[0]}" for row in EXPECTED)


def test_ring_no_answer_then_answer_and_the_survey(day: dict[str, CallRecord]) -> None:
    record = call(day, 1)
    assert record.rings == (
        Ring("李娜", ms(100), ms(115), False),  # RINGNOANSWER 15000 ms
        Ring("王芳", ms(115), ms(118), True),  # CONNECT ringtime 3 s
    )
    assert (record.caller, record.caller_name) == ("13800000001", "张三")  # log-caller-id-name
    assert record.survey_score == 5
    assert record.t_end == ms(185)  # the SURVEY: the caller stayed on after the agent left


def test_overflow_is_one_call_with_two_visits(day: dict[str, CallRecord]) -> None:
    record = call(day, 2)
    assert record.visits == (
        QueueVisit("property", ms(200), 1, ms(230), "EXITWITHTIMEOUT"),
        QueueVisit("intake", ms(230), 1, ms(244), "CONNECT"),
    )
    assert record.t_answer is not None
    assert record.t_q is not None
    assert record.t_answer - record.t_q == 44_000  # from the first queue, not the second


def test_abandon_after_ring_canceled_is_abandoned_ringing(day: dict[str, CallRecord]) -> None:
    record = call(day, 4)
    assert record.rings == (Ring("王芳", ms(312), ms(316), False),)
    assert call(day, 5).end_reason is EndReason.ABANDONED_IN_QUEUE  # no ring canceled


def test_callbacks(day: dict[str, CallRecord]) -> None:
    after_timeout = call(day, 6)
    assert after_timeout.callback_number == "13800000005"
    assert [v.outcome for v in after_timeout.visits] == ["EXITWITHTIMEOUT"]
    at_the_offer = call(day, 8)  # no ENTERQUEUE: a zero-length visit, so the call is in R
    assert at_the_offer.visits == (QueueVisit("intake", ms(470), 0, ms(470), "CALLBACK"),)
    assert at_the_offer.caller == at_the_offer.callback_number == "13800000006"


def test_repeated_closes_count_once(day: dict[str, CallRecord]) -> None:
    syscompat = call(day, 12)
    assert [v.outcome for v in syscompat.visits] == ["SYSCOMPAT"]
    assert any("repeats" in note for note in syscompat.notes)
    double_abandon = call(day, 16)
    assert [v.outcome for v in double_abandon.visits] == ["ABANDON"]
    assert any("王芳" in note for note in double_abandon.notes)


def test_transfers_end_the_talk(day: dict[str, CallRecord]) -> None:
    blind = call(day, 13)
    assert blind.talk_end == ms(680)
    assert Ring("李娜", ms(613), ms(613), False) in blind.rings  # AGENTDUMP
    attended = call(day, 17)
    assert attended.talk_end == ms(900)
    assert any("LINK|" in note for note in attended.notes)


def test_open_calls_stay_open(day: dict[str, CallRecord]) -> None:
    waiting, talking = call(day, 22), call(day, 23)
    assert waiting.visits == (QueueVisit("labour", ms(3000), 1, None, ""),)
    assert (talking.t_answer, talking.talk_end) == (ms(3007), None)


def test_counts_per_queue(day: dict[str, CallRecord]) -> None:
    assert counts(day.values()) == {
        "intake": QueueCounts(
            "intake", visits=6, answered=3, left_with_key=1, withdrawn=1, callback=1
        ),
        "labour": QueueCounts(
            "labour", visits=6, answered=2, abandoned=2, abandoned_ringing=1, failed=1, waiting=1
        ),
        "operator": QueueCounts("operator", visits=2, leave_empty=1, refused=1),
        "property": QueueCounts(
            "property", visits=4, answered=1, abandoned=1, abandoned_ringing=1, timeout=2
        ),
    }


def test_counts_take_records_from_either_source() -> None:
    from_ami = CallRecord(
        "x",
        visits=(QueueVisit("labour", 1, 0, 2, "TRANSFER"), QueueVisit("labour", 3, 0, 4, "FULL")),
    )
    assert counts([from_ami]) == {"labour": QueueCounts("labour", visits=2, refused=1, other=1)}


def test_other_lines_are_counted() -> None:
    built = build(entries(DAY))
    assert built.other == {
        "QUEUESTART": 1,
        "CONFIGRELOAD": 1,
        "PENALTY": 1,
        "RINGINUSE": 1,
        "PAUSEALL": 1,
        "UNPAUSEALL": 2,
        "HOTLINENOTE": 1,  # a custom QueueLog() event of a call
    }


# -- order and repeats ---------------------------------------------------------------------


def test_the_same_lines_twice_make_the_same_records() -> None:
    lines = entries(DAY)
    once = build(lines)
    twice = build(lines + entries(DAY))
    assert twice.calls == once.calls
    assert twice.agent_changes == once.agent_changes
    assert twice.other == once.other
    assert twice.repeats == len(lines)


@pytest.mark.parametrize("seed", range(5))
def test_any_order_makes_the_same_records(seed: int) -> None:
    lines = entries(DAY)
    shuffled = lines[:]
    random.Random(seed).shuffle(shuffled)
    assert build(shuffled).calls == build(lines).calls


@pytest.mark.parametrize("seed", range(5))
def test_the_journal_keeps_the_file_order_within_a_second(seed: int) -> None:
    # UNPAUSE then PAUSE in one second (seen on Asterisk 22) must stay in that order: the
    # journal sorts by time and keeps arrival order inside a second
    seconds: dict[int, list[QueueLogEntry]] = {}
    for e in entries(DAY):
        seconds.setdefault(e.t, []).append(e)
    groups = list(seconds.values())
    random.Random(seed).shuffle(groups)
    shuffled = [e for group in groups for e in group]
    assert build(shuffled).agent_changes == build(entries(DAY)).agent_changes


def test_pause_and_unpause_in_one_second_keep_their_order() -> None:
    unpause = line("1795563661|NONE|labour|王芳|UNPAUSE|回来了")
    pause = line("1795563661|NONE|labour|王芳|PAUSE|示忙")
    kinds = [c.kind for c in build([unpause, pause]).agent_changes]
    assert kinds == ["unpause", "pause"]


def test_an_overflow_in_one_second_in_either_order() -> None:
    lines = [
        line("1795536200|c|property|NONE|ENTERQUEUE||1|1"),
        line("1795536230|c|property|NONE|EXITWITHTIMEOUT|1|1|30"),
        line("1795536230|c|intake|NONE|ENTERQUEUE||1|1"),
    ]
    for order in (lines, [lines[0], lines[2], lines[1]], lines[::-1]):
        record = call_record("c", order)
        assert [(v.queue, v.outcome) for v in record.visits] == [
            ("property", "EXITWITHTIMEOUT"),
            ("intake", ""),
        ]
        assert record.end_reason is None  # waiting in intake


def test_wait_on_reenters_the_same_queue() -> None:
    lines = [
        line("1795536200|c|property|NONE|ENTERQUEUE||1|1"),
        line("1795536260|c|property|NONE|EXITWITHTIMEOUT|1|1|60"),
        line("1795536260|c|property|NONE|ENTERQUEUE||1|1"),
        line("1795536270|c|property|NONE|ABANDON|1|1|10"),
    ]
    record = call_record("c", lines[::-1])
    assert [(v.t_enter, v.outcome) for v in record.visits] == [
        (1795536200000, "EXITWITHTIMEOUT"),
        (1795536260000, "ABANDON"),
    ]
    assert record.end_reason is EndReason.ABANDONED_IN_QUEUE


def test_a_timeout_reopens_when_the_next_queue_shows_up() -> None:
    first = [
        line("1795536200|c|property|NONE|ENTERQUEUE||1|1"),
        line("1795536230|c|property|NONE|EXITWITHTIMEOUT|1|1|30"),
    ]
    assert call_record("c", first).end_reason is EndReason.TIMEOUT
    more = [*first, line("1795536231|c|intake|NONE|ENTERQUEUE||1|1")]
    assert call_record("c", more).end_reason is None


def test_a_survey_score_out_of_range_is_noted_not_kept() -> None:
    lines = [
        line("1795536100|c|labour|NONE|ENTERQUEUE||1|1"),
        line("1795536101|c|labour|a|CONNECT|1|x.2|0"),
        line("1795536160|c|labour|a|COMPLETEAGENT|1|59|1"),
        line("1795536165|c|labour|NONE|SURVEY|9"),
    ]
    record = call_record("c", lines)
    assert record.survey_score is None
    assert any("9" in note for note in record.notes)


def test_a_completion_without_connect_infers_the_answer() -> None:
    record = call_record("c", [line("1795536200|c|labour|王芳|COMPLETEAGENT|12|60|2")])
    assert record.visits == (QueueVisit("labour", 1795536128000, 2, 1795536140000, "CONNECT"),)
    assert (record.t_answer, record.agent) == (1795536140000, "王芳")
    assert record.end_reason is EndReason.ANSWERED


def test_a_call_of_only_a_survey_is_not_done() -> None:
    record = call_record("c", [line("1795536200|c|labour|NONE|SURVEY|4")])
    assert (record.visits, record.end_reason, record.survey_score) == ((), None, 4)


def test_a_truncated_call_line_does_not_crash() -> None:
    lines = [
        line("1795536100|c|labour|NONE|ENTERQUEUE"),
        line("1795536101|c|labour|a|CONNECT"),
        line("1795536102|c|labour|a|COMPLETEAGENT|1"),
        line("1795536103|c|labour|a|ATTENDEDTRANSFER|APP"),
    ]
    record = call_record("c", lines)
    assert record.t_answer == 1795536101000
