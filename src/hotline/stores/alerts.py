"""The watchdog's alerts and the escalation steps carried out, in the history.

    history.save_alerts([doc, ...])          # the latest version of each alert
    history.alerts(agent, since=t0)          # documents by time raised
    history.save_escalations([step, ...])    # each step once, across restarts

Part of :class:`~hotline.stores.history.History` (the tables are its migrations).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from hotline.stores import schema

__all__ = ["Alerts"]

_ALERT_COLUMNS = (
    "id", "rule", "agent", "team", "severity", "t_start", "t_end", "t_raised", "state", "doc",
)  # fmt: skip


class Alerts(schema.Store):
    """The tables alerts and escalations."""

    def save_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Upsert alert documents (as published live: id, rule, agent, team, ...)."""
        rows = [
            (a["id"], a["rule"], a["agent"], a["team"], a["severity"], a["start"], a["end"],
             a["t_raised"], a["state"], json.dumps(a, ensure_ascii=False))
            for a in alerts
        ]  # fmt: skip
        with self.tx() as conn:
            conn.executemany(
                "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _ALERT_COLUMNS[1:]),
                rows,
            )
        return len(rows)

    def alerts(
        self,
        agent: str | None = None,
        *,
        since: int | None = None,
        until: int | None = None,
        state: str | None = None,
    ) -> list[dict[str, Any]]:
        """Alert documents by time raised (``since`` <= t_raised < ``until``)."""
        where, args = [], list[object]()
        for clause, value in (
            ("agent = ?", agent), ("t_raised >= ?", since), ("t_raised < ?", until),
            ("state = ?", state),
        ):  # fmt: skip
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = "SELECT doc FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            rows = self.connection.execute(sql + " ORDER BY t_raised, id", args).fetchall()
        return [json.loads(r[0]) for r in rows]

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.connection.execute(
                "SELECT doc FROM alerts WHERE id = ?", (alert_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    # -- escalation steps -------------------------------------------------------------------

    def save_escalations(self, steps: Iterable[Mapping[str, Any]]) -> int:
        """Record steps carried out (step_id, alert, action, target, agent, t_due, t_done,
        result); a step already recorded keeps its first row."""
        rows = [
            (s["step_id"], s["alert"], s["action"], s["target"], s["agent"], s["t_due"],
             s["t_done"], s["result"])
            for s in steps
        ]  # fmt: skip
        with self.tx() as conn:
            conn.executemany(
                "INSERT INTO escalations VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows
            )
        return len(rows)

    def escalations(self, *, alert: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        sql = "SELECT * FROM escalations WHERE t_due >= ?"
        args: tuple[object, ...] = (since,)
        if alert is not None:
            sql, args = sql + " AND alert = ?", (*args, alert)
        with self._lock:
            cur = self.connection.execute(sql + " ORDER BY t_due, step_id", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
