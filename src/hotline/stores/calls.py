"""Calls in the history: each with its queue visits and rings, saved and read whole.

    history.save_calls([record, ...])       # idempotent: a call is replaced as a whole
    history.calls(since=t0, until=t1)       # oldest first
    history.call(call_id)

Part of :class:`~hotline.stores.history.History` (the tables are its migrations); a call
ended with a callback number registers its callback (:mod:`hotline.stores.callbacks`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit, Ring, Source
from hotline.stores import callbacks, dialect, schema

__all__ = ["Calls"]


class Calls(schema.Store):
    """The tables calls, call_visits and call_rings."""

    def save_calls(self, records: Iterable[CallRecord]) -> int:
        """Insert or replace whole calls (visits and rings included); return how many."""
        n = 0
        with self.tx() as conn:
            for r in records:
                conn.execute("DELETE FROM calls WHERE call_id = ?", (r.call_id,))
                conn.execute(
                    "INSERT INTO calls VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        r.call_id, r.linkedid, r.caller, r.caller_name, r.line, r.t_arrival,
                        r.t_q, r.first_queue, r.ivr_path, r.tag, r.t_answer, r.agent,
                        r.talk_end, r.completed_by, r.t_end,
                        r.end_reason.value if r.end_reason else None, r.survey_score,
                        r.callback_number, r.recording, r.precision.value, r.source.value,
                        json.dumps(list(r.notes), ensure_ascii=False),
                        r.t_request, r.twilio_sid, r.pbx,
                    ),
                )  # fmt: skip
                conn.executemany(
                    "INSERT INTO call_visits VALUES (?,?,?,?,?,?,?)",
                    [
                        (r.call_id, i, v.queue, v.t_enter, v.position, v.t_leave, v.outcome)
                        for i, v in enumerate(r.visits)
                    ],
                )
                conn.executemany(
                    "INSERT INTO call_rings VALUES (?,?,?,?,?,?)",
                    [
                        (r.call_id, i, g.agent, g.t_start, g.t_end, int(g.answered))
                        for i, g in enumerate(r.rings)
                    ],
                )
                callbacks.register(conn, r)
                n += 1
        return n

    def call(self, call_id: str) -> CallRecord | None:
        rows = self._calls("WHERE call_id = ?", (call_id,))
        return rows[0] if rows else None

    def calls(
        self, since: int | None = None, until: int | None = None, limit: int | None = None
    ) -> list[CallRecord]:
        """Calls that arrived (or first queued) in [since, until), oldest first."""
        where = "WHERE COALESCE(t_arrival, t_q) >= ? AND COALESCE(t_arrival, t_q) < ?"
        args: tuple[object, ...] = (since or 0, until if until is not None else 2**62)
        tail = " ORDER BY COALESCE(t_arrival, t_q), call_id"
        if limit is not None:
            tail += f" LIMIT {int(limit)}"
        return self._calls(where + tail, args)

    def select_calls(self, where: str, args: tuple[object, ...]) -> list[CallRecord]:
        """Calls matching a WHERE clause over the calls table (for the metrics rollups)."""
        return self._calls(where, args)

    def _calls(self, where: str, args: tuple[object, ...]) -> list[CallRecord]:
        with self._lock:
            conn = self.connection
            rows = conn.execute(
                "SELECT call_id, linkedid, caller, caller_name, line, t_arrival, ivr_path, tag, "
                "t_answer, agent, talk_end, completed_by, t_end, end_reason, survey_score, "
                "callback_number, recording, precision, source, notes, t_request, twilio_sid, pbx "
                f"FROM calls {where}",
                args,
            ).fetchall()
            ids = [row[0] for row in rows]
            visits: dict[str, list[QueueVisit]] = {i: [] for i in ids}
            rings: dict[str, list[Ring]] = {i: [] for i in ids}
            # SQLite binds a bounded number of variables (250,000 in Debian's build): a
            # month of a big centre has more calls, so the ids go in slices (one array on PG)
            for among, part in dialect.any_of(conn, "call_id", ids):
                for cid, *v in conn.execute(
                    "SELECT call_id, queue, t_enter, position, t_leave, outcome FROM call_visits "
                    f"WHERE {among} ORDER BY call_id, n",
                    part,
                ):
                    visits[cid].append(QueueVisit(*v))
                for cid, agent, t0, t1, answered in conn.execute(
                    "SELECT call_id, agent, t_start, t_end, answered FROM call_rings "
                    f"WHERE {among} ORDER BY call_id, n",
                    part,
                ):
                    rings[cid].append(Ring(agent, t0, t1, bool(answered)))
        return [
            CallRecord(
                call_id=row[0],
                linkedid=row[1],
                caller=row[2],
                caller_name=row[3],
                line=row[4],
                t_arrival=row[5],
                ivr_path=row[6],
                tag=row[7],
                visits=tuple(visits[row[0]]),
                rings=tuple(rings[row[0]]),
                t_answer=row[8],
                agent=row[9],
                talk_end=row[10],
                completed_by=row[11],
                t_end=row[12],
                end_reason=EndReason(row[13]) if row[13] else None,
                survey_score=row[14],
                callback_number=row[15],
                recording=row[16],
                precision=Precision(row[17]),
                source=Source(row[18]),
                notes=tuple(json.loads(row[19])),
                t_request=row[20],
                twilio_sid=row[21],
                pbx=row[22],
            )
            for row in rows
        ]
