"""Where an agent's logged-in time went, from the journal: one timeline for every report (pure).

    for seg in segments(changes, policy, start=t0, end=t1):   # one agent, journal order
        seg.activity        # Activity.TALK | ACW | PAUSED | READY
        seg.end - seg.start # ms, inside [t0, t1)
        seg.pause           # (reason, kind, episode) while PAUSED, else None
    acw_spans(changes)      # [(call_id, start, end)]: after-call work per call

The watchdog's shift report (示忙率, pauses by reason) and the metrics (AHT = talk +
after-call work, occupancy = (talk + ACW) / (talk + ACW + ready)) both read time from
here, so the two can never disagree about what an agent was doing.

Each moment an agent is logged in (a member of some queue, or talking) counts once, the first
that applies: talking (from AgentConnect to AgentComplete; a pause during a call counts as
talk), after-call work (from AgentComplete to the journal's ``wrap_up_end`` when nothing else
came between; queue_log has no wrap-up, so a timeline from it shows none), paused (every
queue the agent is in is paused; the reason of the latest pause), ready. Every segment is
clipped to [start, end): a pause across midnight is split between the days.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from hotline.agents.status import PausePolicy
from hotline.core.records import AgentChange

__all__ = ["Activity", "AcwSpan", "Pause", "Segment", "acw_spans", "segments"]


class Activity(Enum):
    TALK = "talk"
    ACW = "acw"  # 话后整理
    PAUSED = "paused"
    READY = "ready"  # 示闲: logged in, not paused, not on a call


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str  # as logged ("" when none was given)
    kind: str  # PauseKind value: busy, break, forced
    episode: int  # numbers each run of one pause (same reason and kind), across the window


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    activity: Activity
    pause: Pause | None = None

    @property
    def ms(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class AcwSpan:
    """After-call work that followed the talk of ``call_id``."""

    call_id: str
    start: int
    end: int


# what ends a wrap-up, if it comes before the wrap_up_end: then there was none to count
_AFTER_COMPLETE = ("wrap_up_end", "connect", "ring", "logout", "complete")


def acw_spans(changes: Sequence[AgentChange]) -> list[AcwSpan]:
    """After-call work of one agent: a complete followed by a wrap_up_end before anything
    else (``changes`` in time order)."""
    spans = []
    pending: AgentChange | None = None  # the complete whose next such entry is not seen yet
    for c in changes:
        if c.kind not in _AFTER_COMPLETE:
            continue
        if pending is not None and c.kind == "wrap_up_end":
            spans.append(AcwSpan(pending.call_id, pending.t, c.t))
        pending = c if c.kind == "complete" else None
    return spans


def segments(
    changes: Sequence[AgentChange], policy: PausePolicy, *, start: int, end: int
) -> Iterator[Segment]:
    """One agent's logged-in time in [start, end), in time order.

    ``changes``: that agent's journal in time order, from before ``start`` (so the state at
    ``start`` is known: from the last login at least) up to ``end``.
    """
    acw = acw_spans(changes)
    acw_starts = [s.start for s in acw]
    members: dict[str, tuple[bool, str, int]] = {}  # queue -> paused, reason, since
    talking = False
    current: tuple[str, str] | None = None  # (reason, kind) of the pause in progress
    episode = 0
    # an after-call work span starts and ends at entries (complete, wrap_up_end): no points
    points = sorted({c.t for c in changes} | {start, end})
    i = 0
    for a, b in itertools.pairwise(points):
        while i < len(changes) and changes[i].t <= a:
            c = changes[i]
            i += 1
            if c.kind == "login":
                members[c.queue] = (False, "", c.t)
            elif c.kind == "logout":
                for q in [c.queue] if c.queue else list(members):
                    members.pop(q, None)
            elif c.kind in ("pause", "unpause"):
                for q in [c.queue] if c.queue or not members else list(members):
                    members[q] = (c.kind == "pause", c.reason if c.kind == "pause" else "", c.t)
            elif c.kind == "connect":
                talking = True
            elif c.kind == "complete":
                talking = False
        pause = None
        if members and all(m[0] for m in members.values()):
            reason = max(members.values(), key=lambda m: m[2])[1]
            pause = (reason, policy.kind(True, reason, None).value)
        if pause != current:
            current = pause
            episode += 1
        lo, hi = max(a, start), min(b, end)
        if hi <= lo or not (members or talking):
            continue
        if talking:
            yield Segment(lo, hi, Activity.TALK)
        elif _inside(acw, acw_starts, lo, hi):
            yield Segment(lo, hi, Activity.ACW)
        elif pause is not None:
            yield Segment(lo, hi, Activity.PAUSED, Pause(pause[0], pause[1], episode))
        else:
            yield Segment(lo, hi, Activity.READY)


def _inside(spans: list[AcwSpan], starts: list[int], lo: int, hi: int) -> bool:
    """Whether [lo, hi) lies in one of ``spans`` (sorted by start, not overlapping)."""
    k = bisect.bisect_right(starts, lo) - 1
    return k >= 0 and spans[k].start <= lo and hi <= spans[k].end
