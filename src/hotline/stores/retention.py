"""Legal holds and disposal records, in the history's SQLite file (component ``retention``);
disposal itself: a call's transcripts deleted from the store and its recorded legs from
disk (by :mod:`hotline.recordings.disposal`), with a record of what went (each file's
SHA-256), when, why and by whom.

    store = RetentionStore.open(settings.db)
    store.hold("1795463379.1", by="纪检组-李", reason="信访 2026-88", t=now)
    due, held = plan(center.retention, store.kept(), store.held(), now)
    for item in due:
        store.dispose(item, by="retention", t=now)     # None if put on hold meanwhile
    store.verify()                                     # None, or the first broken record

Holds and disposals are append-only (triggers refuse UPDATE and DELETE) and disposals are
hash-chained like the access log. The hold check and the disposal are one transaction:
a hold placed by another process either comes first (nothing is disposed) or after.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

from hotline.recordings.disposal import DisposedFile, Remove, remove_leg
from hotline.recordings.retention import Due, Kept
from hotline.stores import chain, schema
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore, delete_rows

__all__ = [
    "COMPONENT",
    "MIGRATIONS",
    "Disposal",
    "DisposedFile",
    "Hold",
    "RetentionError",
    "RetentionStore",
]

COMPONENT = "retention"
_APPEND_ONLY = """
    CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} BEGIN
        SELECT RAISE(ABORT, '{t} is append-only');
    END;;
    CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} BEGIN
        SELECT RAISE(ABORT, '{t} is append-only');
    END
"""
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE legal_holds (
        id INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('hold', 'release')),
        t BIGINT NOT NULL,
        by TEXT NOT NULL,
        reason TEXT NOT NULL
    );;
    CREATE INDEX legal_holds_call ON legal_holds (call_id, id);;
    CREATE TABLE disposals (
        id INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL,
        t BIGINT NOT NULL,
        by TEXT NOT NULL,
        reason TEXT NOT NULL,
        category TEXT NOT NULL,
        days INTEGER NOT NULL,
        transcripts INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );;
    CREATE INDEX disposals_call ON disposals (call_id);;
    CREATE TABLE disposal_files (
        disposal_id INTEGER NOT NULL REFERENCES disposals (id),
        call_id TEXT NOT NULL,
        leg TEXT NOT NULL,
        path TEXT NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        catalogue_sha256 TEXT NOT NULL,
        outcome TEXT NOT NULL
    );;
    CREATE INDEX disposal_files_call ON disposal_files (call_id, path);;
    """
    + ";;".join(_APPEND_ONLY.format(t=t) for t in ("legal_holds", "disposals", "disposal_files")),
)


class RetentionError(Exception):
    """A hold, release or disposal cannot be done as asked; the text says why."""


@dataclass(frozen=True, slots=True)
class Hold:
    call_id: str
    t: int
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Disposal:
    id: int
    call_id: str
    t: int
    by: str
    reason: str
    category: str
    days: int
    transcripts: int  # transcript rows deleted
    files: tuple[DisposedFile, ...]
    hash: str

    def fields(self) -> list[object]:
        return [self.call_id, self.t, self.by, self.reason, self.category, self.days,
                self.transcripts, [f.fields() for f in self.files]]  # fmt: skip


_KEPT = """
    WITH files AS (
        SELECT r.call_id, r.path, r.t_catalogued FROM recordings r
        WHERE NOT EXISTS (SELECT 1 FROM disposal_files f WHERE f.call_id = r.call_id
                          AND f.path = r.path AND f.outcome IN ('deleted', 'missing'))
    ), texts AS (
        SELECT call_id, count(*) AS n, max(t_done) AS t FROM transcripts GROUP BY call_id
    ), ids AS (SELECT call_id FROM files UNION SELECT call_id FROM texts)
    SELECT * FROM (
        SELECT ids.call_id, COALESCE(c.tag, ''),
               COALESCE(c.t_end, c.t_arrival, c.t_q,
                        (SELECT max(t_catalogued) FROM files f WHERE f.call_id = ids.call_id),
                        texts.t, 0) AS t_ref,
               (SELECT json_group_array(path) FROM files f WHERE f.call_id = ids.call_id),
               COALESCE(texts.n, 0)
        FROM ids LEFT JOIN calls c ON c.call_id = ids.call_id
        LEFT JOIN texts ON texts.call_id = ids.call_id
    ) WHERE t_ref < ? ORDER BY t_ref, 1
"""


