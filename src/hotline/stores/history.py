"""The history in SQLite (WAL) or PostgreSQL: one connection, one numbered list of
migrations per dialect, and an aggregate per module.

    history = History.open(settings.db)
    history.save_calls([record, ...])       # idempotent: a call is replaced as a whole
    history.append_journal([change, ...])   # never updated or deleted
    history.calls(since=t0, until=t1)

:class:`History` is the composition the callers use; each aggregate is its own module:
:mod:`~hotline.stores.calls` (calls with their queue visits and rings),
:mod:`~hotline.stores.journal` (the append-only, hash-chained agent journal),
:mod:`~hotline.stores.callbacks`, :mod:`~hotline.stores.legs` (recorded legs),
:mod:`~hotline.stores.alerts` (the watchdog's alerts and escalation steps) and
:mod:`~hotline.stores.twilio_events` (Twilio's webhook events).

Migrations are numbered SQL scripts; ``PRAGMA user_version`` records the last one applied.
Methods are synchronous: the controller calls them from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self, TypeVar

from hotline.stores import journal, schema
from hotline.stores.alerts import Alerts
from hotline.stores.callbacks import Callbacks
from hotline.stores.calls import Calls
from hotline.stores.dialect import Connection, Dialect
from hotline.stores.journal import GENESIS, Journal
from hotline.stores.legs import Legs
from hotline.stores.twilio_events import TwilioEvents

# the journal's row format and hash under their former names (tests recompute a chain)
_JOURNAL_COLUMNS, _change, _journal_hash = journal.COLUMNS, journal.change_of, journal.entry_hash

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
    # 8: Twilio's callers: the CallSid on the call, and every Twilio webhook's event
    """
    ALTER TABLE calls ADD COLUMN twilio_sid TEXT NOT NULL DEFAULT '';
    CREATE INDEX calls_twilio_sid ON calls (twilio_sid) WHERE twilio_sid <> '';
    CREATE TABLE twilio_events (
        id INTEGER PRIMARY KEY,
        call_sid TEXT NOT NULL,
        kind TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        fields TEXT NOT NULL
    );
    CREATE INDEX twilio_events_call ON twilio_events (call_sid, id);
    """,
    # 9: several PBXs: the PBX each call was on ('' before PBXs were named: the default)
    """
    ALTER TABLE calls ADD COLUMN pbx TEXT NOT NULL DEFAULT '';
    CREATE INDEX calls_pbx ON calls (pbx, t_q);
    """,
)


def append_only_pg(table: str, what: str) -> str:
    """PostgreSQL triggers that refuse UPDATE, DELETE and TRUNCATE on TABLE (row triggers
    never see a TRUNCATE: a statement trigger does), enabled ALWAYS so that even
    ``session_replication_role = replica`` keeps them. Owners can still drop them: the
    chains' heads kept elsewhere (:mod:`hotline.stores.anchors`) show a rewrite."""
    return f"""
    CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{what} is append-only' USING ERRCODE = 'restrict_violation';
    END $$;
    CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_refuse();
    CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse();
    ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_change;
    ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;
    """


# The same schema on PostgreSQL, version for version: identities for INTEGER PRIMARY KEY
# (BY DEFAULT: `db migrate` copies the ids), plpgsql triggers, one fork-proof chain.
PG_MIGRATIONS: tuple[str, ...] = (
    MIGRATIONS[0].replace(
        "id INTEGER PRIMARY KEY,", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    )
    + "CREATE UNIQUE INDEX agent_journal_prev ON agent_journal (prev_hash);",
    MIGRATIONS[1],
    MIGRATIONS[2],
    MIGRATIONS[3],
    MIGRATIONS[4],
    append_only_pg("agent_journal", "the agent journal"),
    MIGRATIONS[6],
    MIGRATIONS[7].replace(
        "id INTEGER PRIMARY KEY,", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    ),
    MIGRATIONS[8],
)

__all__ = ["GENESIS", "MIGRATIONS", "PG_MIGRATIONS", "History", "HistoryError", "append_only_pg"]

T = TypeVar("T")


class HistoryError(Exception):
    """The history database is unusable (newer schema, corrupt journal, ...)."""


@dataclass
class History(Calls, Callbacks, Legs, Alerts, Journal, TwilioEvents):
    """The store of the file's oldest component; its migrations are numbered in
    ``PRAGMA user_version`` (so existing databases stay valid), not in schema_components.

    Its methods are its aggregates' (one connection and lock for them all)."""

    @classmethod
    def open(cls, path: Path | str) -> Self:
        history = cls(cls.connect(path), threading.Lock())
        history.migrate()
        return history

    def read(self, query: Callable[[Connection], T]) -> T:
        """Run a read of another component's tables in this file, under the history's lock
        (one connection serves the threads that share it)."""
        with self._lock:
            return query(self.connection)

    def migrate(self) -> int:
        """Apply the migrations not yet applied; return the schema version. On PostgreSQL
        the history is a component like the others (``schema_components``)."""
        if self.connection.dialect is Dialect.POSTGRESQL:
            try:
                return schema.migrate(self.connection, "history", MIGRATIONS, self._lock,
                                      PG_MIGRATIONS)  # fmt: skip
            except schema.SchemaError as exc:
                raise HistoryError(str(exc)) from None
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
