"""Epoch milliseconds shown in the centre's time zone, and durations, as text (pure).

    local(1795564385000, "Asia/Shanghai")          # datetime 2026-11-24 ... +08:00
    clock(1795564385412, Precision.MILLISECOND)    # "2026-11-24 10:33:05.412"
    clock(1795564385000, Precision.SECOND)         # "2026-11-24 10:33:05"
    duration(17208, Precision.MILLISECOND)         # "17.208 s"
    duration(17000, Precision.SECOND)              # "17 s"

Intervals (:func:`interval_key`) are cut in local time: a call queued at 23:59:59.999 on
one day and one at 00:00:00.000 on the next fall in different days whatever UTC says.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cache
from zoneinfo import ZoneInfo

from hotline.core.records import Precision

__all__ = [
    "GroupBy", "clock", "duration", "interval_end", "interval_key", "local", "parse_local", "zone",
]  # fmt: skip


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_local(text: str, tz: str, *, end: bool = False) -> int:
    """``YYYY-MM-DD`` (its start; with ``end``, the start of the next day) or an ISO time,
    local to ``tz`` unless it has an offset → epoch ms. ValueError names what to write."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if end:
                day += dt.timedelta(days=1)
            when = dt.datetime.combine(day, dt.time(), zone(tz))
        else:
            when = dt.datetime.fromisoformat(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=zone(tz))
    except ValueError:
        raise ValueError(f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]") from None
    return (when - _EPOCH) // dt.timedelta(milliseconds=1)


def local(ms: int, tz: str) -> dt.datetime:
    """Epoch ms → an aware datetime in ``tz`` (exact to the millisecond)."""
    seconds, rest = divmod(ms, 1000)
    base = dt.datetime.fromtimestamp(seconds, zone(tz))
    return base + dt.timedelta(milliseconds=rest)


def clock(ms: int, precision: Precision, tz: str, *, date: bool = True) -> str:
    """Local date and time; milliseconds only when the record has them."""
    t = local(ms, tz)
    text = t.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    if precision is Precision.MILLISECOND:
        text += f".{ms % 1000:03d}"
    return text


def duration(ms: int, precision: Precision) -> str:
    """A duration in seconds: "17.208 s" to the ms, "17 s" to the second."""
    if precision is Precision.SECOND:
        if ms % 1000 == 0:
            return f"{ms // 1000} s"
        return f"{ms / 1000:.1f} s"
    sign = "-" if ms < 0 else ""
    whole, rest = divmod(abs(ms), 1000)
    return f"{sign}{whole}.{rest:03d} s"


class GroupBy(Enum):
    """How a report is cut: by the call's first queue, its answering agent, or the local
    interval of its ``t_q``."""

    QUEUE = "queue"
    AGENT = "agent"
    TEAM = "team"
    PBX = "pbx"  # the PBX the call was on (a centre on several PBXs)
    MIN15 = "15min"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


def interval_key(ms: int, by: GroupBy, tz: str) -> str:
    """The local interval that contains ``ms``: "2026-11-24 10:15", "2026-11-24 10:00",
    "2026-11-24" or "2026-11"."""
    t = local(ms, tz)
    if by is GroupBy.MIN15:
        return t.strftime("%Y-%m-%d %H:") + f"{t.minute - t.minute % 15:02d}"
    if by is GroupBy.HOUR:
        return t.strftime("%Y-%m-%d %H:00")
    if by is GroupBy.DAY:
        return t.strftime("%Y-%m-%d")
    if by is GroupBy.MONTH:
        return t.strftime("%Y-%m")
    raise ValueError(f"{by} is not an interval")


def interval_end(ms: int, by: GroupBy, tz: str) -> int:
    """Epoch ms where the local interval containing ``ms`` ends (the next one starts)."""
    t = local(ms, tz).replace(microsecond=0)
    if by is GroupBy.MIN15:
        start = t.replace(minute=t.minute - t.minute % 15, second=0)
        nxt = start + dt.timedelta(minutes=15)
    elif by is GroupBy.HOUR:
        nxt = t.replace(minute=0, second=0) + dt.timedelta(hours=1)
    elif by is GroupBy.DAY:
        nxt = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time(), t.tzinfo)
    elif by is GroupBy.MONTH:
        year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
        nxt = dt.datetime(year, month, 1, tzinfo=t.tzinfo)
    else:
        raise ValueError(f"{by} is not an interval")
    # wall-clock arithmetic in the zone, then back to the epoch (exact: whole seconds)
    return int(nxt.replace(tzinfo=zone(tz)).timestamp()) * 1000