@dataclass
class RetentionStore(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS

    @classmethod
    def connect(cls, path: Path | str) -> sqlite3.Connection:
        return TranscriptStore.connect(path)  # disposal deletes transcripts: hotline_grams()

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """The store of the file at PATH, with the history and transcripts it looks at
        (their tables made or migrated on this store's connection)."""
        store = super().open(path)
        History(store.connection, store._lock).migrate()
        schema.migrate(store.connection, TranscriptStore.COMPONENT, TranscriptStore.MIGRATIONS,
                       store._lock)  # fmt: skip
        return store

    # -- legal holds ----------------------------------------------------------------------

    @staticmethod
    def _hold_of(conn: sqlite3.Connection, call_id: str) -> Hold | None:
        row = conn.execute(
            "SELECT action, t, by, reason FROM legal_holds WHERE call_id = ? "
            "ORDER BY id DESC LIMIT 1",
            (call_id,),
        ).fetchone()
        return Hold(call_id, row[1], row[2], row[3]) if row and row[0] == "hold" else None

    def hold(self, call_id: str, *, by: str, reason: str, t: int) -> Hold:
        """Put CALL_ID on legal hold: nothing of it is disposed until released."""
        _need(by=by, reason=reason)
        with self.tx() as conn:
            if (current := self._hold_of(conn, call_id)) is not None:
                raise RetentionError(
                    f"{call_id} is already on hold (by {current.by}: {current.reason})"
                )
            if not _known(conn, call_id):
                raise RetentionError(
                    f"no call {call_id!r} in the history, recordings or transcripts"
                )
            conn.execute(
                "INSERT INTO legal_holds (call_id, action, t, by, reason) VALUES (?,?,?,?,?)",
                (call_id, "hold", t, by, reason),
            )
        return Hold(call_id, t, by, reason)

    def release(self, call_id: str, *, by: str, reason: str, t: int) -> Hold:
        """End CALL_ID's hold; the hold that ended."""
        _need(by=by, reason=reason)
        with self.tx() as conn:
            current = self._hold_of(conn, call_id)
            if current is None:
                raise RetentionError(f"{call_id} is not on hold")
            conn.execute(
                "INSERT INTO legal_holds (call_id, action, t, by, reason) VALUES (?,?,?,?,?)",
                (call_id, "release", t, by, reason),
            )
        return current

    def held(self) -> dict[str, Hold]:
        """The calls on hold now, with their holds."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT call_id, action, t, by, reason FROM legal_holds h WHERE id = "
                "(SELECT max(id) FROM legal_holds WHERE call_id = h.call_id) ORDER BY id"
            ).fetchall()
        return {r[0]: Hold(r[0], r[2], r[3], r[4]) for r in rows if r[1] == "hold"}

    def hold_history(self, call_id: str) -> list[tuple[str, Hold]]:
        """Every hold and release of CALL_ID, oldest first: ("hold" | "release", who/why)."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT action, t, by, reason FROM legal_holds WHERE call_id = ? ORDER BY id",
                (call_id,),
            ).fetchall()
        return [(r[0], Hold(call_id, r[1], r[2], r[3])) for r in rows]

    # -- disposal -------------------------------------------------------------------------

    def kept(self, before: int | None = None) -> list[Kept]:
        """Calls with recorded legs or transcripts not disposed yet (whose retention clock
        started before BEFORE, when given), oldest first."""
        with self._lock:
            rows = self.connection.execute(_KEPT, (2**62 if before is None else before,))
            return [Kept(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4]) for r in rows]

    def dispose(self, due: Due, *, by: str, t: int, remove: Remove = remove_leg) -> Disposal | None:
        """Delete what is left of the call (files, by ``remove``; transcripts) and record
        it; None, and nothing deleted, if the call is on hold now. A file that cannot be
        deleted is recorded as failed and tried again next time."""
        _need(by=by)
        call_id = due.call_id
        with self.tx() as conn:
            if self._hold_of(conn, call_id) is not None:
                return None
            pending = conn.execute(
                "SELECT leg, path, sha256 FROM recordings r WHERE call_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM disposal_files f WHERE f.call_id = r.call_id AND f.path = r.path "
                "AND f.outcome IN ('deleted', 'missing')) ORDER BY leg",
                (call_id,),
            ).fetchall()
            transcripts = delete_rows(conn, call_id)
            if not pending and not transcripts:
                return None  # disposed already (by another run)
            files = tuple(remove(leg, path, sha) for leg, path, sha in pending)
            last = conn.execute("SELECT hash FROM disposals ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else chain.GENESIS
            record = Disposal(0, call_id, t, by, due.reason(), due.kept.category, due.days,
                              transcripts, files, "")  # fmt: skip
            digest = chain.link(prev, record.fields())
            cur = conn.execute(
                "INSERT INTO disposals (call_id, t, by, reason, category, days, transcripts, "
                "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
                (call_id, t, by, record.reason, record.category, record.days, transcripts,
                 prev, digest),
            )  # fmt: skip
            assert cur.lastrowid is not None
            conn.executemany(
                "INSERT INTO disposal_files VALUES (?,?,?,?,?,?,?,?)",
                [(cur.lastrowid, call_id, *f.fields()) for f in files],
            )
        return replace(record, id=cur.lastrowid, hash=digest)

    def disposals(self, call_id: str | None = None) -> list[Disposal]:
        """Disposal records (of CALL_ID), oldest first."""
        sql = "SELECT id, call_id, t, by, reason, category, days, transcripts, hash FROM disposals"
        args: tuple[str, ...] = ()
        if call_id is not None:
            sql, args = sql + " WHERE call_id = ?", (call_id,)
        with self._lock:
            rows = self.connection.execute(sql + " ORDER BY id", args).fetchall()
            files: dict[int, list[DisposedFile]] = {r[0]: [] for r in rows}
            for row in self.connection.execute(
                "SELECT disposal_id, leg, path, size, sha256, catalogue_sha256, outcome "
                "FROM disposal_files ORDER BY rowid"
            ):
                if row[0] in files:
                    files[row[0]].append(DisposedFile(*row[1:]))
        return [_disposal(r, files[r[0]]) for r in rows]

    def verify(self) -> int | None:
        """The id of the first disposal record whose chain is broken, or None if intact."""
        prev = chain.GENESIS
        with self._lock:
            prevs = dict(self.connection.execute("SELECT id, prev_hash FROM disposals"))
        for record in self.disposals():
            if prevs[record.id] != prev or record.hash != chain.link(prev, record.fields()):
                return record.id
            prev = record.hash
        return None


def _disposal(r: tuple[Any, ...], files: list[DisposedFile]) -> Disposal:
    return Disposal(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(files), r[8])


def _need(**values: str) -> None:
    for name, value in values.items():
        if not value.strip():
            raise RetentionError(f"say {name} (it is empty)")


def _known(conn: sqlite3.Connection, call_id: str) -> bool:
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE call_id = ? LIMIT 1", (call_id,)).fetchone()
        for table in ("calls", "recordings", "transcripts")
    )
