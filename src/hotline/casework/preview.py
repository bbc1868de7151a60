"""What an agent sees before calling a citizen back (preview dialling): the recall task,
the citizen's earlier calls and their open work orders, newest first.

    shown = preview(task, history, orders, now=now_ms)

One function for the CLI (``hotline recall show``) and the agent's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hotline.core.localtime import DAY_MS
from hotline.core.records import CallRecord
from hotline.orders.machine import replay
from hotline.orders.model import Order
from hotline.recall.tasks import Task
from hotline.stores.orders import OrderStore

__all__ = ["Preview", "preview"]

DAYS = 90  # how far back earlier calls are shown
CALLS = 10  # at most this many


class Calls(Protocol):
    """:class:`hotline.stores.history.History`."""

    def select_calls(self, where: str, args: tuple[object, ...]) -> list[CallRecord]: ...


@dataclass(frozen=True, slots=True)
class Preview:
    task: Task
    calls: tuple[CallRecord, ...]  # the number's calls, newest first
    orders: tuple[Order, ...]  # the number's open orders, newest first


def preview(task: Task, history: Calls, orders: OrderStore, *, now: int) -> Preview:
    calls = history.select_calls(
        "WHERE caller = ? AND t_arrival >= ? ORDER BY t_arrival DESC",
        (task.number, now - DAYS * DAY_MS),
    )[:CALLS]
    mine: list[Order] = []
    for timeline in orders.timelines().values():
        order = replay(timeline)
        if order.state.is_open and any(c.phone == task.number for c in order.callers):
            mine.append(order)
    return Preview(task, tuple(calls), tuple(sorted(mine, key=lambda o: -o.t_created)))


def call_line(r: CallRecord) -> dict[str, object]:
    """A call as the preview shows it."""
    return {
        "call_id": r.call_id,
        "t_arrival": r.t_arrival,
        "queue": r.first_queue,
        "tag": r.tag,
        "end_reason": r.end_reason.value if r.end_reason else None,
        "agent": r.agent,
    }


def order_line(o: Order) -> dict[str, object]:
    return {
        "id": o.id,
        "type": o.type.value,
        "category": o.category,
        "state": o.state.value,
        "department": o.department,
        "deadline": o.deadline,
        "content": o.content,
    }


def as_dict(p: Preview) -> dict[str, Sequence[dict[str, object]]]:
    return {"earlier_calls": [call_line(c) for c in p.calls],
            "open_orders": [order_line(o) for o in p.orders]}  # fmt: skip
