"""What an alert is computed from, kept by the engine while the alert may still change.

A :class:`Basis` points at the live thing it is about (a pause episode, a shift window, a
team's overlap, a span of 'ready but unreachable'); :func:`sync` reads that thing into the
basis's fields at a journal time, and :meth:`Basis.alert` makes the frozen
:class:`~hotline.watchdog.alerts.Alert` with the evidence and cost the engine computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.core.records import AgentChange
from hotline.watchdog.alerts import Alert, Evidence, RuleId, Severity
from hotline.watchdog.evidence import CallStore, Tally
from hotline.watchdog.shifts import Window
from hotline.watchdog.spans import total
from hotline.watchdog.track import Episode, Track

__all__ = ["PAUSE_KINDS", "Basis", "Overlap", "sync"]

PAUSE_KINDS = frozenset({"login", "logout", "pause", "unpause"})
"""Journal kinds that tell a pause story (the evidence of per-shift and team alerts)."""
_LONG = frozenset({RuleId.LONG_PAUSE, RuleId.LONG_BREAK})
_SPAN_OF = {
    RuleId.SHIFT_BUSY_TOTAL: "busy",
    RuleId.SHIFT_BUSY_SHARE: "busy",
    RuleId.SHIFT_BREAK_TOTAL: "break",
}


@dataclass(slots=True)
class Overlap:
    """Members of one team in 示忙 at once, at least the limit of them."""

    start: int
    agent: str  # whose pause made them too many
    members: set[str]
    end: int | None = None
    peak: int = 0
    basis: str = ""  # the alert id, once raised


@dataclass(slots=True)
class Basis:
    id: str
    rule: RuleId
    agent: str
    team: str
    start: int
    t_raised: int
    limit: int
    unit: str
    queues: tuple[str, ...]
    end: int | None = None
    value: int = 0
    periods: tuple[tuple[int, int | None], ...] = ()
    agents: tuple[str, ...] = ()
    kinds: frozenset[str] | None = None  # journal kinds in the evidence (None: all)
    others: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    note: str = ""
    answer_ms: int = 15_000
    episode: Episode | None = None
    window: Window | None = None
    overlap: Overlap | None = None
    span: list[int | None] | None = None
    marks: str = ""  # "rings" or "shorts": a count rule
    tally: Tally = field(init=False)

    def __post_init__(self) -> None:
        self.tally = Tally(self.answer_ms)

    def state(self) -> tuple[object, ...]:
        """The fields an update may change (to tell whether it did)."""
        return (self.end, self.value, self.periods, self.agents, self.others, self.reasons,
                self.queues, self.start)  # fmt: skip

    def covers(self, change: AgentChange) -> bool:
        """Whether ``change`` belongs in the evidence's journal excerpt."""
        return (
            change.agent in self.agents
            and self.start <= change.t
            and (self.end is None or change.t <= self.end)
            and (self.kinds is None or change.kind in self.kinds)
        )

    def alert(
        self, severity: Severity, journal: list[AgentChange], omitted: int, calls: CallStore
    ) -> Alert:
        """The alert as it stands (its waiting and cost counted from ``calls``)."""
        self.tally.update(calls, self.queues, self.periods)
        waiting, cost = self.tally.waiting(), self.tally.cost()
        value = self.value
        if self.rule is RuleId.PAUSED_WHILE_WAITING:
            value = max(self.limit, waiting.longest_ms)
        evidence = Evidence(tuple(journal), omitted, waiting, self.others, self.reasons, self.note)
        return Alert(
            self.id, self.rule, self.agent, self.team, severity, self.start, self.end,
            self.t_raised, value, self.limit, self.unit, self.queues, self.periods,
            evidence, cost,
        )  # fmt: skip


def sync(basis: Basis, track: Track | None, t: int, queues: set[str]) -> None:
    """Read the basis's source at journal time ``t``; ``queues``: its agents' queues now."""
    if basis.episode is not None:
        ep = basis.episode
        basis.end = ep.end
        basis.periods = ep.periods()
        basis.reasons = tuple(ep.reasons)
        if basis.rule in _LONG:
            basis.value = basis.limit if ep.end is None else ep.end - ep.start
        elif basis.rule is RuleId.PAUSE_FLIP:
            basis.value = len(ep.flips)
    elif basis.window is not None and track is not None:
        window = basis.window
        upto = min(t, window.end)
        if basis.marks:
            marks = track.rings if basis.marks == "rings" else track.shorts
            seen = [m for m in marks if window.start <= m[0] and m[1] <= upto]
            if seen:
                basis.value, basis.end = len(seen), seen[-1][1]
            return
        spans = track.spans[_SPAN_OF[basis.rule]]
        basis.end = window.end
        basis.periods = tuple(
            (max(s or 0, window.start), min(e, window.end) if e is not None else
             (window.end if t >= window.end else None))
            for s, e in spans
            if (s or 0) < window.end and (e is None or e > window.start)
        )  # fmt: skip
        busy = total(spans, window, upto)
        if basis.rule is RuleId.SHIFT_BUSY_SHARE:
            login = total(track.spans["login"], window, upto)
            basis.value = 1000 * busy // login if login else 0
        else:
            basis.value = busy
    elif basis.overlap is not None:
        overlap = basis.overlap
        basis.end = overlap.end
        basis.agents = tuple(sorted(overlap.members))
        basis.others = tuple(sorted(overlap.members - {basis.agent}))
        basis.value = overlap.peak
        basis.periods = ((overlap.start, overlap.end),)
        basis.queues = tuple(sorted(set(basis.queues) | queues))
    elif basis.span is not None:
        start, end = basis.span[0] or 0, basis.span[1]
        basis.end = end
        basis.periods = ((start, end),)
        basis.value = basis.limit if end is None else end - start
