"""Callbacks in the history: asked for by a caller, registered when the call ends, marked
done by an agent.

    history.callbacks(since=t0, until=t1)   # rows, oldest request first
    history.complete_callback(call_id, at=now, by="王芳")

Part of :class:`~hotline.stores.history.History` (the table is its migrations).
"""

from __future__ import annotations

from typing import Any

from hotline.core.records import CallRecord
from hotline.stores import schema
from hotline.stores.dialect import Connection

__all__ = ["Callbacks", "register"]


def register(conn: Connection, r: CallRecord) -> None:
    """Within a save of ``r``: an ended call with a callback number registers its callback
    (once: a call saved again keeps the callback's state)."""
    if r.callback_number and r.t_end is not None:
        conn.execute(
            "INSERT INTO callbacks (call_id, number, queue, t_requested) "
            "VALUES (?,?,?,?) ON CONFLICT (call_id) DO NOTHING",
            (r.call_id, r.callback_number, r.first_queue, r.t_end),
        )


class Callbacks(schema.Store):
    """The table callbacks."""

    def callbacks(self, since: int = 0, until: int = 2**62) -> list[dict[str, Any]]:
        """Callback rows requested in [since, until), oldest first."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT call_id, number, queue, t_requested, status, t_done, done_by "
                "FROM callbacks WHERE t_requested >= ? AND t_requested < ? "
                "ORDER BY t_requested, call_id",
                (since, until),
            ).fetchall()
        names = ("call_id", "number", "queue", "t_requested", "status", "t_done", "done_by")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def complete_callback(self, call_id: str, *, at: int, by: str) -> bool:
        """Mark an open callback done by ``by`` at ``at``; False if none is open for it."""
        with self.tx() as conn:
            cur = conn.execute(
                "UPDATE callbacks SET status = 'done', t_done = ?, done_by = ? "
                "WHERE call_id = ? AND status = 'open'",
                (at, by, call_id),
            )
        return cur.rowcount == 1
