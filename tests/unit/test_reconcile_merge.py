"""What the controller stores when queue_log completes a call (pure rules)."""

from __future__ import annotations

import dataclasses

from hotline.controller.outbox import Pending
from hotline.controller.reconcile import ReplayMark, merge
from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit, Source
from hotline.stores.live import Change

T = 1_795_563_000_000


def from_queue_log(**kw: object) -> CallRecord:
    base = CallRecord(
        call_id="c1",
        caller="13800138000",
        visits=(QueueVisit("intake", T, 1, T + 25_000, "CONNECT"),),
        t_answer=T + 25_000,
        agent="朱英8001",
        talk_end=T + 60_000,
        completed_by="agent",
        t_end=T + 60_000,
        end_reason=EndReason.ANSWERED,
        precision=Precision.SECOND,
        source=Source.QUEUE_LOG,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_a_call_the_controller_never_saw_is_stored_and_marked() -> None:
    stored = merge(None, from_queue_log())
    assert stored is not None
    assert stored.agent == "朱英8001"
    assert "from queue_log: the controller was away" in stored.notes


def test_a_call_followed_live_is_kept_as_ami_saw_it() -> None:
    ours = from_queue_log(precision=Precision.MILLISECOND, source=Source.AMI, t_answer=T + 25_123)
    assert merge(ours, from_queue_log()) is None


def test_a_vanished_call_gets_its_end_from_queue_log_and_keeps_the_ivr_facts() -> None:
    ours = CallRecord(
        call_id="c1",
        t_arrival=T - 9_000,
        ivr_path="language:1>main:4",
        recording="/srv/hotline/spool/recordings/x/c1",
        t_end=T + 5_000,
        end_reason=EndReason.VANISHED,
        notes=("channel gone at resync",),
    )
    stored = merge(ours, from_queue_log())
    assert stored is not None
    assert stored.end_reason is EndReason.ANSWERED
    assert (stored.agent, stored.t_answer) == ("朱英8001", T + 25_000)
    assert (stored.t_arrival, stored.ivr_path) == (T - 9_000, "language:1>main:4")
    assert stored.precision is Precision.SECOND


def test_a_call_adopted_at_resync_gets_its_answer_and_agent_from_queue_log() -> None:
    ours = from_queue_log(
        agent="",
        t_answer=T + 61_000,  # the resync's guess
        precision=Precision.MILLISECOND,
        source=Source.AMI,
        notes=("bridged at resync: answer time unknown",),
    )
    stored = merge(ours, from_queue_log())
    assert stored is not None
    assert (stored.agent, stored.t_answer, stored.end_reason) == (
        "朱英8001",
        T + 25_000,
        EndReason.ANSWERED,
    )


def test_an_unwritten_batch_goes_before_the_newer_one() -> None:
    older = Pending(live={("agent", "a"): Change("agent", "a", {"status": "busy"})})
    newer = Pending(live={("agent", "a"): Change("agent", "a", {"status": "ready"})})
    merged = older.merged_with(newer)
    assert merged.live[("agent", "a")].doc == {"status": "ready"}


def test_a_call_adopted_in_the_survey_gets_its_end_reason_from_queue_log() -> None:
    """kill -9 of the controller mid-call: at its resync the caller was past the queue (the
    survey), so AMI saw no queue at all and would store IVR_ONLY."""
    ours = CallRecord(
        call_id="c1",
        t_arrival=T - 20_000,
        t_end=T + 70_123,
        end_reason=EndReason.IVR_ONLY,
        notes=("seen first at resync: times to the second",),
    )
    stored = merge(ours, from_queue_log())
    assert stored is not None
    assert stored.end_reason is EndReason.ANSWERED
    assert (stored.agent, stored.completed_by, stored.t_answer) == ("朱英8001", "agent", T + 25_000)
    assert stored.t_end == T + 70_123  # AMI saw the hang-up
    assert merge(stored, from_queue_log()) is None  # the same lines read again change nothing


def test_a_call_the_pbx_cut_off_keeps_that_reason_and_gets_queue_log_s_end() -> None:
    ours = CallRecord(
        call_id="c1",
        t_arrival=T - 9_000,
        t_end=T + 300_000,  # the resync's clock
        end_reason=EndReason.PBX_DOWN,
        notes=("channel gone at resync", "the PBX restarted meanwhile"),
    )
    stored = merge(ours, from_queue_log(completed_by="caller"))
    assert stored is not None
    assert stored.end_reason is EndReason.PBX_DOWN
    assert (stored.t_answer, stored.t_end) == (T + 25_000, T + 60_000)


def test_the_replay_mark_is_the_first_line_of_the_oldest_open_call() -> None:
    mark = ReplayMark()
    assert mark.position(500) == 500
    mark.seen(["a", "b"], 100)
    mark.seen(["b", "c"], 300)  # b keeps its first batch
    assert mark.position(900) == 100
    mark.done("a")
    assert mark.position(900) == 100  # b
    mark.done("b")
    assert mark.position(900) == 300
    mark.rebase()  # the file was rotated: c is read again from the new file's start
    assert mark.position(40) == 0
    mark.done("c")
    assert mark.position(40) == 40


def test_a_call_cut_by_the_pbx_before_its_agent_complete_gets_queue_log_s_completion() -> None:
    """Asterisk restarted under calls: AMI had the Hangup (SoftHangupRequest Cause 4 before
    it), not the AgentComplete; queue_log wrote COMPLETEAGENT at the shutdown second."""
    ours = from_queue_log(
        t_answer=T + 25_123, talk_end=None, completed_by="", t_end=T + 60_880,
        end_reason=EndReason.PBX_DOWN, precision=Precision.MILLISECOND, source=Source.AMI,
        notes=("hung up by the PBX shutting down",),
    )  # fmt: skip
    stored = merge(ours, from_queue_log())
    assert stored is not None
    assert stored.end_reason is EndReason.PBX_DOWN
    assert (stored.completed_by, stored.talk_end) == ("agent", T + 60_000)
    assert (stored.t_answer, stored.t_end) == (T + 25_123, T + 60_880)
    assert stored.precision is Precision.SECOND
    assert "talk end from queue_log (seconds)" in stored.notes
    assert merge(stored, from_queue_log()) is None  # read again: nothing changes


def test_queue_log_s_talk_end_is_bounded_by_the_answer_and_the_hang_up() -> None:
    ours = from_queue_log(
        t_answer=T + 25_400, talk_end=None, completed_by="", t_end=T + 59_700,
        precision=Precision.MILLISECOND, source=Source.AMI,
    )  # fmt: skip
    late = merge(ours, from_queue_log(talk_end=T + 60_000, completed_by="caller"))
    assert late is not None
    assert late.talk_end == T + 59_700
    early = merge(ours, from_queue_log(talk_end=T + 25_000))
    assert early is not None
    assert early.talk_end == T + 25_400


def test_a_completion_ami_saw_is_kept() -> None:
    ours = from_queue_log(t_answer=T + 25_123, talk_end=T + 59_456, completed_by="caller",
                          precision=Precision.MILLISECOND, source=Source.AMI)  # fmt: skip
    assert merge(ours, from_queue_log()) is None


def lost_record() -> CallRecord:
    """An answered call closed as PBX_LOST: its end presumed when the PBX was last heard."""
    return from_queue_log(
        t_arrival=T - 9_000, ivr_path="1", t_answer=T + 25_123, talk_end=None, completed_by="",
        t_end=T + 40_000, end_reason=EndReason.PBX_LOST, precision=Precision.MILLISECOND,
        source=Source.AMI, notes=("its PBX was lost",),
    )  # fmt: skip


def test_a_call_closed_with_its_lost_pbx_gets_the_end_queue_log_proves() -> None:
    """The link was cut, the PBX went on: its queue_log says how the call ended."""
    stored = merge(lost_record(), from_queue_log(completed_by="caller"))
    assert stored is not None
    assert (stored.end_reason, stored.t_end) == (EndReason.ANSWERED, T + 60_000)
    assert (stored.completed_by, stored.talk_end) == ("caller", T + 60_000)
    assert (stored.t_arrival, stored.ivr_path) == (T - 9_000, "1")  # what AMI saw stays
    assert stored.precision is Precision.SECOND
    assert merge(stored, from_queue_log(completed_by="caller")) is None  # read again


def test_a_call_closed_with_its_lost_pbx_stays_so_while_queue_log_has_no_end() -> None:
    going = from_queue_log(talk_end=None, completed_by="", t_end=None, end_reason=None)
    assert merge(lost_record(), going) is None
