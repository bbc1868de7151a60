"""Alerts and shift reports as text: tables for people, CSV and JSON for tools (pure).

    print(alerts_table(audit.alerts, tz))          # with an evidence line per alert
    print(json.dumps(audit_doc(audit, tz), ensure_ascii=False, indent=2))
    print(report_table(rows, tz)); report_csv(rows); report_doc(row)

Times are shown in the centre's zone (``tz``), durations as H:MM:SS. Tables pad by display
width, so Chinese names line up.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from typing import Any

from hotline.core.records import AgentChange
from hotline.core.termtable import width
from hotline.watchdog.alerts import Alert
from hotline.watchdog.audit import Audit
from hotline.watchdog.escalation import Step
from hotline.watchdog.report import AgentReport

__all__ = [
    "alert_doc",
    "alerts_table",
    "audit_doc",
    "duration",
    "report_csv",
    "report_doc",
    "report_table",
    "when",
]


def pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * max(0, size - width(text))
    return fill + text if right else text + fill


def when(ms: int | None, tz: dt.tzinfo, *, date: bool = True) -> str:
    if ms is None:
        return "…"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz)
    return moment.strftime("%m-%d %H:%M:%S" if date else "%H:%M:%S")


def duration(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _measure(value: int, unit: str) -> str:
    if unit == "ms":
        return duration(value)
    if unit == "permille":
        return f"{value / 10:.1f}%"
    return str(value)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    sizes = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(head)]
    lines = ["  ".join(pad(h, sizes[i], i in right) for i, h in enumerate(head)).rstrip()]
    for row in rows:
        lines.append("  ".join(pad(c, sizes[i], i in right) for i, c in enumerate(row)).rstrip())
    return lines


def _entry(change: AgentChange, tz: dt.tzinfo) -> str:
    what = change.kind
    if change.reason:
        what += f" {change.reason}"
    return f"{when(change.t, tz, date=False)} {what}"


def _journal(entries: Sequence[AgentChange], tz: dt.tzinfo, agents: int) -> list[str]:
    """One token per moment and kind (a pause in two queues is one pause)."""
    out: list[str] = []
    last = None
    for c in entries:
        key = (c.t, c.agent, c.kind, c.reason)
        if key == last:
            continue
        last = key
        token = _entry(c, tz)
        out.append(f"{c.agent} {token}" if agents > 1 else token)
    return out


def alerts_table(alerts: Sequence[Alert], tz: dt.tzinfo, *, evidence: bool = True) -> str:
    """One row per alert; with ``evidence``, the journal and the calls under each."""
    if not alerts:
        return "no alerts"
    head = ["raised", "rule", "agent", "team", "from", "to", "measured", "limit", "severity",
            "waiting", "longest", "missed", "late/aband/lost"]  # fmt: skip
    rows = [
        [
            when(a.t_raised, tz), f"{a.rule.value} {a.label}", a.agent, a.team or "-",
            when(a.start, tz), when(a.end, tz, date=False), _measure(a.value, a.unit),
            _measure(a.limit, a.unit), a.severity.value, str(a.evidence.waiting.count),
            duration(a.evidence.waiting.longest_ms), str(a.cost.missed),
            f"{a.cost.answered_late}/{a.cost.abandoned}/{a.cost.lost}",
        ]
        for a in alerts
    ]  # fmt: skip
    table = _table(head, rows, {6, 7, 9, 10, 11})
    out = [table[0]]
    for a, line in zip(alerts, table[1:], strict=True):
        out.append(line)
        if evidence:
            out += _evidence(a, tz)
    return "\n".join(out)


def _evidence(a: Alert, tz: dt.tzinfo, shown: int = 8) -> list[str]:
    ev = a.evidence
    tokens = _journal(ev.journal, tz, len({c.agent for c in ev.journal}))
    more = len(tokens) - shown + ev.omitted
    text = " · ".join(tokens[:shown]) + (f" · … (+{more})" if more > 0 else "")
    lines = [f"    journal: {text or '-'}"]
    facts = []
    if ev.reasons:
        facts.append("reasons " + ",".join(r or '""' for r in ev.reasons))
    if ev.others:
        facts.append("with " + ",".join(ev.others))
    if ev.note:
        facts.append(ev.note)
    if ev.waiting.still_waiting:
        facts.append(f"{ev.waiting.still_waiting} still waiting")
    if a.queues:
        facts.append("queues " + ",".join(a.queues))
    if facts:
        lines.append("    " + "; ".join(facts))
    if a.cost.calls:
        ids = " ".join(a.cost.calls[:shown])
        extra = f" … (+{len(a.cost.calls) - shown})" if len(a.cost.calls) > shown else ""
        lines.append(f"    missed calls: {ids}{extra}")
    return lines


def _change_doc(c: AgentChange) -> dict[str, Any]:
    doc: dict[str, Any] = {"t": c.t, "agent": c.agent, "kind": c.kind}
    for key in ("queue", "reason", "actor", "call_id", "note"):
        if getattr(c, key):
            doc[key] = getattr(c, key)
    if c.set_by is not None:
        doc["set_by"] = c.set_by.value
    if c.status is not None:
        doc["status"] = c.status.value
    return doc


def _step_doc(step: Step) -> dict[str, Any]:
    return {"id": step.id, "action": step.action.value, "at": step.at, "to": step.to}


def alert_doc(a: Alert, tz: dt.tzinfo, steps: Sequence[Step] | None = None) -> dict[str, Any]:
    """A JSON-ready alert: every field, times in ms and as local text."""
    doc: dict[str, Any] = {
        "id": a.id, "rule": a.rule.value, "label": a.label, "agent": a.agent, "team": a.team,
        "severity": a.severity.value, "start": a.start, "end": a.end,
        "t_raised": a.t_raised, "local": {"start": when(a.start, tz),
                                          "end": when(a.end, tz) if a.end else None,
                                          "raised": when(a.t_raised, tz)},
        "value": a.value, "limit": a.limit, "unit": a.unit, "queues": list(a.queues),
        "periods": [list(p) for p in a.periods],
        "evidence": {
            "journal": [_change_doc(c) for c in a.evidence.journal],
            "omitted": a.evidence.omitted,
            "waiting": {"count": a.evidence.waiting.count,
                        "longest_ms": a.evidence.waiting.longest_ms,
                        "still_waiting": a.evidence.waiting.still_waiting},
            "others": list(a.evidence.others), "reasons": list(a.evidence.reasons),
            "note": a.evidence.note,
        },
        "cost": {"missed": a.cost.missed, "answered_late": a.cost.answered_late,
                 "abandoned": a.cost.abandoned, "lost": a.cost.lost,
                 "calls": list(a.cost.calls)},
        "state": a.state.value,
        "history": [{"action": h.action.value, "by": h.by, "at": h.at, "comment": h.comment,
                     "before": h.before.value, "after": h.after.value} for h in a.history],
    }  # fmt: skip
    if steps is not None:
        doc["escalation"] = [_step_doc(s) for s in steps]
    return doc


def audit_doc(audit: Audit, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "lines": audit.lines,
        "first": audit.first,
        "last": audit.last,
        "calls": audit.calls,
        "journal_entries": audit.changes,
        "alerts": [alert_doc(a, tz, audit.steps.get(a.id)) for a in audit.alerts],
        "problems": [
            {"line": p.lineno, "reason": p.reason.value, "text": p.text} for p in audit.problems
        ],
        "unknown_events": dict(sorted(audit.unknown.items())),
        "ignored_events": dict(sorted(audit.ignored.items())),
    }


def audit_footer(audit: Audit, *, shown: int = 20) -> list[str]:
    """What was read, and the lines that could not be (for the table format)."""
    lines = [
        f"{audit.lines} lines: {audit.changes} journal entries, {audit.calls} calls, "
        f"{len(audit.alerts)} alerts, {len(audit.problems)} lines not understood"
    ]
    for p in audit.problems[:shown]:
        lines.append(f"  line {p.lineno}: {p.reason.value}: {p.text!r}")
    if len(audit.problems) > shown:
        lines.append(f"  … and {len(audit.problems) - shown} more")
    if audit.unknown:
        known = ", ".join(f"{k} ×{v}" for k, v in sorted(audit.unknown.items()))
        lines.append(f"unknown events (ignored): {known}")
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _pauses(row: AgentReport) -> str:
    return "; ".join(
        f"{p.label}×{p.count} {duration(p.total_ms)} (max {duration(p.longest_ms)})"
        for p in row.pauses
    )


REPORT_HEAD = [
    "agent", "team", "logged in", "ready", "talk", "ACW", "paused", "示忙", "示忙率",
    "occupancy", "calls", "ring no ans", "alerts", "pauses by reason",
]  # fmt: skip


def _report_row(r: AgentReport) -> list[str]:
    return [
        r.agent, r.team or "-", duration(r.logged_in_ms), duration(r.ready_ms),
        duration(r.talk_ms), duration(r.acw_ms), duration(r.paused_ms), duration(r.busy_ms),
        _pct(r.busy_share), _pct(r.occupancy), str(r.calls), str(r.ring_no_answers),
        str(r.alerts), _pauses(r) or "-",
    ]  # fmt: skip


def report_table(rows: Sequence[AgentReport], tz: dt.tzinfo, title: str = "") -> str:
    if not rows:
        return f"{title}\nno agent was logged in".strip()
    table = _table(REPORT_HEAD, [_report_row(r) for r in rows], set(range(2, 13)))
    head = [title] if title else []
    return "\n".join([*head, *table])


class _Text:
    """What csv.writer writes to (no file: the caller prints the text)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def report_csv(rows: Sequence[AgentReport]) -> str:
    out = _Text()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["agent", "team", "start", "end", "logged_in_s", "ready_s", "talk_s", "acw_s",
         "paused_s", "busy_s", "busy_share", "occupancy", "calls", "ring_no_answers", "alerts",
         "pauses"]
    )  # fmt: skip
    for r in rows:
        writer.writerow(
            [r.agent, r.team, r.start, r.end, r.logged_in_ms // 1000, r.ready_ms // 1000,
             r.talk_ms // 1000, r.acw_ms // 1000, r.paused_ms // 1000, r.busy_ms // 1000,
             "" if r.busy_share is None else f"{r.busy_share:.4f}",
             "" if r.occupancy is None else f"{r.occupancy:.4f}",
             r.calls, r.ring_no_answers, r.alerts,
             "; ".join(f"{p.reason}:{p.count}:{p.total_ms // 1000}:{p.longest_ms // 1000}"
                       for p in r.pauses)]
        )  # fmt: skip
    return "".join(out.parts)


def report_doc(r: AgentReport) -> dict[str, Any]:
    return {
        "agent": r.agent, "team": r.team, "start": r.start, "end": r.end,
        "logged_in_ms": r.logged_in_ms, "ready_ms": r.ready_ms, "talk_ms": r.talk_ms,
        "acw_ms": r.acw_ms, "paused_ms": r.paused_ms, "busy_ms": r.busy_ms,
        "busy_share": r.busy_share, "occupancy": r.occupancy, "calls": r.calls,
        "ring_no_answers": r.ring_no_answers, "alerts": r.alerts,
        "alerts_by_rule": dict(r.alerts_by_rule),
        "pauses": [{"reason": p.reason, "label": p.label, "kind": p.kind, "count": p.count,
                    "total_ms": p.total_ms, "longest_ms": p.longest_ms} for p in r.pauses],
    }  # fmt: skip
