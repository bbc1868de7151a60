"""Transcripts in SQLite, beside the history (same file, component ``transcripts``), with
full-text search.

    store = TranscriptStore.open(settings.db)
    store.save(transcript)          # idempotent: (call_id, leg) is replaced as a whole
    store.get(call_id)              # both legs, caller first
    store.search("物业", SearchFilters(queue="property"), limit=20)   # [Hit, ...]
    store.search_count("物业", SearchFilters(queue="property"))

A job delivered twice (Redis Streams are at-least-once) writes the same row twice: the
second save replaces the first, so there is never a duplicate.

The index (``transcript_index``, contentless FTS5) is kept by triggers that call
``hotline_grams()``, a Python function registered on the connection (:func:`prepare`):
a connection without it cannot change transcripts (SQLite refuses: "no such function"),
so the index never drifts from the rows. What matches is :mod:`hotline.transcripts.fulltext`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.recordings.leg import Leg
from hotline.stores import schema
from hotline.stores.search_plan import SearchFilters
from hotline.stores.transcript_search import Hit, count_hits, find_hits
from hotline.transcripts.fulltext import grams
from hotline.transcripts.transcript import Transcript, Word

__all__ = ["COMPONENT", "MIGRATIONS", "Hit", "SearchFilters", "TranscriptStore", "prepare"]

COMPONENT = "transcripts"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE transcripts (
        call_id TEXT NOT NULL,
        leg TEXT NOT NULL,
        engine TEXT NOT NULL,
        model TEXT NOT NULL,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        words TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        audio_sha256 TEXT NOT NULL,
        t_done BIGINT NOT NULL,
        PRIMARY KEY (call_id, leg)
    );
    CREATE INDEX transcripts_t_done ON transcripts (t_done);
    """,
    # 2: full-text search. Chinese as bigrams plus each run's last character (1- and
    # 2-character words are found exactly), words whole; prefix='1' pre-merges the
    # one-character prefixes a 1-character query needs (docs/search.md has the figures).
    # Rows already there are indexed here. A change to grams() needs a migration that
    # rebuilds the index ('delete-all', then insert every row again).
    """
    CREATE VIRTUAL TABLE transcript_index USING fts5 (
        grams, content = '', tokenize = 'ascii', detail = full, columnsize = 0, prefix = '1'
    );;
    INSERT INTO transcript_index (rowid, grams) SELECT rowid, hotline_grams(text) FROM transcripts;;
    CREATE TRIGGER transcripts_indexed AFTER INSERT ON transcripts BEGIN
        INSERT INTO transcript_index (rowid, grams) VALUES (new.rowid, hotline_grams(new.text));
    END;;
    CREATE TRIGGER transcripts_unindexed AFTER DELETE ON transcripts BEGIN
        INSERT INTO transcript_index (transcript_index, rowid, grams)
        VALUES ('delete', old.rowid, hotline_grams(old.text));
    END;;
    CREATE TRIGGER transcripts_reindexed AFTER UPDATE ON transcripts BEGIN
        INSERT INTO transcript_index (transcript_index, rowid, grams)
        VALUES ('delete', old.rowid, hotline_grams(old.text));
        INSERT INTO transcript_index (rowid, grams) VALUES (new.rowid, hotline_grams(new.text));
    END
    """,
)

_COLUMNS = "call_id, leg, engine, model, language, text, words, duration_ms, audio_sha256, t_done"


def prepare(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Register ``hotline_grams()`` on CONN: needed to insert, change or delete transcripts
    (the index triggers call it), e.g. on a connection shared with another store."""
    conn.create_function("hotline_grams", 1, grams, deterministic=True)
    return conn


def _words_json(words: Iterable[Word]) -> str:
    return json.dumps(
        [[w.text, w.start_ms, w.end_ms, round(w.confidence, 4)] for w in words],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _transcript(row: tuple[Any, ...]) -> Transcript:
    return Transcript(
        call_id=row[0], leg=Leg(row[1]), engine=row[2], model=row[3], language=row[4],
        text=row[5], words=tuple(Word(w[0], w[1], w[2], w[3]) for w in json.loads(row[6])),
        duration_ms=row[7], audio_sha256=row[8], t_done=row[9],
    )  # fmt: skip


def _row(t: Transcript) -> tuple[object, ...]:
    return (t.call_id, t.leg.value, t.engine, t.model, t.language, t.text,
            _words_json(t.words), t.duration_ms, t.audio_sha256, t.t_done)  # fmt: skip


def delete_rows(conn: sqlite3.Connection, call_id: str) -> int:
    """Delete a call's transcripts on CONN (prepared, inside the caller's transaction)."""
    return conn.execute("DELETE FROM transcripts WHERE call_id = ?", (call_id,)).rowcount


@dataclass
class TranscriptStore(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS

    @classmethod
    def connect(cls, path: Path | str) -> sqlite3.Connection:
        return prepare(schema.connect(path))

    def save(self, transcript: Transcript) -> None:
        """Insert or replace the transcript of (call_id, leg)."""
        self.save_many([transcript])

    def save_many(self, transcripts: Iterable[Transcript]) -> int:
        """Insert or replace many in one transaction; how many."""
        rows = [_row(t) for t in transcripts]
        with self.tx() as conn:
            # DELETE, then INSERT: a REPLACE would skip the delete trigger (SQLite fires
            # delete triggers on REPLACE only with recursive_triggers) and leave the old
            # words in the index
            conn.executemany("DELETE FROM transcripts WHERE call_id = ? AND leg = ?",
                             [r[:2] for r in rows])  # fmt: skip
            conn.executemany(f"INSERT INTO transcripts ({_COLUMNS}) VALUES "
                             "(?,?,?,?,?,?,?,?,?,?)", rows)  # fmt: skip
        return len(rows)

    def get(self, call_id: str) -> list[Transcript]:
        """The call's transcribed legs, the caller's first."""
        with self._lock:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS} FROM transcripts WHERE call_id = ? "
                "ORDER BY CASE leg WHEN 'rx' THEN 0 ELSE 1 END",
                (call_id,),
            ).fetchall()
        return [_transcript(r) for r in rows]

    def delete(self, call_id: str) -> int:
        """Delete the call's transcripts (both legs); how many rows."""
        with self.tx() as conn:
            return delete_rows(conn, call_id)

    def count(self) -> int:
        with self._lock:
            return int(self.connection.execute("SELECT count(*) FROM transcripts").fetchone()[0])

    def search(
        self,
        query: str,
        filters: SearchFilters = SearchFilters(),  # noqa: B008 (frozen, so safe to share)
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Hit]:
        """Transcripts matching QUERY (literal text: every term must match) and FILTERS,
        the most recently stored first; a blank QUERY lists all the filters allow.
        :class:`~hotline.transcripts.fulltext.QueryError` for a query that cannot be run."""
        with self._lock:
            return find_hits(self.connection, query, filters, limit=limit, offset=offset)

    def search_count(self, query: str, filters: SearchFilters = SearchFilters()) -> int:  # noqa: B008
        """How many transcripts :meth:`search` would find without a limit."""
        with self._lock:
            return count_hits(self.connection, query, filters)
