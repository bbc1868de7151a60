"""The quality report per agent or team: calls scored, average, failed critical items, flags
by rule, trend per week (pure).

    lines = report(scores, flags, by="team")

Only a call's effective score counts (an appeal that revised a score replaces it: the
store hands over the effective ones). Flags count per call and rule in the period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.qa.sampling import week_of

__all__ = ["FlagRow", "Line", "ScoreRow", "report"]


@dataclass(frozen=True, slots=True)
class ScoreRow:
    call_id: str
    agent: str
    team: str
    t: int  # when the call was answered (or arrived): the week it counts in
    total: float
    failed: tuple[str, ...]  # critical items failed


@dataclass(frozen=True, slots=True)
class FlagRow:
    call_id: str
    agent: str
    team: str
    rule: str


@dataclass
class Line:
    key: str  # the agent or the team
    scored: int = 0
    total: float = 0.0
    failed_calls: int = 0
    failed_items: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    weeks: dict[str, list[float]] = field(default_factory=dict)

    @property
    def average(self) -> float | None:
        return round(self.total / self.scored, 1) if self.scored else None

    def trend(self) -> list[tuple[str, int, float]]:
        """(week, calls scored, average) oldest week first."""
        return [(w, len(v), round(sum(v) / len(v), 1)) for w, v in sorted(self.weeks.items())]

    def doc(self) -> dict[str, object]:
        return {
            "key": self.key,
            "scored": self.scored,
            "average": self.average,
            "failed_calls": self.failed_calls,
            "failed_items": dict(sorted(self.failed_items.items())),
            "flags": dict(sorted(self.flags.items())),
            "weeks": [{"week": w, "scored": n, "average": a} for w, n, a in self.trend()],
        }


def report(scores: Iterable[ScoreRow], flags: Iterable[FlagRow], by: str = "agent") -> list[Line]:
    """One line per agent (``by="agent"``) or team, by key."""
    if by not in ("agent", "team"):
        raise ValueError(f"{by!r}: report by agent or team")
    lines: dict[str, Line] = {}

    def line(agent: str, team: str) -> Line:
        key = (agent if by == "agent" else team) or "-"
        return lines.setdefault(key, Line(key))

    for s in scores:
        ln = line(s.agent, s.team)
        ln.scored += 1
        ln.total += s.total
        ln.failed_calls += bool(s.failed)
        ln.failed_items.update(s.failed)
        ln.weeks.setdefault(week_of(s.t), []).append(s.total)
    seen: set[tuple[str, str]] = set()
    for f in flags:
        if (f.call_id, f.rule) in seen:
            continue
        seen.add((f.call_id, f.rule))
        line(f.agent, f.team).flags[f.rule] += 1
    return [lines[k] for k in sorted(lines)]
