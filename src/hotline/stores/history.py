"""The history in SQLite (WAL): calls with their queue visits and rings, the append-only
agent journal (hash-chained), callbacks. Plain SQL types, so PostgreSQL can follow.

    history = History.open(settings.db)
    history.save_calls([record, ...])       # idempotent: a call is replaced as a whole
    history.append_journal([change, ...])   # never updated or deleted
    history.calls(since=t0, until=t1)

Migrations are numbered SQL scripts; ``PRAGMA user_version`` records the last one applied.
Methods are synchronous: the controller calls them from a worker thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from hotline.core.records import (
    AgentChange,
    AgentStatus,
    CallRecord,
    EndReason,
    PauseSetBy,
    Precision,
    QueueVisit,
    Ring,
    Source,
)
from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg, Recording
from hotline.stores import chain, schema

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        linkedid TEXT NOT NULL DEFAULT '',
        caller TEXT NOT NULL DEFAULT '',
        caller_name TEXT NOT NULL DEFAULT '',
        line TEXT NOT NULL DEFAULT '',
        t_arrival BIGINT,
        t_q BIGINT,
        first_queue TEXT NOT NULL DEFAULT '',
        ivr_path TEXT NOT NULL DEFAULT '',
        tag TEXT NOT NULL DEFAULT '',
        t_answer BIGINT,
        agent TEXT NOT NULL DEFAULT '',
        talk_end BIGINT,
        completed_by TEXT NOT NULL DEFAULT '',
        t_end BIGINT,
        end_reason TEXT,
        survey_score INTEGER,
        callback_number TEXT NOT NULL DEFAULT '',
        recording TEXT NOT NULL DEFAULT '',
        precision TEXT NOT NULL,
        source TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX calls_t_q ON calls (t_q);
    CREATE INDEX calls_t_arrival ON calls (t_arrival);
    CREATE INDEX calls_caller ON calls (caller, t_arrival);
    CREATE INDEX calls_agent ON calls (agent, t_answer);
    CREATE TABLE call_visits (
        call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        queue TEXT NOT NULL,
        t_enter BIGINT NOT NULL,
        position INTEGER NOT NULL,
        t_leave BIGINT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (call_id, n)
    );
    CREATE INDEX call_visits_queue ON call_visits (queue, t_enter);
    CREATE TABLE call_rings (
        call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        agent TEXT NOT NULL,
        t_start BIGINT NOT NULL,
        t_end BIGINT,
        answered INTEGER NOT NULL,
        PRIMARY KEY (call_id, n)
    );
    CREATE INDEX call_rings_agent ON call_rings (agent, t_start);
    CREATE TABLE agent_journal (
        id INTEGER PRIMARY KEY,
        t BIGINT NOT NULL,
        agent TEXT NOT NULL,
        kind TEXT NOT NULL,
        queue TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_by TEXT,
        actor TEXT NOT NULL,
        call_id TEXT NOT NULL,
        status TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX agent_journal_agent ON agent_journal (agent, t);
    CREATE TABLE callbacks (
        call_id TEXT PRIMARY KEY,
        number TEXT NOT NULL,
        queue TEXT NOT NULL,
        t_requested BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        t_done BIGINT,
        done_by TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: when the caller asked for a human (HotlineQueue), and the journal's notes
    """
    ALTER TABLE calls ADD COLUMN t_request BIGINT;
    ALTER TABLE agent_journal ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """,
    # 3: the recorded legs of each call
    """
    CREATE TABLE recordings (
        call_id TEXT NOT NULL,
        leg TEXT NOT NULL,
        path TEXT NOT NULL,
        size BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        t_catalogued BIGINT NOT NULL,
        PRIMARY KEY (call_id, leg)
    );
    """,
    # 4: the watchdog's alerts (latest version of each; the document holds the evidence)
    """
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        agent TEXT NOT NULL,
        team TEXT NOT NULL,
        severity TEXT NOT NULL,
        t_start BIGINT NOT NULL,
        t_end BIGINT,
        t_raised BIGINT NOT NULL,
        state TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX alerts_agent ON alerts (agent, t_raised);
    """,
    # 5: escalation steps carried out (each once, across restarts), alerts by time
    """
    CREATE TABLE escalations (
        step_id TEXT PRIMARY KEY,
        alert TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        agent TEXT NOT NULL,
        t_due BIGINT NOT NULL,
        t_done BIGINT NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX escalations_alert ON escalations (alert);
    CREATE INDEX alerts_t_raised ON alerts (t_raised);
    """,
    # 6: the agent journal is evidence (disciplinary cases): append-only, like the access log
    """
    CREATE TRIGGER agent_journal_no_update BEFORE UPDATE ON agent_journal BEGIN
        SELECT RAISE(ABORT, 'the agent journal is append-only');
    END;;
    CREATE TRIGGER agent_journal_no_delete BEFORE DELETE ON agent_journal BEGIN
        SELECT RAISE(ABORT, 'the agent journal is append-only');
    END;;
    """,
    # 7: when each leg's speech-to-text job was queued (NULL: not yet: Redis was away);
    # legs catalogued before this were queued when catalogued
    """
    ALTER TABLE recordings ADD COLUMN t_queued BIGINT;
    UPDATE recordings SET t_queued = t_catalogued;
    CREATE INDEX recordings_unqueued ON recordings (t_catalogued) WHERE t_queued IS NULL;
    """,
)

GENESIS = chain.GENESIS
T = TypeVar("T")


class HistoryError(Exception):
    """The history database is unusable (newer schema, corrupt journal, ...)."""


def _journal_hash(prev: str, change: AgentChange) -> str:
    return chain.link(
        prev,
        [
            change.t,
            change.agent,
            change.kind,
            change.queue,
            change.reason,
            change.set_by.value if change.set_by else None,
            change.actor,
            change.call_id,
            change.status.value if change.status else None,
            *([change.note] if change.note else []),
        ],
    )


@dataclass
class History(schema.Store):
    """The store of the file's oldest component; its migrations are numbered in
    ``PRAGMA user_version`` (so existing databases stay valid), not in schema_components."""

    @classmethod
    def open(cls, path: Path | str) -> Self:
        history = cls(cls.connect(path), threading.Lock())
        history.migrate()
        return history

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read of another component's tables in this file, under the history's lock
        (one connection serves the threads that share it)."""
        with self._lock:
            return query(self.connection)

    def migrate(self) -> int:
        """Apply the migrations not yet applied; return the schema version."""
        version = int(self.connection.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise HistoryError(
                f"the database has schema {version}, newer than this hotline "
                f"({len(MIGRATIONS)}): upgrade hotline"
            )
        for n, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.tx() as conn:
                # a script with triggers (";" inside a statement) separates them with ";;"
                for statement in script.split(";;" if ";;" in script else ";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {n}")
        return len(MIGRATIONS)

    # -- calls ----------------------------------------------------------------------------

    def save_calls(self, records: Iterable[CallRecord]) -> int:
        """Insert or replace whole calls (visits and rings included); return how many."""
        n = 0
        with self.tx() as conn:
            for r in records:
                conn.execute("DELETE FROM calls WHERE call_id = ?", (r.call_id,))
                conn.execute(
                    "INSERT INTO calls VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        r.call_id, r.linkedid, r.caller, r.caller_name, r.line, r.t_arrival,
                        r.t_q, r.first_queue, r.ivr_path, r.tag, r.t_answer, r.agent,
                        r.talk_end, r.completed_by, r.t_end,
                        r.end_reason.value if r.end_reason else None, r.survey_score,
                        r.callback_number, r.recording, r.precision.value, r.source.value,
                        json.dumps(list(r.notes), ensure_ascii=False),
                        r.t_request,
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
                if r.callback_number and r.t_end is not None:
                    conn.execute(
                        "INSERT INTO callbacks (call_id, number, queue, t_requested) "
                        "VALUES (?,?,?,?) ON CONFLICT (call_id) DO NOTHING",
                        (r.call_id, r.callback_number, r.first_queue, r.t_end),
                    )
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
                "callback_number, recording, precision, source, notes, t_request "
                f"FROM calls {where}",
                args,
            ).fetchall()
            ids = [row[0] for row in rows]
            visits: dict[str, list[QueueVisit]] = {i: [] for i in ids}
            rings: dict[str, list[Ring]] = {i: [] for i in ids}
            # SQLite binds a bounded number of variables (250,000 in Debian's build): a
            # month of a big centre has more calls, so the ids go in slices
            step = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            for start in range(0, len(ids), step):
                part = ids[start : start + step]
                marks = ",".join("?" * len(part))
                for cid, *v in conn.execute(
                    "SELECT call_id, queue, t_enter, position, t_leave, outcome FROM call_visits "
                    f"WHERE call_id IN ({marks}) ORDER BY call_id, n",
                    part,
                ):
                    visits[cid].append(QueueVisit(*v))
                for cid, agent, t0, t1, answered in conn.execute(
                    "SELECT call_id, agent, t_start, t_end, answered FROM call_rings "
                    f"WHERE call_id IN ({marks}) ORDER BY call_id, n",
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
            )
            for row in rows
        ]

    # -- callbacks ----------------------------------------------------------------------------

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

    # -- recordings -------------------------------------------------------------------------

    def save_recordings(self, recordings: Iterable[Recording], at: int) -> list[Mismatch]:
        """Record catalogued legs; what is refused, as integrity mismatches.

        A leg catalogued again with the same bytes changes nothing (its first catalogue time
        stays). A leg whose bytes differ from what the catalogue holds is refused, never
        replaced: the catalogue's hash is the evidence that a recording was not altered, so
        a new hash for an old leg is an alteration to report (the caller raises the alert).
        """
        refused: list[Mismatch] = []
        with self.tx() as conn:
            for r in recordings:
                held = conn.execute(
                    "SELECT sha256 FROM recordings WHERE call_id = ? AND leg = ?",
                    (r.call_id, r.leg.value),
                ).fetchone()
                if held is None:
                    conn.execute(
                        "INSERT INTO recordings (call_id, leg, path, size, duration_ms, sha256, "
                        "t_catalogued) VALUES (?,?,?,?,?,?,?)",
                        (r.call_id, r.leg.value, r.path, r.size, r.duration_ms, r.sha256, at),
                    )
                elif held[0] != r.sha256:
                    refused.append(Mismatch(r.call_id, r.leg, r.path, held[0], r.sha256, "changed"))
        return refused

    def link_recording(self, call_id: str, prefix: str) -> int | None:
        """Give the call's record the prefix of its legs if it has none: 1 linked now, 0 it
        had one, None no such call (yet)."""
        with self.tx() as conn:
            cur = conn.execute(
                "UPDATE calls SET recording = ? WHERE call_id = ? AND recording = ''",
                (prefix, call_id),
            )
            if cur.rowcount:
                return 1
            found = conn.execute("SELECT 1 FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return 0 if found else None

    def mark_queued(self, recordings: Iterable[Recording], at: int) -> None:
        """Their speech-to-text jobs are in the stream."""
        with self.tx() as conn:
            conn.executemany(
                "UPDATE recordings SET t_queued = ? WHERE call_id = ? AND leg = ?",
                [(at, r.call_id, r.leg.value) for r in recordings],
            )

    def queued_legs(self, call_id: str) -> set[Leg]:
        """The call's legs whose jobs are in the stream already."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT leg FROM recordings WHERE call_id = ? AND t_queued IS NOT NULL",
                (call_id,),
            ).fetchall()
        return {Leg(r[0]) for r in rows}

    def unqueued(self, limit: int = 1000) -> list[Recording]:
        """Catalogued legs to transcribe whose job never reached the stream (Redis was away
        when they were catalogued), oldest first."""
        return self._recordings(
            "WHERE t_queued IS NULL AND leg != 'mixed' AND duration_ms > 0 "
            "ORDER BY t_catalogued LIMIT ?",
            (limit,),
        )

    def recordings(self, call_id: str) -> list[Recording]:
        return self._recordings("WHERE call_id = ? ORDER BY leg", (call_id,))

    def _recordings(self, where: str, args: tuple[object, ...]) -> list[Recording]:
        with self._lock:
            rows = self.connection.execute(
                "SELECT call_id, leg, path, size, duration_ms, sha256 FROM recordings " + where,
                args,
            ).fetchall()
        return [Recording(r[0], Leg(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    # -- alerts -------------------------------------------------------------------------------

    def save_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Upsert alert documents (as published live: id, rule, agent, team, ...)."""
        rows = [
            (a["id"], a["rule"], a["agent"], a["team"], a["severity"], a["start"], a["end"],
             a["t_raised"], a["state"], json.dumps(a, ensure_ascii=False))
            for a in alerts
        ]  # fmt: skip
        with self.tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
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
            conn.executemany("INSERT OR IGNORE INTO escalations VALUES (?,?,?,?,?,?,?,?)", rows)
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

    # -- the agent journal ----------------------------------------------------------------

    def append_journal(self, changes: Iterable[AgentChange]) -> int:
        """Append entries, each chained to the previous by SHA-256; return how many."""
        n = 0
        with self.tx() as conn:
            last = conn.execute(
                "SELECT hash FROM agent_journal ORDER BY id DESC LIMIT 1"
            ).fetchone()
            prev = last[0] if last else GENESIS
            for c in changes:
                digest = _journal_hash(prev, c)
                conn.execute(
                    "INSERT INTO agent_journal (t, agent, kind, queue, reason, set_by, actor, "
                    "call_id, status, prev_hash, hash, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c.t, c.agent, c.kind, c.queue, c.reason,
                        c.set_by.value if c.set_by else None, c.actor, c.call_id,
                        c.status.value if c.status else None, prev, digest, c.note,
                    ),
                )  # fmt: skip
                prev = digest
                n += 1
        return n

    def journal(
        self, agent: str | None = None, since: int = 0, until: int = 2**62
    ) -> list[AgentChange]:
        sql = f"SELECT {_JOURNAL_COLUMNS} FROM agent_journal WHERE t >= ? AND t < ?"
        args: tuple[object, ...] = (since, until)
        if agent is not None:
            sql += " AND agent = ?"
            args += (agent,)
        with self._lock:
            rows = self.connection.execute(sql + " ORDER BY id", args).fetchall()
        return [_change(row) for row in rows]

    def verify_journal(self) -> int | None:
        """The id of the first journal entry whose hash chain is broken, or None if intact."""
        prev = GENESIS
        with self._lock:
            rows = self.connection.execute(
                f"SELECT id, prev_hash, hash, {_JOURNAL_COLUMNS} FROM agent_journal ORDER BY id"
            ).fetchall()
        for row in rows:
            if row[1] != prev or row[2] != _journal_hash(prev, _change(row[3:])):
                return int(row[0])
            prev = row[2]
        return None


_JOURNAL_COLUMNS = "t, agent, kind, queue, reason, set_by, actor, call_id, status, note"


def _change(r: tuple[Any, ...]) -> AgentChange:
    """A journal row (the columns of _JOURNAL_COLUMNS, in order) as an AgentChange."""
    return AgentChange(
        t=r[0], agent=r[1], kind=r[2], queue=r[3], reason=r[4],
        set_by=PauseSetBy(r[5]) if r[5] else None, actor=r[6], call_id=r[7],
        status=AgentStatus(r[8]) if r[8] else None, note=r[9],
    )  # fmt: skip
