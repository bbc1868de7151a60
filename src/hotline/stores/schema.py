"""Connections and per-component migrations for the stores that share one database: a
SQLite file, or a PostgreSQL database (``HOTLINE_DB``: :func:`hotline.host.settings.database`).

The history (calls, journal, alerts) numbers its migrations in ``PRAGMA user_version``.
Every other store (transcripts, web accounts, the access log, ...) keeps its own numbered
scripts under a component name in ``schema_components``, so components evolve apart:

    conn = connect(settings.db)
    migrate(conn, "transcripts", TRANSCRIPT_MIGRATIONS)

A database whose component is newer than this hotline is refused, never downgraded.
A component has its scripts per dialect (``MIGRATIONS`` for SQLite, ``PG_MIGRATIONS`` for
PostgreSQL), as many of each: version n means the same schema on both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from hotline.host.settings import database
from hotline.stores import pg
from hotline.stores.dialect import BEGIN, Connection, Dialect, SqliteConnection


class SchemaError(Exception):
    """The database is unusable by this hotline (a newer schema, a broken script)."""


def connect(target: Path | str) -> Connection:
    """A connection to TARGET (a SQLite path, ``sqlite:///path`` or ``postgresql://...``)
    in autocommit mode (transactions are explicit); another scheme is refused
    (:class:`~hotline.host.settings.ConfigError`)."""
    if str(target) == ":memory:":
        return connect_sqlite(target)
    where = database(target)
    if isinstance(where, str):
        return pg.connect(where)
    return connect_sqlite(where)


def connect_sqlite(path: Path | str) -> SqliteConnection:
    """A SQLite connection: WAL, foreign keys on, waiting up to 5 s for the writer."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), check_same_thread=False, isolation_level=None, factory=SqliteConnection
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


@contextmanager
def transaction(conn: Connection, lock: threading.Lock) -> Iterator[Connection]:
    """BEGIN … COMMIT under LOCK; ROLLBACK on any exception (cancellation too). SQLite's
    BEGIN IMMEDIATE; PostgreSQL's READ COMMITTED (:data:`hotline.stores.dialect.BEGIN`)."""
    with lock:
        conn.execute(BEGIN[conn.dialect])
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def run_script(conn: Connection, script: str) -> None:
    """Run a migration script inside the caller's transaction."""
    if conn.dialect is Dialect.POSTGRESQL:
        conn.execute(script)  # several statements at once (no arguments: sent as it is)
        return
    # executescript() would COMMIT on its own; statements one by one stay in our transaction.
    # Triggers hold ';' inside BEGIN … END, so a script may separate statements by ';;' too.
    separator = ";;" if ";;" in script else ";"
    for statement in script.split(separator):
        if statement.strip():
            conn.execute(statement)


def migrate(
    conn: Connection,
    component: str,
    scripts: Sequence[str],
    lock: threading.Lock | None = None,
    pg_scripts: Sequence[str] | None = None,
) -> int:
    """Apply COMPONENT's scripts not yet applied, each in its own transaction; its version.
    On PostgreSQL, PG_SCRIPTS (the same number: version n is the same schema)."""
    lock = lock or threading.Lock()
    if conn.dialect is Dialect.POSTGRESQL:
        if pg_scripts is None or len(pg_scripts) != len(scripts):
            raise SchemaError(f"the {component} schema has no PostgreSQL migrations")
        scripts = pg_scripts
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
            run_script(conn, script)
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

    connection: Connection
    _lock: threading.Lock

    COMPONENT: ClassVar[str] = ""
    MIGRATIONS: ClassVar[tuple[str, ...]] = ()
    PG_MIGRATIONS: ClassVar[tuple[str, ...] | None] = None  # None: SQLite only

    @classmethod
    def connect(cls, path: Path | str) -> Connection:
        """The connection the store uses (a subclass may register SQL functions on it)."""
        return connect(path)

    @classmethod
    def open(cls, path: Path | str) -> Self:
        store = cls(cls.connect(path), threading.Lock())
        store.migrate_component()
        return store

    def migrate_component(self) -> int:
        """Apply this component's migrations not yet applied (per dialect); its version."""
        return migrate(self.connection, self.COMPONENT, self.MIGRATIONS, self._lock,
                       self.PG_MIGRATIONS)  # fmt: skip

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    def close(self) -> None:
        self.connection.close()

    @property
    def file(self) -> str:
        """The database file or URL (another component's store opens the same one)."""
        if isinstance(self.connection, pg.PgConnection):
            return self.connection.url
        with self._lock:
            row = self.connection.execute("PRAGMA database_list").fetchone()
        return str(row[2])

    def tx(self) -> AbstractContextManager[Connection]:
        return transaction(self.connection, self._lock)
