"""PostgreSQL for the stores: a psycopg connection that speaks like sqlite3's.

    conn = connect("postgresql://hotline@db1/hotline")
    conn.execute("SELECT call_id FROM calls WHERE t_q >= ?", (t0,)).fetchall()

The stores write ``?`` placeholders (SQLite's); :func:`placeholders` turns them into
psycopg's ``%s`` outside string literals and doubles every ``%``. A statement without
arguments is sent as it is (several statements at once: a migration script). The
connection is in autocommit mode; a store's transactions are explicit
(:func:`hotline.stores.schema.transaction`), READ COMMITTED.

A store keeps its connection for the life of the process (the web app opens each store
once: no connect per request, docs/benchmarks.md "PostgreSQL connections"), so a
connection that broke (the server restarted, a standby was promoted, the backend was
terminated) is replaced, never kept: before each statement outside a transaction, an
idle connection with something to read (the server's goodbye) or known broken is closed
and a new one made. A statement that fails because the connection broke under it raises
(it may or may not have run: it is not sent again); the next one gets a new connection.
Inside a transaction a lost connection is an error until the ROLLBACK.
"""

from __future__ import annotations

import select
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from hotline.stores.dialect import Dialect

__all__ = ["PgConnection", "connect", "placeholders"]


def placeholders(sql: str) -> str:
    """SQL with ``?`` placeholders as psycopg's: ``?`` outside quotes and ``--`` comments
    becomes ``%s``, every ``%`` becomes ``%%`` (psycopg reads the whole text for its own)."""
    out: list[str] = []
    quote = ""  # the quote we are inside of, or "\n" inside a comment
    for i, ch in enumerate(sql):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "-" and sql.startswith("--", i):
            quote = "\n"
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


def _readable(fd: int) -> bool:
    """Whether FD has something to read (or hung up) now; poll, not select: a process
    with more than 1,024 files open (a busy web app) has descriptors select cannot take."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class PgConnection:
    """A psycopg connection with sqlite3's calling convention (the stores' :class:`~hotline.
    stores.dialect.Connection`); ``url`` is where it connected (another store opens it),
    ``connects`` how many connections it has made (1 + the broken ones replaced)."""

    dialect = Dialect.POSTGRESQL

    def __init__(self, raw: psycopg.Connection[Any], url: str) -> None:
        self.raw = raw
        self.url = url
        self.connects = 1
        self._in_tx = False  # between our BEGIN and its COMMIT / ROLLBACK
        self._closed = False

    def _live(self, sql: str) -> psycopg.Connection[Any]:
        """The connection to send SQL on: a new one when the last one broke."""
        raw = self.raw
        if (
            not raw.closed
            and raw.info.transaction_status is TransactionStatus.IDLE
            and _readable(raw.fileno())
        ):
            raw.close()  # idle, yet the server spoke: its FATAL goodbye, or the socket's end
        if not (raw.closed or raw.broken):
            return raw
        if self._closed:
            raise psycopg.OperationalError("the connection is closed (the store was closed)")
        if self._in_tx and not sql.startswith("ROLLBACK"):
            raise psycopg.OperationalError(
                "the connection to PostgreSQL was lost inside a transaction: roll it back"
            )
        raw.close()
        self.raw = psycopg.connect(self.url, autocommit=True)
        self.connects += 1
        return self.raw

    def execute(self, sql: str, parameters: Any = None, /) -> psycopg.Cursor[Any]:
        raw = self._live(sql)
        if sql.startswith(("COMMIT", "ROLLBACK")):
            self._in_tx = False  # ended, even if this fails (the server ends it anyway)
        if not parameters:
            cur = raw.execute(sql.encode())  # as it is: no placeholder to bind
        else:
            cur = raw.execute(placeholders(sql).encode(), parameters)
        if sql.startswith("BEGIN"):
            self._in_tx = True  # once begun: a BEGIN that failed began nothing
        return cur

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> psycopg.Cursor[Any]:
        cur = self._live(sql).cursor()
        cur.executemany(placeholders(sql).encode(), parameters)
        return cur

    def close(self) -> None:
        self._closed = True
        self.raw.close()

    def __del__(self) -> None:
        # like sqlite3's: a store dropped without close() just closes (psycopg would warn)
        self.raw.close()


def connect(url: str) -> PgConnection:
    """A connection to the database at URL (a libpq URI), in autocommit mode."""
    return PgConnection(psycopg.connect(url, autocommit=True), url)
