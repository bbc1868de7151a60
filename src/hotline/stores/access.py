"""The access log: who looked at which transcript, recording or search, when and why.
Append-only and hash-chained, in the history's SQLite file (component ``access``); the
CLI and the web write to the same log.

    log = AccessLog.open(settings.db)
    log.append(AccessEntry(t=now_ms, user="auditor01", role="auditor", action="search",
                           target="物业", purpose="工单2026-1234", detail='{"hits": 3}'))
    log.entries(user="auditor01")           # oldest first
    log.verify()                            # None, or the id of the first entry that is off

Each entry's SHA-256 covers the previous entry's, so an entry changed, removed or moved
in the file breaks the chain from there (:meth:`AccessLog.verify`). Triggers refuse
UPDATE and DELETE; someone who drops them and rewrites the whole tail would go unseen,
so keep :meth:`AccessLog.head` somewhere else (a report, a ticket) to compare later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.stores import chain, schema

__all__ = ["COMPONENT", "MIGRATIONS", "AccessEntry", "AccessError", "AccessLog", "Logged"]

COMPONENT = "access"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        t BIGINT NOT NULL,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        purpose TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );;
    CREATE INDEX access_log_t ON access_log (t);;
    CREATE INDEX access_log_user ON access_log (user, t);;
    CREATE INDEX access_log_target ON access_log (target, t);;
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN
        SELECT RAISE(ABORT, 'the access log is append-only');
    END;;
    CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN
        SELECT RAISE(ABORT, 'the access log is append-only');
    END
    """,
)


class AccessError(ValueError):
    """An entry cannot be logged as given (no user, no action, ...)."""


@dataclass(frozen=True, slots=True)
class AccessEntry:
    t: int  # epoch ms
    user: str  # who: the OS user (CLI) or the web account
    role: str  # as what: "cli", "auditor", "supervisor", ...
    action: str  # "search", "show", "unmask", "play", "export", ...
    target: str  # the query searched, or the call id looked at
    purpose: str  # why: the case / 工单 number the person gave
    detail: str = ""  # anything else, JSON by convention (filters, hit count, leg, ...)

    def fields(self) -> list[object]:
        return [self.t, self.user, self.role, self.action, self.target, self.purpose, self.detail]


@dataclass(frozen=True, slots=True)
class Logged:
    """An entry as stored: its id (1, 2, ...) and chain hash."""

    id: int
    entry: AccessEntry
    hash: str


_COLUMNS = "id, t, user, role, action, target, purpose, detail, hash"


def _logged(row: tuple[Any, ...]) -> Logged:
    return Logged(row[0], AccessEntry(*row[1:8]), row[8])


@dataclass
class AccessLog(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS

    def append(self, entry: AccessEntry) -> Logged:
        """Log ENTRY after the last one; :class:`AccessError` if it lacks who/what/when."""
        for name, value in (("user", entry.user), ("role", entry.role), ("action", entry.action)):
            if not value.strip():
                raise AccessError(f"an access log entry needs its {name} (it is empty)")
        if not isinstance(entry.t, int) or entry.t < 0:
            raise AccessError(f"t={entry.t!r}: an access log entry needs a time in epoch ms")
        with self.tx() as conn:
            last = conn.execute("SELECT hash FROM access_log ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else chain.GENESIS
            digest = chain.link(prev, entry.fields())
            cur = conn.execute(
                "INSERT INTO access_log (t, user, role, action, target, purpose, detail, "
                "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
                (*entry.fields(), prev, digest),
            )
            assert cur.lastrowid is not None
            return Logged(cur.lastrowid, entry, digest)

    def entries(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        user: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Logged]:
        """Entries in [since, until) matching the others given, oldest first."""
        where, args = [], []
        for column, op, value in (
            ("t", ">=", since),
            ("t", "<", until),
            ("user", "=", user),
            ("action", "=", action),
            ("target", "=", target),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        sql = f"SELECT {_COLUMNS} FROM access_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        args += [-1 if limit is None else limit, offset]
        with self._lock:
            return [_logged(r) for r in self.connection.execute(sql, args).fetchall()]

    def head(self) -> tuple[int, str] | None:
        """The last entry's id and hash (None when empty): note it elsewhere to tell later
        that nothing was cut off the end."""
        with self._lock:
            row = self.connection.execute(
                "SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def verify(self) -> int | None:
        """The id of the first entry whose chain is broken (changed, removed before it,
        moved), or None if the whole log is intact."""
        prev = chain.GENESIS
        with self._lock:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS}, prev_hash FROM access_log ORDER BY id"
            )
            for row in rows:
                logged = _logged(row)
                if row[9] != prev or logged.hash != chain.link(prev, logged.entry.fields()):
                    return logged.id
                prev = logged.hash
        return None
