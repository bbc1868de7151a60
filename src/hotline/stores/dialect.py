"""The SQL engines the stores run on, and the little that differs between them.

A store holds a :class:`Connection`: SQLite's own (:class:`SqliteConnection`) or the
PostgreSQL adapter (:class:`hotline.stores.pg.PgConnection`). Both take ``?`` placeholders,
return rows as tuples and give a cursor with ``fetchone``, ``fetchall``, ``rowcount`` and
``description``, so most SQL is written once. What differs is said here, by dialect:

* a transaction's start (:data:`BEGIN`): SQLite's ``BEGIN IMMEDIATE`` (one writer at a
  time, the whole file), PostgreSQL's READ COMMITTED (each statement sees what committed
  before it ran: what a chain append needs after :func:`serialize`);
* :func:`serialize`: one writer at a time for one hash chain or one decision (a legal hold
  against a disposal): PostgreSQL's transaction-scoped advisory lock; nothing on SQLite,
  where ``BEGIN IMMEDIATE`` serializes every writer already;
* the errors a caller catches (:data:`DatabaseError`, :data:`IntegrityError`,
  :data:`OperationalError`: each a tuple of both engines' classes);
* :func:`has_table`, :func:`no_limit`, :func:`any_of` (an id list bound as one array on
  PostgreSQL, in slices of SQLite's variable limit).

Upserts are portable (``INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c``, or
``DO NOTHING``) and so is ``RETURNING``: both dialects take them as written. Migrations
are per dialect (:class:`hotline.stores.schema.Store`'s ``MIGRATIONS`` and
``PG_MIGRATIONS``): types, identities, triggers and the search index differ.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from typing import Any, Protocol

import psycopg

__all__ = [
    "BEGIN",
    "Connection",
    "Cursor",
    "DatabaseError",
    "Dialect",
    "IntegrityError",
    "OperationalError",
    "SqliteConnection",
    "any_of",
    "has_table",
    "lock_key",
    "no_limit",
    "serialize",
]


class Dialect(Enum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Cursor(Protocol):
    """What the stores use of a cursor (sqlite3's and psycopg's both have it)."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A store's connection: ``?`` placeholders, rows as tuples, autocommit outside the
    transactions a store begins itself (:func:`hotline.stores.schema.transaction`)."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection, marked with its dialect (``sqlite3.connect(factory=...)``)."""

    dialect = Dialect.SQLITE


# what a caller catches whichever engine is under the store
DatabaseError = (sqlite3.Error, psycopg.Error)
IntegrityError = (sqlite3.IntegrityError, psycopg.IntegrityError)
OperationalError = (sqlite3.OperationalError, psycopg.OperationalError)

BEGIN = {
    Dialect.SQLITE: "BEGIN IMMEDIATE",
    Dialect.POSTGRESQL: "BEGIN ISOLATION LEVEL READ COMMITTED",
}


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for NAME (a chain's table, a decision's name)."""
    return int.from_bytes(hashlib.sha256(f"hotline:{name}".encode()).digest()[:8], "big") >> 1


def serialize(conn: Connection, name: str) -> None:
    """Inside a transaction: wait until no other transaction holds NAME, hold it until
    this one ends. Read a chain's head only after this (READ COMMITTED then sees every
    append committed before), so two writers never link to the same entry."""
    if conn.dialect is Dialect.POSTGRESQL:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))


def has_table(conn: Connection, name: str) -> bool:
    """Whether the table NAME exists (in the connection's schema search path)."""
    if conn.dialect is Dialect.POSTGRESQL:
        row = conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def no_limit(conn: Connection) -> int | None:
    """The LIMIT value meaning "all rows" (an OFFSET needs a LIMIT in SQLite)."""
    return None if conn.dialect is Dialect.POSTGRESQL else -1


def any_of(
    conn: Connection, column: str, values: Sequence[object]
) -> Iterator[tuple[str, list[Any]]]:
    """``column IN (...)`` over VALUES as (condition, arguments) slices: one array
    (``= ANY(?)``) on PostgreSQL; slices of at most SQLite's bound-variable limit there."""
    if conn.dialect is Dialect.POSTGRESQL:
        yield f"{column} = ANY(?)", [list(values)]
        return
    assert isinstance(conn, sqlite3.Connection)
    step = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    for start in range(0, len(values), step):
        part = list(values[start : start + step])
        yield f"{column} IN ({','.join('?' * len(part))})", part
