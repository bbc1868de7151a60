"""The queue_log of every scenario recorded on the real Asterisk 22 (tests/fixtures/ami/
scenarios/*.queue_log): every line parses, every call makes a plausible record, and the
counts agree with the lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hotline.core.records import CallRecord, EndReason, Precision, Source
from hotline.queuelog import ParseProblem, QueueLogEntry, build, counts
from hotline.queuelog.agents import NOT_A_CALL
from hotline.queuelog.calls import CALL_EVENTS

from .fixtures import CAPTURES, parsed

FILES = sorted(CAPTURES.glob("*.queue_log")) if CAPTURES.is_dir() else []

# What the scenario of that name must contain (names the recorder uses; others: no check).
EXPECTED = {
    "abandoned_in_queue": {EndReason.ABANDONED_IN_QUEUE},
    "abandoned_ringing": {EndReason.ABANDONED_RINGING},
    "answered_agent_hangs_up": {EndReason.ANSWERED},
    "answered_caller_hangs_up": {EndReason.ANSWERED},
    "ring_no_answer_then_answered": {EndReason.ANSWERED},
    "timeout_overflow": {EndReason.ANSWERED},
    "refused_no_agent": {EndReason.CALLBACK},
    "callback_at_offer": {EndReason.CALLBACK},
}


def plausible(record: CallRecord) -> None:
    assert record.call_id
    assert (record.precision, record.source) == (Precision.SECOND, Source.QUEUE_LOG)
    assert record.visits, "every call line belongs to a visit"
    times = []
    for visit in record.visits:
        assert visit.queue
        if visit.t_leave is not None:
            assert visit.t_enter <= visit.t_leave
            times.append(visit.t_leave)
        times.append(visit.t_enter)
    for ring in record.rings:
        assert ring.agent
        assert ring.t_end is not None
        assert ring.t_start <= ring.t_end
    if record.t_answer is not None:
        assert record.t_q is not None
        assert record.t_q <= record.t_answer
        assert record.agent
    if record.talk_end is not None:
        assert record.t_answer is not None
        assert record.t_answer <= record.talk_end
        assert record.completed_by in ("agent", "caller", "transfer")
    if record.done:
        assert record.t_end is not None
        assert record.t_end >= max(times)
    else:
        assert record.t_end is None


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_real_capture(path: Path) -> None:
    items = parsed(path)
    assert [item for item in items if isinstance(item, ParseProblem)] == []
    lines = [item for item in items if isinstance(item, QueueLogEntry)]
    built = build(lines)

    call_ids = {e.callid for e in lines if e.event in CALL_EVENTS and e.callid not in NOT_A_CALL}
    assert {c.call_id for c in built.calls} == call_ids
    for record in built.calls:
        plausible(record)
    assert build(lines + lines).calls == built.calls

    per_queue = counts(built.calls)
    written = Counter((e.queue, e.event) for e in lines)
    for queue, row in per_queue.items():
        assert row.answered == written[queue, "CONNECT"]
        assert row.timeout == written[queue, "EXITWITHTIMEOUT"]
        assert row.leave_empty == written[queue, "EXITEMPTY"]
        assert row.abandoned <= written[queue, "ABANDON"]  # app_queue may write one twice

    expected = EXPECTED.get(path.stem)
    if expected is not None:
        assert expected <= {c.end_reason for c in built.calls}
