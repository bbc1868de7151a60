"""Which recall task the agent's page offers now (preview dialling), from the live docs (pure).

    shown = offer(tasks, agent, docs, now=now, service_levels={"labour": 15_000})
    shown.task          # the Task to call back, or None
    shown.why           # why none: "not_ready", "callers_waiting", "none_due"

Only while the agent is ready (示闲, not on a call), only tasks of the agent's own queues,
and none while a caller in one of those queues has waited longer than that queue's service
level: :func:`hotline.recall.tasks.next_offer` decides, given the queue whose wait is worst.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hotline.recall.tasks import Task, next_offer

__all__ = ["DEFAULT_SL_MS", "Offer", "mine", "offer", "worst_wait"]

DEFAULT_SL_MS = 15_000  # queues.conf's servicelevel when neither the PBX nor the flow says


@dataclass(frozen=True, slots=True)
class Offer:
    task: Task | None
    why: str = ""  # why no task: not_ready, callers_waiting, none_due


def mine(tasks: Iterable[Task], queues: Iterable[str]) -> list[Task]:
    """The open tasks of QUEUES (a task missed before any queue belongs to no agent)."""
    own = set(queues)
    return [t for t in tasks if t.open and t.queue in own]


def worst_wait(
    queues: Iterable[str],
    queue_docs: Mapping[str, Mapping[str, Any]],
    service_levels: Mapping[str, int],
    now: int,
) -> tuple[int, int]:
    """(longest wait, service level) of the queue whose first caller is furthest past (or
    least short of) its service level; (0, default) when nobody waits."""
    worst = (0, DEFAULT_SL_MS)
    for q in queues:
        doc = queue_docs.get(q) or {}
        since = [int(w["since"]) for w in doc.get("waiting") or () if w.get("since") is not None]
        if not since:
            continue
        params = doc.get("params") or {}
        live_sl = int(params.get("service_level") or 0) * 1000
        sl = live_sl or service_levels.get(q, DEFAULT_SL_MS)
        wait = max(0, now - min(since))
        if wait - sl > worst[0] - worst[1]:
            worst = (wait, sl)
    return worst


def offer(
    tasks: Iterable[Task],
    queues: Iterable[str],
    agent_doc: Mapping[str, Any] | None,
    queue_docs: Mapping[str, Mapping[str, Any]],
    *,
    now: int,
    service_levels: Mapping[str, int],
) -> Offer:
    """The task to show the agent whose live doc is AGENT_DOC and whose queues are QUEUES."""
    if not agent_doc or agent_doc.get("status") != "ready":
        return Offer(None, "not_ready")
    queues = list(queues)
    wait, sl = worst_wait(queues, queue_docs, service_levels, now)
    if wait > sl:
        return Offer(None, "callers_waiting")
    task = next_offer(mine(tasks, queues), now, wait, sl)
    return Offer(task, "" if task else "none_due")
