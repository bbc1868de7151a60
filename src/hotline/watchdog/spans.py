"""When a sum of time spans in a window reaches a limit (pure arithmetic on ms).

The per-shift rules ask "when did 示忙 in this shift reach 30 min" and "when did 示忙
reach 15 % of the time logged in, once logged in an hour". Between two journal entries
nothing changes, so both have an exact answer: the crossing time. An open span (end None)
is taken to go on, so the answer may lie ahead; the engine wakes up then, and asks again
if the span closed first.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hotline.watchdog.shifts import Window

__all__ = ["reach", "share_reach", "total"]

Spans = Sequence[Sequence[int | None]]  # [start, end]; end None: open
_FOREVER = 1 << 62


def _clip(spans: Spans, window: Window) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        lo = max(start or 0, window.start)
        hi = min(_FOREVER if end is None else end, window.end)
        if hi > lo:
            out.append((lo, hi))
    out.sort()
    return out


def total(spans: Spans, window: Window, upto: int) -> int:
    """How much of ``spans`` falls in ``window`` before ``upto``."""
    return sum(max(0, min(hi, upto) - lo) for lo, hi in _clip(spans, window))


def reach(spans: Spans, window: Window, limit: int) -> int | None:
    """When the spans in ``window`` add up to ``limit`` (None: they do not, in it)."""
    acc = 0
    for lo, hi in _clip(spans, window):
        if acc + (hi - lo) >= limit:
            return lo + max(0, limit - acc)
        acc += hi - lo
    return None


def share_reach(busy: Spans, login: Spans, window: Window, permille: int, after: int) -> int | None:
    """First time in ``window`` with busy ≥ permille/1000 of login and login ≥ ``after``.

    Both sums run from the window's start; between breakpoints they grow at 0 or 1 ms per
    ms, so each piece is solved in closed form.
    """
    after = max(after, 1)  # a share of no time at all is no share
    b_spans, l_spans = _clip(busy, window), _clip(login, window)
    points = sorted({window.start, window.end} | {t for s in (*b_spans, *l_spans) for t in s})
    b_acc = l_acc = 0
    for a, z in itertools.pairwise(points):
        db = int(any(lo <= a < hi for lo, hi in b_spans))
        dl = int(any(lo <= a < hi for lo, hi in l_spans))
        found = _solve(a, z, b_acc, l_acc, db, dl, permille, after)
        if found is not None:
            return found
        b_acc += db * (z - a)
        l_acc += dl * (z - a)
    return None


def _solve(
    a: int, z: int, b0: int, l0: int, db: int, dl: int, permille: int, after: int
) -> int | None:
    """Earliest t in [a, z] with L(t) ≥ after and 1000·B(t) ≥ permille·L(t)."""
    if l0 >= after:
        t_login = a
    elif dl:
        t_login = a + (after - l0)
    else:
        return None
    g0 = 1000 * b0 - permille * l0
    slope = 1000 * db - permille * dl
    if g0 >= 0:
        ok_from = a
        ok_until = _FOREVER if slope >= 0 else a + g0 // -slope
    elif slope > 0:
        ok_from = a + -(g0 // slope)  # ceil(-g0 / slope)
        ok_until = _FOREVER
    else:
        return None
    t = max(t_login, ok_from)
    return t if t <= min(z, ok_until) else None
