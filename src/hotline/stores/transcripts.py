"""Transcripts in SQLite, beside the history (same file, component ``transcripts``).

    store = TranscriptStore.open(settings.db)
    store.save(transcript)          # idempotent: (call_id, leg) is replaced as a whole
    store.get(call_id)              # both legs, caller first

A job delivered twice (Redis Streams are at-least-once) writes the same row twice: the
second save replaces the first, so there is never a duplicate.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.recordings.catalogue import Leg
from hotline.recordings.transcript import Transcript, Word
from hotline.stores import schema

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
)

_COLUMNS = "call_id, leg, engine, model, language, text, words, duration_ms, audio_sha256, t_done"


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


@dataclass
class TranscriptStore:
    connection: sqlite3.Connection
    _lock: threading.Lock

    @classmethod
    def open(cls, path: Path | str) -> TranscriptStore:
        store = cls(schema.connect(path), threading.Lock())
        schema.migrate(store.connection, COMPONENT, MIGRATIONS, store._lock)
        return store

    def close(self) -> None:
        self.connection.close()

    def save(self, transcript: Transcript) -> None:
        """Insert or replace the transcript of (call_id, leg)."""
        t = transcript
        row = (t.call_id, t.leg.value, t.engine, t.model, t.language, t.text,
               _words_json(t.words), t.duration_ms, t.audio_sha256, t.t_done)  # fmt: skip
        with schema.transaction(self.connection, self._lock) as conn:
            conn.execute(f"INSERT OR REPLACE INTO transcripts ({_COLUMNS}) VALUES "
                         "(?,?,?,?,?,?,?,?,?,?)", row)  # fmt: skip

    def get(self, call_id: str) -> list[Transcript]:
        """The call's transcribed legs, the caller's first."""
        with self._lock:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS} FROM transcripts WHERE call_id = ? "
                "ORDER BY CASE leg WHEN 'rx' THEN 0 ELSE 1 END",
                (call_id,),
            ).fetchall()
        return [_transcript(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self.connection.execute("SELECT count(*) FROM transcripts").fetchone()[0])
