"""Hand-made call records for the metrics tests: one builder per way a call ends."""

from __future__ import annotations

from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit, Ring, Source

T0 = 1_795_572_000_000
"""2026-11-25 10:00:00.000 Asia/Shanghai (02:00 UTC)."""
S = 1000
HOUR = 3_600_000
DAY = 86_400_000


def answered(
    call_id: str,
    wait: int,
    *,
    t_q: int = T0,
    queue: str = "labour",
    agent: str = "1007",
    talk: int | None = 60 * S,
    arrival: int | None = None,
    caller: str = "13800000001",
    survey: int | None = None,
    precision: Precision = Precision.MILLISECOND,
) -> CallRecord:
    t_answer = t_q + wait
    talk_end = t_answer + talk if talk is not None else None
    return CallRecord(
        call_id=call_id,
        caller=caller,
        t_arrival=arrival,
        visits=(QueueVisit(queue, t_q, 1, t_answer, "CONNECT"),),
        rings=(Ring(agent, t_answer - 2 * S, t_answer, answered=True),),
        t_answer=t_answer,
        agent=agent,
        talk_end=talk_end,
        completed_by="agent" if talk is not None else "",
        t_end=(talk_end or t_answer) + 5 * S,
        end_reason=EndReason.ANSWERED,
        survey_score=survey,
        precision=precision,
        source=Source.AMI if precision is Precision.MILLISECOND else Source.QUEUE_LOG,
    )


def abandoned(
    call_id: str,
    wait: int,
    *,
    t_q: int = T0,
    queue: str = "labour",
    ringing: bool = False,
    arrival: int | None = None,
    caller: str = "13800000002",
) -> CallRecord:
    left = t_q + wait
    return CallRecord(
        call_id=call_id,
        caller=caller,
        t_arrival=arrival,
        visits=(QueueVisit(queue, t_q, 1, left, "ABANDON"),),
        rings=(Ring("1008", left - 1 * S, left),) if ringing else (),
        t_end=left,
        end_reason=EndReason.ABANDONED_RINGING if ringing else EndReason.ABANDONED_IN_QUEUE,
    )


def timed_out(
    call_id: str, wait: int = 60 * S, *, t_q: int = T0, queue: str = "labour"
) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        caller="13800000003",
        visits=(QueueVisit(queue, t_q, 1, t_q + wait, "EXITWITHTIMEOUT"),),
        t_end=t_q + wait + S,
        end_reason=EndReason.TIMEOUT,
    )


def refused(
    call_id: str,
    *,
    t_q: int = T0,
    queue: str = "labour",
    outcome: str = "JOINEMPTY",
    callback: bool = False,
) -> CallRecord:
    visits = [QueueVisit(queue, t_q, 0, t_q, outcome)]
    if callback:
        visits.append(QueueVisit("intake", t_q + 2 * S, 0, t_q + 2 * S, "JOINEMPTY"))
    reason = {"JOINEMPTY": EndReason.REFUSED_NO_AGENT, "FULL": EndReason.REFUSED_FULL}[outcome]
    return CallRecord(
        call_id=call_id,
        caller="13800000004",
        t_request=t_q - 500,
        visits=tuple(visits),
        callback_number="13800000004" if callback else "",
        t_end=t_q + 10 * S,
        end_reason=EndReason.CALLBACK if callback else reason,
    )


def callback_at_offer(call_id: str, *, t_q: int = T0, caller: str = "") -> CallRecord:
    return CallRecord(
        call_id=call_id,
        caller=caller,
        t_request=t_q,
        visits=(QueueVisit("intake", t_q, 0, t_q, "CALLBACK"),),
        callback_number="13912345678",
        t_end=t_q + 8 * S,
        end_reason=EndReason.CALLBACK,
    )


def ivr_only(call_id: str, *, t: int = T0) -> CallRecord:
    return CallRecord(
        call_id=call_id, caller="13800000005", t_arrival=t, t_end=t + 9 * S,
        end_reason=EndReason.IVR_ONLY,
    )  # fmt: skip


def vanished(call_id: str, *, t_q: int = T0) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        caller="13800000006",
        t_arrival=t_q - 10 * S,
        visits=(QueueVisit("labour", t_q, 1),),
        t_end=t_q + 30 * S,
        end_reason=EndReason.VANISHED,
        notes=("channel gone at resync",),
    )
