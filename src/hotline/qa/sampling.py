"""Which calls quality inspectors review: a share of each agent's calls per week, plus every
flagged call (pure).

    picks = sample(calls, flagged={"c7"}, cfg=center.qa.sampling, seed=7)

Deterministic: a call's place in its agent's draw is the SHA-256 of ``seed:call_id``, so
the same calls, seed and share give the same sample on any machine, and a call added later
to the week does not reshuffle the others. Each agent gets ``ceil(share × calls)`` of their
calls, at least ``min_per_agent`` (or all of them when they had fewer). Weeks are ISO weeks
in the centre's zone (``2026-W49``, Monday 00:00 to Monday 00:00, UTC+8).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from hotline.core.localtime import CHINA, DAY_MS

__all__ = [
    "Pick", "SampledCall", "SamplingConfig", "sample", "week_bounds", "week_of", "weeks_from",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    share: float = 0.05  # of each agent's calls in a week
    min_per_agent: int = 2
    flagged: bool = True  # every flagged call is reviewed too


@dataclass(frozen=True, slots=True)
class SampledCall:
    """A call that can be sampled: answered by an agent."""

    call_id: str
    agent: str
    t: int  # epoch ms (answered, or arrived)


@dataclass(frozen=True, slots=True)
class Pick:
    call_id: str
    agent: str
    reason: str  # "share" (drawn) or "flagged"


def week_of(ms: int) -> str:
    """The ISO week of MS in the centre's zone: ``2026-W49``."""
    year, week, _ = dt.datetime.fromtimestamp(ms / 1000, CHINA).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[int, int]:
    """[start, end) of WEEK (``YYYY-Www``) in epoch ms; ValueError for another form."""
    m = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if not m:
        raise ValueError(f"{week!r}: write a week as YYYY-Www (2026-W49)")
    try:
        monday = dt.datetime.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValueError(f"{week!r}: no such week") from None
    start = int(monday.replace(tzinfo=CHINA).timestamp() * 1000)
    return start, start + 7 * DAY_MS


def weeks_from(first: str, last: str, *, most: int = 53) -> list[str]:
    """Every week from FIRST to LAST, both included (``2026-W45`` … ``2026-W49``).

    ValueError for a week not written ``YYYY-Www``, LAST before FIRST, or more than MOST
    weeks (a report over years is the CLI's job, in JSON).
    """
    start, _ = week_bounds(first)
    end, _ = week_bounds(last)
    if end < start:
        raise ValueError(f"{last} is before {first}")
    count = (end - start) // (7 * DAY_MS) + 1
    if count > most:
        raise ValueError(f"{first} to {last} is {count} weeks: at most {most}")
    # noon of each Monday: the centre's zone has no DST, but the arithmetic stays safe
    return [week_of(start + n * 7 * DAY_MS + DAY_MS // 2) for n in range(count)]


def _rank(seed: int, call_id: str) -> str:
    return hashlib.sha256(f"{seed}:{call_id}".encode()).hexdigest()


def sample(
    calls: Iterable[SampledCall],
    flagged: Collection[str],
    cfg: SamplingConfig,
    seed: int,
) -> list[Pick]:
    """The calls to review, by agent then call id; a call drawn and flagged is "flagged"."""
    by_agent: dict[str, list[SampledCall]] = {}
    for c in calls:
        by_agent.setdefault(c.agent, []).append(c)
    picks: dict[str, Pick] = {}
    for agent, own in by_agent.items():
        want = min(len(own), max(cfg.min_per_agent, math.ceil(cfg.share * len(own))))
        for c in sorted(own, key=lambda c: _rank(seed, c.call_id))[:want]:
            picks[c.call_id] = Pick(c.call_id, agent, "share")
        if cfg.flagged:
            for c in own:
                if c.call_id in flagged:
                    picks[c.call_id] = Pick(c.call_id, agent, "flagged")
    return sorted(picks.values(), key=lambda p: (p.agent, p.call_id))
