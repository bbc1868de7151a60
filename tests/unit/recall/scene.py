"""A morning of calls for the recall tests: two misses of one number, one of another, a
withheld number, a caller who got through later, and a served call."""

from __future__ import annotations

from hotline.core.records import CallRecord, EndReason, QueueVisit

T0 = 1_796_000_000_000  # 2026-12-01 09:33:20 Asia/Shanghai: opening hours
A, B, C = "13800000001", "13900000002", "13700000003"


def call(call_id: str, caller: str, start: int, waited: int, reason: EndReason,
         answered: bool = False, queue: str = "intake") -> CallRecord:  # fmt: skip
    t_q = start + 5_000
    end = t_q + waited + (60_000 if answered else 0)
    return CallRecord(
        call_id=call_id,
        caller=caller,
        t_arrival=start,
        t_request=t_q,
        visits=(QueueVisit(queue, t_q, 1, t_q + waited, "CONNECT" if answered else "ABANDON"),),
        t_answer=t_q + waited if answered else None,
        agent="王芳" if answered else "",
        t_end=end,
        end_reason=reason,
    )


def morning(t0: int = T0) -> list[CallRecord]:
    return [
        call("m1", A, t0, 120_000, EndReason.TIMEOUT),
        call("m2", A, t0 + 300_000, 40_000, EndReason.ABANDONED_IN_QUEUE),  # folds into A's
        call("m3", B, t0 + 400_000, 20_000, EndReason.ABANDONED_RINGING, queue="labour"),
        call("m4", "anonymous", t0 + 500_000, 90_000, EndReason.TIMEOUT),  # nobody to call
        call("m5", C, t0 + 600_000, 3_000, EndReason.ABANDONED_IN_QUEUE),  # gave up at once
        call("m6", C, t0 + 700_000, 8_000, EndReason.ANSWERED, answered=True),  # served
        call("m7", A, t0 + 900_000, 10_000, EndReason.ANSWERED, answered=True),  # got through
    ]


MORNING = morning()
