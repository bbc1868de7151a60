"""The live store's documents: JSON-ready dicts of calls, agents and queues (pure)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from hotline.agents.model import AgentView
from hotline.queues import QueueView
from hotline.records import CallRecord


def to_doc(value: Any) -> Any:
    """Dataclasses, enums and tuples as plain JSON values (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_doc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_doc(v) for k, v in value.items()}
    return value


def call_doc(record: CallRecord) -> dict[str, Any]:
    doc: dict[str, Any] = to_doc(record)
    doc["t_q"] = record.t_q
    doc["queue"] = record.visits[-1].queue if record.visits else ""
    return doc


def agent_doc(view: AgentView) -> dict[str, Any]:
    doc: dict[str, Any] = to_doc(view)
    doc["queues"] = list(view.queues)
    return doc


def queue_doc(view: QueueView, now: int) -> dict[str, Any]:
    doc: dict[str, Any] = to_doc(view)
    doc["waiting_count"] = len(view.waiting)
    doc["longest_wait_ms"] = view.longest_wait(now)
    return doc
