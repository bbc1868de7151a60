"""The shift report: per agent, where the logged-in time went (pure).

    rows = shift_report(journal, center, start=day_start, end=day_end, alerts=alerts)
    row.logged_in_ms, row.ready_ms, row.talk_ms, row.acw_ms, row.pauses   # by reason
    row.busy_share        # 示忙率: 示忙 time / logged-in time
    row.occupancy         # (talk + ACW) / (talk + ACW + ready) (docs/domain.md)

The time comes from :func:`hotline.agents.timeline.segments` (the metrics' occupancy and
AHT read the same timeline): each moment an agent is logged in counts once, the first that
applies: talking, after-call work (from AgentComplete to the journal's ``wrap_up_end``;
queue_log has no wrap-up, so a report from it shows none), paused (by reason), ready. A
pause during a call counts as talk. 示忙 is a pause of kind BUSY (not a break, not forced
by a supervisor), as the watchdog counts it. Every span is clipped to [start, end): a
pause across midnight is split between the days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.agents.roster import Roster
from hotline.agents.status import PauseKind, PausePolicy
from hotline.agents.timeline import Activity, segments
from hotline.core.records import AgentChange
from hotline.watchdog.alerts import Alert

__all__ = ["NO_REASON", "AgentReport", "PauseStat", "shift_report"]

NO_REASON = "无原因"
"""The label of a pause that gave no reason."""


@dataclass(frozen=True, slots=True)
class PauseStat:
    reason: str  # as logged ("" when none was given)
    label: str  # the centre's label, or the text as logged, or NO_REASON
    kind: str  # busy, break, forced
    count: int
    total_ms: int
    longest_ms: int


@dataclass(frozen=True, slots=True)
class AgentReport:
    agent: str
    team: str
    start: int
    end: int
    logged_in_ms: int
    ready_ms: int
    talk_ms: int
    acw_ms: int
    paused_ms: int
    busy_ms: int  # 示忙
    pauses: tuple[PauseStat, ...]
    calls: int  # answered (AgentConnect)
    ring_no_answers: int
    alerts: int
    alerts_by_rule: tuple[tuple[str, int], ...]

    @property
    def busy_share(self) -> float | None:
        """示忙率: 示忙 time over logged-in time (None when never logged in)."""
        return self.busy_ms / self.logged_in_ms if self.logged_in_ms else None

    @property
    def occupancy(self) -> float | None:
        worked = self.talk_ms + self.acw_ms
        return worked / (worked + self.ready_ms) if worked + self.ready_ms else None


@dataclass(slots=True)
class _Pause:
    count: int = 0
    total: int = 0
    longest: int = 0
    current: int = 0  # the paused time of the pause in progress
    episode: int = -1


def _agent(
    name: str,
    team: str,
    changes: Sequence[AgentChange],
    policy: PausePolicy,
    labels: dict[str, str],
    start: int,
    end: int,
    alerts: Sequence[Alert],
) -> AgentReport | None:
    sums = dict.fromkeys(Activity, 0)
    busy = 0
    pauses: dict[tuple[str, str], _Pause] = {}
    for seg in segments(changes, policy, start=start, end=end):
        sums[seg.activity] += seg.ms
        if seg.pause is None:
            continue
        if seg.pause.kind == PauseKind.BUSY.value:
            busy += seg.ms
        stat = pauses.setdefault((seg.pause.reason, seg.pause.kind), _Pause())
        if stat.episode != seg.pause.episode:
            stat.count, stat.current, stat.episode = stat.count + 1, 0, seg.pause.episode
        stat.total += seg.ms
        stat.current += seg.ms
        stat.longest = max(stat.longest, stat.current)
    login = sum(sums.values())
    rings = sum(1 for c in changes if c.kind == "ring_no_answer" and start <= c.t < end)
    calls = sum(1 for c in changes if c.kind == "connect" and start <= c.t < end)
    mine = [x for x in alerts if x.agent == name and start <= x.t_raised < end]
    if not login and not rings and not mine:
        return None
    by_rule: dict[str, int] = {}
    for alert in mine:
        by_rule[alert.rule.value] = by_rule.get(alert.rule.value, 0) + 1
    stats = tuple(
        PauseStat(
            reason, labels.get(reason, reason or NO_REASON), kind, p.count, p.total, p.longest
        )
        for (reason, kind), p in sorted(pauses.items(), key=lambda kv: (-kv[1].total, kv[0]))
        if p.count
    )
    return AgentReport(
        name, team, start, end, login, sums[Activity.READY], sums[Activity.TALK],
        sums[Activity.ACW], sums[Activity.PAUSED], busy, stats, calls, rings, len(mine),
        tuple(sorted(by_rule.items())),
    )  # fmt: skip


def shift_report(
    changes: Iterable[AgentChange],
    center: Roster,
    *,
    start: int,
    end: int,
    team: str | None = None,
    alerts: Sequence[Alert] = (),
) -> list[AgentReport]:
    """One row per agent active in [start, end) (of ``team`` if given), by team then name.

    ``changes``: the journal from before ``start`` (so the state at ``start`` is known: from
    the last login at least) up to ``end``; ``alerts``: the watchdog's over the same span.
    """
    policy = PausePolicy.from_reasons(center.reasons.values())
    labels = {r.code: r.label for r in center.reasons.values()}
    per_agent: dict[str, list[AgentChange]] = {}
    for c in changes:
        if c.t < end:
            per_agent.setdefault(c.agent, []).append(c)
    rows = []
    for name, entries in per_agent.items():
        agent = center.agent(name)
        agent_team = agent.team if agent is not None else ""
        if team is not None and agent_team != team:
            continue
        entries.sort(key=lambda c: c.t)
        row = _agent(name, agent_team, entries, policy, labels, start, end, alerts)
        if row is not None:
            rows.append(row)
    return sorted(rows, key=lambda r: (r.team, r.agent))
