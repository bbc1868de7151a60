"""A team's shifts as windows of time (pure; the time zone is a parameter).

    shifts = Shifts(center.teams["team-a"].shifts, CHINA)
    shifts.at(t)                 # Window(name="evening", start=..., end=...)
    shifts.between(t0, t1)       # every window that overlaps [t0, t1]
    shifts.nearest_change(t)     # the shift start or end nearest to t (None: no shifts)

The day is cut at every shift start and end of the team, in local time; a stretch covered
by no shift is a window named ``off`` (a team-b agent working at noon still has limits per
stretch). A shift whose end is not after its start runs into the next day ("24:00" is
written 00:00). A team without shifts has one window a day, ``day``, midnight to midnight.
Shifts of one team should not overlap: where they do, the overlap is a window of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hotline.core.localtime import CHINA

__all__ = ["Shifts", "Window", "local_day"]

OFF = "off"
DAY = "day"


class _Shift(Protocol):
    """What is read of a shift (hotline.center.config.Shift has it)."""

    @property
    def name(self) -> str: ...
    @property
    def start(self) -> dt.time: ...
    @property
    def end(self) -> dt.time: ...


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    start: int  # ms
    end: int  # ms, exclusive

    def overlap(self, a: int, b: int) -> int:
        """How much of [a, b) falls in the window (ms)."""
        return max(0, min(b, self.end) - max(a, self.start))


def _ms(day: dt.date, time: dt.time, tz: dt.tzinfo) -> int:
    return int(dt.datetime.combine(day, time, tzinfo=tz).timestamp()) * 1000


def local_day(t: int, tz: dt.tzinfo) -> dt.date:
    """The local date of ``t`` (ms)."""
    return dt.datetime.fromtimestamp(t / 1000, tz).date()


class Shifts:
    """One team's windows; computed per local day and kept."""

    def __init__(self, shifts: Sequence[_Shift], tz: dt.tzinfo = CHINA) -> None:
        self.shifts = tuple(shifts)
        self.tz = tz
        self._days: dict[dt.date, tuple[list[int], list[tuple[int, int, str]]]] = {}

    def _around(self, day: dt.date) -> tuple[list[int], list[tuple[int, int, str]]]:
        """Boundaries and shift spans of ``day`` and the days either side."""
        got = self._days.get(day)
        if got is None:
            spans = []
            for d in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
                if not self.shifts:
                    spans.append((_ms(d, dt.time(0), self.tz), _ms(d, dt.time(0), self.tz), DAY))
                for s in self.shifts:
                    end_day = d if s.end > s.start else d + dt.timedelta(days=1)
                    spans.append((_ms(d, s.start, self.tz), _ms(end_day, s.end, self.tz), s.name))
            bounds = sorted({t for a, b, _ in spans for t in (a, b)})
            got = self._days[day] = (bounds, [s for s in spans if s[0] < s[1]])
            if len(self._days) > 64:  # a long audit walks forward: forget the oldest days
                del self._days[next(iter(self._days))]
        return got

    def at(self, t: int) -> Window:
        """The window ``t`` falls in."""
        bounds, spans = self._around(local_day(t, self.tz))
        start = max(b for b in bounds if b <= t)
        end = min(b for b in bounds if b > t)
        if not self.shifts:
            return Window(DAY, start, end)
        name = next((n for a, b, n in spans if a <= start < b), OFF)
        return Window(name, start, end)

    def between(self, t0: int, t1: int) -> list[Window]:
        """The windows that overlap [t0, t1], in order."""
        out = [self.at(t0)]
        while out[-1].end <= t1:
            out.append(self.at(out[-1].end))
        return out

    def nearest_change(self, t: int) -> int | None:
        """The shift start or end nearest ``t``; None for a team without shifts."""
        if not self.shifts:
            return None
        bounds, _ = self._around(local_day(t, self.tz))
        return min(bounds, key=lambda b: (abs(b - t), b))
