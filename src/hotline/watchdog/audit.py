"""The retrospective audit: the live rules run over a queue_log alone (pure).

    result = audit_lines(lines, Watchdog(center.watchdog, center))   # lines: the file's, as read
    result.alerts          # what the live watchdog would have raised, with cost and evidence
    result.problems        # garbage lines (reported, never fatal)
    result.unknown         # lines of events hotline does not know, by event

    alerts = replay(Watchdog(center.watchdog, center), journal, calls)   # any journal and calls

:func:`replay` is the clock that follows the log: every journal entry and every call (at
its ``t_q``) in time order, the watchdog ticked to each one's time before it is fed, and to
``until`` (default: the last entry) at the end. Since the engine fires each rule at its exact
crossing time, ticking at the entries is enough for a pause that runs on while the log is
silent; the alerts are the same as a live run ticked every second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.core.records import AgentChange, CallRecord
from hotline.queuelog import Built, Event, ParseProblem, build, parse_lines
from hotline.watchdog.alerts import Alert
from hotline.watchdog.engine import Watchdog
from hotline.watchdog.escalation import Step
from hotline.watchdog.track import Resynced

__all__ = ["Audit", "Loaded", "audit_lines", "load_lines", "replay"]

_KNOWN = frozenset(e.value for e in Event)


def replay(
    watchdog: Watchdog,
    changes: Iterable[AgentChange | Resynced],
    calls: Iterable[CallRecord],
    *,
    until: int | None = None,
) -> list[Alert]:
    """Feed a whole journal and its calls in time order; every alert, latest version."""
    items: list[tuple[int, int, int, AgentChange | Resynced | CallRecord]] = []
    for i, record in enumerate(calls):
        if record.t_q is not None:  # never queued: nobody waited for an agent
            items.append((record.t_q, 0, i, record))
    for i, change in enumerate(changes):
        t = change.change.t if isinstance(change, Resynced) else change.t
        items.append((t, 1, i, change))
    items.sort(key=lambda item: item[:3])
    batch, watchdog.batch = watchdog.batch, True  # only the final versions are wanted
    try:
        for t, _, _, item in items:
            watchdog.tick(t)
            watchdog.feed(item)
        end = until if until is not None else (items[-1][0] if items else None)
        if end is not None:
            watchdog.tick(end)
        return watchdog.alerts()
    finally:
        watchdog.batch = batch


@dataclass(frozen=True, slots=True)
class Loaded:
    """A queue_log read: what it builds, and what could not be read."""

    built: Built
    problems: tuple[ParseProblem, ...]
    unknown: dict[str, int]  # events hotline does not know, by event
    lines: int
    first: int | None  # ms: the first and last entry
    last: int | None


def load_lines(lines: Iterable[str]) -> Loaded:
    """Parse and build a queue_log (garbage lines are collected, never raised)."""
    problems: list[ParseProblem] = []
    entries = []
    unknown: Counter[str] = Counter()
    count = 0
    for item in parse_lines(lines):
        count += 1
        if isinstance(item, ParseProblem):
            problems.append(item)
            continue
        entries.append(item)
        if item.event not in _KNOWN:
            unknown[item.event] += 1
    times = [e.t for e in entries]
    return Loaded(
        build(entries),
        tuple(problems),
        dict(unknown),
        count,
        min(times) * 1000 if times else None,
        max(times) * 1000 if times else None,
    )


@dataclass(frozen=True, slots=True)
class Audit:
    alerts: tuple[Alert, ...]
    problems: tuple[ParseProblem, ...]
    unknown: dict[str, int]
    ignored: dict[str, int]  # known events that tell nothing of agents or calls
    lines: int
    calls: int
    changes: int
    first: int | None
    last: int | None
    steps: dict[str, tuple[Step, ...]] = field(default_factory=dict)
    """Per alert, the escalation that would have run by the alert's end (or the log's)."""


def audit_lines(
    lines: Iterable[str] | Loaded,
    watchdog: Watchdog,
    *,
    until: int | None = None,
) -> Audit:
    """Run ``watchdog`` (a fresh one) over a queue_log's lines."""
    loaded = lines if isinstance(lines, Loaded) else load_lines(lines)
    built = loaded.built
    alerts = replay(watchdog, built.agent_changes, built.calls, until=until)
    end = until if until is not None else loaded.last
    steps = {
        a.id: tuple(watchdog.escalation(a, a.end if a.end is not None else (end or a.t_raised)))
        for a in alerts
    }
    return Audit(
        tuple(alerts),
        loaded.problems,
        loaded.unknown,
        {k: v for k, v in built.other.items() if k not in loaded.unknown},
        loaded.lines,
        len(built.calls),
        len(built.agent_changes),
        loaded.first,
        loaded.last,
        steps,
    )
