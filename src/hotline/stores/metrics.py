"""The metrics' own tables beside the history (same file, component ``metrics``).

    store = MetricsStore.open(settings.db)
    store.note_registry(at=now, by="hotline 0.1.0")     # record a new formula revision, once
    store.record(param_change(...))                     # append-only: who, when, why
    store.changes()                                     # every change, oldest first

``metrics_changes`` cannot be updated or deleted (triggers refuse it), so a figure's rules
can always be traced back to who set them and when.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from hotline.metrics.changes import Change, ChangeKind, registry_change
from hotline.metrics.formulas import REVISION, registry_hash
from hotline.metrics.params import MetricsError
from hotline.stores import schema
from hotline.stores.history import History
from hotline.stores.rollup_schema import ROLLUP_MIGRATION

__all__ = ["COMPONENT", "MIGRATIONS", "MetricsStore", "read_changes"]

COMPONENT = "metrics"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE metrics_changes (
        id INTEGER PRIMARY KEY,
        t BIGINT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        previous TEXT NOT NULL,
        revision INTEGER NOT NULL,
        by TEXT NOT NULL,
        why TEXT NOT NULL
    );;
    CREATE TRIGGER metrics_changes_append_only_u BEFORE UPDATE ON metrics_changes
    BEGIN SELECT RAISE(ABORT, 'metrics_changes is append-only'); END;;
    CREATE TRIGGER metrics_changes_append_only_d BEFORE DELETE ON metrics_changes
    BEGIN SELECT RAISE(ABORT, 'metrics_changes is append-only'); END
    """,
    # 2: rollups per (parameters, day, queue, agent), kept right by triggers on the history
    ROLLUP_MIGRATION,
)

_COLUMNS = "t, kind, name, value, previous, revision, by, why"


def read_changes(conn: sqlite3.Connection) -> list[Change]:
    """Every recorded change, oldest first, on any connection to the file: none while no
    metrics command has made the table yet (a reader like the wallboard need not make it)."""
    made = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metrics_changes'"
    ).fetchone()
    if made is None:
        return []
    rows = conn.execute(f"SELECT {_COLUMNS} FROM metrics_changes ORDER BY t, id").fetchall()
    return [Change(r[0], ChangeKind(r[1]), *r[2:]) for r in rows]


@dataclass
class MetricsStore(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS

    @classmethod
    def connect(cls, path: Path | str) -> sqlite3.Connection:
        """A connection to the file with the history migrated first: migration 2 (the
        rollup) puts indexes and triggers on the history's tables."""
        conn = schema.connect(path)
        History(conn, threading.Lock()).migrate()
        return conn

    def changes(self) -> list[Change]:
        with self._lock:
            return read_changes(self.connection)

    def record(self, change: Change) -> None:
        c = change
        with self.tx() as conn:
            last = conn.execute("SELECT MAX(t) FROM metrics_changes").fetchone()[0]
            if last is not None and c.t < last:
                raise MetricsError(
                    "a change cannot be recorded before the last one (no back-dating)"
                )
            conn.execute(
                f"INSERT INTO metrics_changes ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                (c.t, c.kind.value, c.name, c.value, c.previous, c.revision, c.by, c.why),
            )

    def note_registry(self, *, at: int, by: str) -> Change | None:
        """Record the code's formula registry if it is not the last one recorded."""
        changes = self.changes()
        at = max([at, *(c.t for c in changes)])
        change = registry_change(registry_hash(), REVISION, changes, by=by, at=at)
        if change is not None:
            self.record(change)
        return change
