"""The live store's documents: JSON-ready dicts of calls, agents and queues (pure)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from hotline.agents.model import AgentView
from hotline.core.records import CallRecord
from hotline.queues.state import QueueView
from hotline.watchdog.alerts import Alert

_SCALARS = (str, int, float, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    names = _FIELDS.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def to_doc(value: Any) -> Any:
    """Dataclasses, enums and tuples as plain JSON values (recursively).

    On the controller's hot path (a document per change): scalars are checked first and a
    dataclass's field names are looked up once per class.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_doc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_doc(v) for k, v in value.items()}
    names = _field_names(type(value))
    if names is not None:
        return {name: to_doc(getattr(value, name)) for name in names}
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


def alert_doc(alert: Alert) -> dict[str, Any]:
    doc: dict[str, Any] = to_doc(alert)
    doc["label"] = alert.label
    return doc
