"""Agent time for the metrics: after-call work per call and occupancy, from the journal (pure).

    data = AgentData(journal=tuple(history.journal(since=t0 - DAY, until=t1)),
                     policy=PausePolicy.from_reasons(center.reasons.values()),
                     teams={a.name: a.team for a in center.agents.values()})
    acw = call_acw(data)                      # call_id -> ms of 话后整理 after its talk
    times = agent_time(data, GroupBy.HOUR, since=t0, until=t1)   # key -> {Activity: ms}

The time itself comes from :mod:`hotline.agents.timeline`, the same timeline the watchdog's
shift report reads. A call's after-call work is known when the journal has the end of its
talk (``complete``): 0 when no wrap-up followed it. Agent time is per agent, team or
interval; it is not split between queues (an agent ready in two queues is ready once), so a
report by queue has no occupancy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.agents.status import PausePolicy
from hotline.agents.timeline import Activity, acw_spans, segments
from hotline.core.records import AgentChange
from hotline.metrics.timefmt import GroupBy, interval_end, interval_key

__all__ = ["NO_TEAM", "AgentData", "agent_time", "by_agent", "call_acw"]

NO_TEAM = "(no team)"
"""The team of an agent that center.yaml does not list."""


@dataclass(frozen=True, slots=True)
class AgentData:
    """What the call records do not hold: the agent journal, the centre's pause reasons
    (which pauses are breaks) and teams (agent MemberName -> team)."""

    journal: tuple[AgentChange, ...] = ()
    policy: PausePolicy = field(default_factory=PausePolicy)
    teams: Mapping[str, str] = field(default_factory=dict)

    def team(self, agent: str) -> str:
        return self.teams.get(agent, NO_TEAM)


def by_agent(journal: tuple[AgentChange, ...]) -> dict[str, list[AgentChange]]:
    """Each agent's entries in time order (entries of one time keep the journal's order)."""
    out: dict[str, list[AgentChange]] = defaultdict(list)
    for change in journal:
        out[change.agent].append(change)
    for entries in out.values():
        entries.sort(key=lambda c: c.t)
    return out


def call_acw(data: AgentData) -> dict[str, int]:
    """call_id -> after-call work (ms) for every call whose end of talk is in the journal."""
    out: dict[str, int] = {}
    for entries in by_agent(data.journal).values():
        for c in entries:
            if c.kind == "complete" and c.call_id:
                out.setdefault(c.call_id, 0)
        for span in acw_spans(entries):
            if span.call_id:
                out[span.call_id] = out.get(span.call_id, 0) + span.end - span.start
    return out


def agent_time(
    data: AgentData, by: GroupBy, *, since: int | None, until: int | None, tz: str = ""
) -> tuple[dict[str, Counter[Activity]], Counter[Activity]]:
    """Per group key and in total, the agents' time by activity in [since, until) (ms).

    Groups: by agent, by team, or by local interval (a segment across a boundary is split);
    by queue or PBX there are none (the total only). An open end takes the journal's first or
    last entry.
    """
    agents = by_agent(data.journal)
    times = [c.t for c in data.journal]
    lo = since if since is not None else min(times, default=0)
    hi = until if until is not None else max(times, default=0)
    groups: dict[str, Counter[Activity]] = defaultdict(Counter)
    total: Counter[Activity] = Counter()
    for name, entries in agents.items():
        for seg in segments(entries, data.policy, start=lo, end=hi):
            total[seg.activity] += seg.ms
            if by is GroupBy.AGENT:
                groups[name][seg.activity] += seg.ms
            elif by is GroupBy.TEAM:
                groups[data.team(name)][seg.activity] += seg.ms
            elif by not in (GroupBy.QUEUE, GroupBy.PBX):  # an agent serves every PBX
                start = seg.start
                while start < seg.end:
                    cut = min(seg.end, interval_end(start, by, tz))
                    groups[interval_key(start, by, tz)][seg.activity] += cut - start
                    start = cut
    return dict(groups), total
