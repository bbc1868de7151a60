"""The wallboard's data (pure): what a supervisor may see, and today's figures per queue.

    meta = board_meta(center, flow)                        # names, labels, limits (once)
    mine = visible(state.docs, user.scope, center)          # the live docs in scope
    keep = doc_visible(change.kind, change.id, change.doc, user.scope, center)   # a change
    rows = queue_figures(records, params, since=day_start, until=now)

Limits colour a pause by the watchdog's thresholds: a 示忙 against ``busy_max``, a break
against its reason's ``max_minutes`` (or ``break_max``), per the agent's team and shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hotline.center.config import Center
from hotline.core.records import CallRecord
from hotline.ivr.model import Flow
from hotline.metrics.params import Params
from hotline.metrics.populations import Population
from hotline.metrics.report import compute
from hotline.metrics.timefmt import GroupBy
from hotline.watchdog.shifts import Shifts
from hotline.web.roles import Scope

FIGURES = ("sl_strict", "answer_rate", "sl_answered_only", "sl2", "abandon_rate")
"""What a queue tile shows: the strict headline first, then the labelled variants."""


def board_meta(center: Center, flow: Flow | None, now: int) -> dict[str, Any]:
    """Agents (team, queues, pause limits in ms), reason labels and queue labels."""
    agents = {}
    for agent in center.agents.values():
        team = center.teams.get(agent.team)
        shift = Shifts(team.shifts).at(now).name if team else ""
        limits = center.watchdog.thresholds(agent.team, shift)
        agents[agent.name] = {
            "ext": agent.ext,
            "team": agent.team,
            "team_label": team.label if team else agent.team,
            "queues": list(agent.queues),
            "busy_ms": limits.busy_max_ms,
            "break_ms": limits.break_max_ms,
        }
    reasons = {
        r.code: {
            "label": r.label,
            "break": r.is_break,
            "max_ms": r.max_minutes * 60_000 if r.max_minutes else None,
            "supervisor_only": r.supervisor_only,
        }
        for r in center.reasons.values()
    }
    queues = {q.name: q.label for q in flow.queues.values()} if flow else {}
    notices = sorted(flow.announcements) if flow else []
    phones = sorted(center.supervision.phones)  # supervisors' softphones (hotline supervise)
    return {
        "agents": agents, "reasons": reasons, "queues": queues, "notices": notices,
        "phones": phones,
    }  # fmt: skip


def _agent_of(doc: Mapping[str, Any]) -> str:
    return str(doc.get("name") or doc.get("agent") or "")


def doc_visible(
    kind: str, key: str, doc: Mapping[str, Any] | None, scope: Scope, center: Center
) -> bool:
    """May a supervisor of ``scope`` see this live document (a deletion: its key)?"""
    if scope.all:
        return True
    if kind == "agent":
        return scope.sees_agent(key, center)
    if kind == "queue":
        return scope.sees_queue(key, center)
    if kind == "alert":
        if doc is None:
            return True  # a deletion tells nothing
        team = str(doc.get("team") or "")
        return team in scope.teams or scope.sees_agent(_agent_of(doc), center)
    if kind == "call":
        if doc is None:
            return True
        return scope.sees_queue(str(doc.get("queue") or ""), center)
    if kind == "note":  # the watchdog's escalation notes, about one agent
        return doc is None or scope.sees_agent(str(doc.get("agent") or ""), center)
    return kind == "setting"  # the IVR announcement in force: every supervisor sees it


def visible(
    docs: Mapping[str, Mapping[str, Mapping[str, Any]]], scope: Scope, center: Center
) -> dict[str, dict[str, Any]]:
    return {
        kind: {k: d for k, d in by_id.items() if doc_visible(kind, k, d, scope, center)}
        for kind, by_id in docs.items()
    }


def public_call(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A call as the wallboard needs it: no caller number (personal data stays off it)."""
    return {
        "call_id": doc.get("call_id"),
        "queue": doc.get("queue"),
        "t_q": doc.get("t_q"),
        "t_answer": doc.get("t_answer"),
        "agent": doc.get("agent"),
    }


def wallboard_docs(
    docs: Mapping[str, Mapping[str, Mapping[str, Any]]], scope: Scope, center: Center
) -> dict[str, dict[str, Any]]:
    mine = visible(docs, scope, center)
    mine["call"] = {k: public_call(d) for k, d in mine.get("call", {}).items()}
    mine["queue"] = {k: public_queue(d) for k, d in mine.get("queue", {}).items()}
    return mine


def public_queue(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A queue without its callers' numbers: how many wait, since when."""
    waiting = [{"since": w.get("since")} for w in doc.get("waiting") or []]
    return {**doc, "waiting": waiting}


def public_doc(kind: str, doc: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if doc is None:
        return None
    if kind == "call":
        return public_call(doc)
    if kind == "queue":
        return public_queue(doc)
    return doc


def queue_figures(
    records: Iterable[CallRecord], params: Params, *, since: int, until: int
) -> dict[str, dict[str, Any]]:
    """Today's figures per queue and for all ("*"): value, numerator, denominator."""
    report = compute(list(records), params, by=GroupBy.QUEUE, since=since, until=until)
    out: dict[str, dict[str, Any]] = {}
    for group in (report.total, *report.groups):
        key = "*" if group is report.total else group.key
        out[key] = {
            "figures": {
                f: {
                    "value": group.figures[f].value,
                    "num": group.figures[f].numerator,
                    "den": group.figures[f].denominator,
                }
                for f in FIGURES
            },
            "requests": group.counts[Population.R],
            "answered": group.counts[Population.A],
            "abandoned": group.counts[Population.AB],
        }
    return out
