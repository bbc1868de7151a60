"""限时办结: deadlines counted in working time, with holidays and make-up workdays (pure).

    cal = WorkCalendar(holidays=frozenset({date(2026, 10, 1)}), workdays=frozenset(...))
    deadline = cal.add(t_dispatched, Limit(3, "d"))      # epoch ms

A working day is Monday to Friday unless it is a holiday, and a weekend day listed as a
make-up workday (调休) works. Working time is ``start``..``end`` of a working day. A limit
in days is that many whole working days of working time (``3d`` from Tuesday 10:00 is
Friday 10:00); in hours, that many working hours. A step taken outside working time starts
counting at the next working start, and a deadline always lands on working time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from hotline.core.localtime import CHINA

__all__ = ["Limit", "WorkCalendar", "parse_limit"]

_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Limit:
    amount: int
    unit: str  # "d" working days, "h" working hours

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_limit(text: object) -> Limit | None:
    """``3d`` or ``4h`` (at least 1); None for anything else."""
    m = re.fullmatch(r"([1-9]\d{0,3})([dh])", str(text).strip())
    return Limit(int(m.group(1)), m.group(2)) if m else None


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()  # 调休: weekend days that work
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)

    @property
    def day_minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _at(self, day: dt.date, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, t, CHINA)

    def next_start(self, when: dt.datetime) -> dt.datetime:
        """WHEN if it is working time, else the next start of working time."""
        day = when.date()
        if self.is_workday(day) and self._at(day, self.start) <= when < self._at(day, self.end):
            return when
        if self.is_workday(day) and when < self._at(day, self.start):
            return self._at(day, self.start)
        for _ in range(3660):  # ten years of holidays at most
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                return self._at(day, self.start)
        raise ValueError("no working day within ten years: check the holidays")

    def add(self, t_ms: int, limit: Limit) -> int:
        """The deadline LIMIT after T_MS (epoch ms), in working time."""
        minutes = limit.amount * (self.day_minutes if limit.unit == "d" else 60)
        left = minutes * _MINUTE_MS
        when = dt.datetime.fromtimestamp(t_ms // 1000, CHINA)
        start = self.next_start(when)
        cur = t_ms if start == when else _ms(start)
        while True:
            day = dt.datetime.fromtimestamp(cur // 1000, CHINA).date()
            end = _ms(self._at(day, self.end))
            if left <= end - cur:
                return cur + left
            left -= end - cur
            cur = _ms(self.next_start(self._at(day, self.end)))

    def working(self, t_ms: int) -> bool:
        """Whether T_MS is in working time (a working day, start..end inclusive)."""
        when = dt.datetime.fromtimestamp(t_ms / 1000, CHINA)
        day = when.date()
        return self.is_workday(day) and self._at(day, self.start) <= when <= self._at(day, self.end)


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp()) * 1000
