"""SQLite connections and per-component migrations for the stores that share one file.

The history (calls, journal, alerts) numbers its migrations in ``PRAGMA user_version``.
Every other store (transcripts, web accounts, the access log, ...) keeps its own numbered
scripts under a component name in ``schema_components``, so components evolve apart:

    conn = connect(settings.db)
    migrate(conn, "transcripts", TRANSCRIPT_MIGRATIONS)

A database whose component is newer than this hotline is refused, never downgraded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self


class SchemaError(Exception):
    """The database is unusable by this hotline (a newer schema, a broken script)."""


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT under LOCK; ROLLBACK on any exception (cancellation too)."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _run(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT on its own; statements one by one stay in our transaction.
    # Triggers hold ';' inside BEGIN … END, so a script may separate statements by ';;' too.
    separator = ";;" if ";;" in script else ";"
    for statement in script.split(separator):
        if statement.strip():
            conn.execute(statement)


def migrate(
    conn: sqlite3.Connection,
    component: str,
    scripts: Sequence[str],
    lock: threading.Lock | None = None,
) -> int:
    """Apply COMPONENT's scripts not yet applied, each in its own transaction; its version."""
    lock = lock or threading.Lock()
    with transaction(conn, lock):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_components "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    row = conn.execute(
        "SELECT version FROM schema_components WHERE component = ?", (component,)
    ).fetchone()
    version = int(row[0]) if row else 0
    if version > len(scripts):
        raise SchemaError(
            f"the database's {component} schema is version {version}, newer than this "
            f"hotline's ({len(scripts)}): upgrade hotline"
        )
    for n, script in enumerate(scripts[version:], start=version + 1):
        with transaction(conn, lock):
            _run(conn, script)
            conn.execute(
                "INSERT INTO schema_components (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, n),
            )
    return len(scripts)


@dataclass
class Store:
    """A component's store in the shared SQLite file: one connection and its lock.

    A subclass names its ``COMPONENT`` and ``MIGRATIONS``; ``open`` connects and migrates::

        class Notes(Store):
            COMPONENT, MIGRATIONS = "notes", ("CREATE TABLE notes (...)",)

        notes = Notes.open(settings.db)
        with notes.tx() as conn: ...          # BEGIN IMMEDIATE ... COMMIT
    """

    connection: sqlite3.Connection
    _lock: threading.Lock

    COMPONENT: ClassVar[str] = ""
    MIGRATIONS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def connect(cls, path: Path | str) -> sqlite3.Connection:
        """The connection the store uses (a subclass may register SQL functions on it)."""
        return connect(path)

    @classmethod
    def open(cls, path: Path | str) -> Self:
        store = cls(cls.connect(path), threading.Lock())
        migrate(store.connection, cls.COMPONENT, cls.MIGRATIONS, store._lock)
        return store

    def close(self) -> None:
        self.connection.close()

    @property
    def file(self) -> str:
        """The database file (another component's store opens the same one)."""
        with self._lock:
            row = self.connection.execute("PRAGMA database_list").fetchone()
        return str(row[2])

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.connection, self._lock)
