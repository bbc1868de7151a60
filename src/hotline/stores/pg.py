"""PostgreSQL for the stores: a psycopg connection that speaks like sqlite3's.

    conn = connect("postgresql://hotline@db1/hotline")
    conn.execute("SELECT call_id FROM calls WHERE t_q >= ?", (t0,)).fetchall()

The stores write ``?`` placeholders (SQLite's); :func:`placeholders` turns them into
psycopg's ``%s`` outside string literals and doubles every ``%``. A statement without
arguments is sent as it is (several statements at once: a migration script). The
connection is in autocommit mode; a store's transactions are explicit
(:func:`hotline.stores.schema.transaction`), READ COMMITTED.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

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


class PgConnection:
    """A psycopg connection with sqlite3's calling convention (the stores' :class:`~hotline.
    stores.dialect.Connection`); ``url`` is where it connected (another store opens it)."""

    dialect = Dialect.POSTGRESQL

    def __init__(self, raw: psycopg.Connection[Any], url: str) -> None:
        self.raw = raw
        self.url = url

    def execute(self, sql: str, parameters: Any = None, /) -> psycopg.Cursor[Any]:
        if not parameters:
            return self.raw.execute(sql.encode())  # as it is: no placeholder to bind
        return self.raw.execute(placeholders(sql).encode(), parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        cur.executemany(placeholders(sql).encode(), parameters)
        return cur

    def close(self) -> None:
        self.raw.close()

    def __del__(self) -> None:
        # like sqlite3's: a store dropped without close() just closes (psycopg would warn)
        self.raw.close()


def connect(url: str) -> PgConnection:
    """A connection to the database at URL (a libpq URI), in autocommit mode."""
    return PgConnection(psycopg.connect(url, autocommit=True), url)
