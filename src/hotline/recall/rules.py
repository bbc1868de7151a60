"""The centre's recall rules: which unserved callers are owed a call back, and by when (pure).

Configured in center.yaml (``recall:``)::

    recall:
      min_wait_seconds: 10        # a caller who gave up in the queue sooner is not recalled
      deadlines:                  # by the local time the caller was missed
        - {from: "08:00", to: "20:00", within_minutes: 30}
      otherwise_by: "10:00"       # missed outside every window: by this time the next morning
      attempts: 3                 # dialled at most this many times
      retry_minutes: [10, 30]     # waits between attempts (the last one repeats)
      give_up_hours: 72           # an open task older than this past its deadline expires

    rules = center.recall
    rules.deadline(t_missed)      # epoch ms
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from hotline.core.localtime import CHINA
from hotline.core.reader import Fail, Reader

__all__ = ["RecallRules", "Window", "load_recall"]

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Window:
    """Missed between ``start`` and ``end`` (local, end excluded; end <= start wraps past
    midnight): recalled within ``within_ms``."""

    start: dt.time
    end: dt.time
    within_ms: int

    def holds(self, at: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


@dataclass(frozen=True, slots=True)
class RecallRules:
    min_wait_ms: int = 10_000
    windows: tuple[Window, ...] = field(
        default_factory=lambda: (Window(dt.time(8, 0), dt.time(20, 0), 30 * MINUTE_MS),)
    )
    otherwise_by: dt.time = dt.time(10, 0)
    attempts: int = 3
    retry_ms: tuple[int, ...] = (10 * MINUTE_MS, 30 * MINUTE_MS)
    give_up_ms: int = 72 * HOUR_MS

    def deadline(self, t_missed: int) -> int:
        """By when a caller missed at ``t_missed`` (epoch ms) is to be called back: within a
        window's time if the miss falls in one (the first that holds), else at
        ``otherwise_by`` on the next local day whose clock passes it after the miss."""
        local = dt.datetime.fromtimestamp(t_missed / 1000, CHINA)
        for w in self.windows:
            if w.holds(local.time()):
                return t_missed + w.within_ms
        by = local.replace(
            hour=self.otherwise_by.hour,
            minute=self.otherwise_by.minute,
            second=0,
            microsecond=0,
        )
        if by <= local:
            by += dt.timedelta(days=1)
        return int(by.timestamp() * 1000)

    def retry_after(self, attempts_made: int) -> int | None:
        """The wait (ms) after the ``attempts_made``-th failed attempt; None: no more."""
        if attempts_made >= self.attempts:
            return None
        if not self.retry_ms:
            return 0
        return self.retry_ms[min(attempts_made, len(self.retry_ms)) - 1]


def _clock(r: Reader, node: str, value: object) -> dt.time | None:
    m = re.fullmatch(r"(\d\d):(\d\d)", str(value))
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return dt.time(int(m.group(1)), int(m.group(2)))
    r.fail(node, f"{value!r}: write a local time as HH:MM")
    return None


KEYS = {"min_wait_seconds", "deadlines", "otherwise_by", "attempts", "retry_minutes",
        "give_up_hours"}  # fmt: skip


def load_recall(raw: Any, fail: Fail) -> RecallRules:
    """The ``recall:`` section (None: the defaults); every problem goes to ``fail``."""
    r = Reader(fail)
    section = r.section("recall", raw, KEYS)
    base = RecallRules()
    wait = r.get("recall", section, "min_wait_seconds", int, base.min_wait_ms // 1000)
    attempts = r.get("recall", section, "attempts", int, base.attempts)
    give_up = r.get("recall", section, "give_up_hours", int, base.give_up_ms // HOUR_MS)
    ok = r.number("recall.min_wait_seconds", wait, 0, 3600)
    ok = r.number("recall.attempts", attempts, 1, 20) and ok
    ok = r.number("recall.give_up_hours", give_up, 1, 24 * 30) and ok
    windows = base.windows
    if "deadlines" in section:
        windows = ()
        for i, spec in enumerate(r.items("recall.deadlines", section["deadlines"])):
            node = f"recall.deadlines.{i}"
            spec = r.mapping(node, spec, {"from", "to", "within_minutes"})
            start = _clock(r, f"{node}.from", spec.get("from"))
            end = _clock(r, f"{node}.to", spec.get("to"))
            within = r.get(node, spec, "within_minutes", int)
            if start == end and start is not None:
                r.fail(node, "from and to are the same time: an empty window")
            elif (
                start
                and end
                and within is not None
                and r.number(f"{node}.within_minutes", within, 1, 7 * 24 * 60)
            ):
                windows += (Window(start, end, within * MINUTE_MS),)
    by = base.otherwise_by
    if "otherwise_by" in section:
        by = _clock(r, "recall.otherwise_by", section["otherwise_by"]) or by
    retry = base.retry_ms
    if "retry_minutes" in section:
        given = r.items("recall.retry_minutes", section["retry_minutes"])
        retry = ()
        for i, m in enumerate(given):
            if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 24 * 60:
                r.fail(f"recall.retry_minutes.{i}", f"{m!r}: minutes between 1 and 1440")
            else:
                retry += (m * MINUTE_MS,)
    if not ok or wait is None or attempts is None or give_up is None:
        return base
    return RecallRules(wait * 1000, windows, by, attempts, retry, give_up * HOUR_MS)
