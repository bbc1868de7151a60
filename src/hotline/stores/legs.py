"""The recorded legs of calls in the history: catalogued with their hash, linked to their
call, queued for speech-to-text.

    refused = history.save_recordings(legs, at=now)   # a changed leg is refused, never replaced
    history.link_recording(call_id, prefix)
    history.unqueued()                                # legs whose job never reached the stream

Part of :class:`~hotline.stores.history.History` (the table is its migrations).
"""

from __future__ import annotations

from collections.abc import Iterable

from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg, Recording
from hotline.stores import schema

__all__ = ["Legs"]


class Legs(schema.Store):
    """The table recordings (and the calls' link to their legs)."""

    def save_recordings(self, recordings: Iterable[Recording], at: int) -> list[Mismatch]:
        """Record catalogued legs; what is refused, as integrity mismatches.

        A leg catalogued again with the same bytes changes nothing (its first catalogue time
        stays). A leg whose bytes differ from what the catalogue holds is refused, never
        replaced: the catalogue's hash is the evidence that a recording was not altered, so
        a new hash for an old leg is an alteration to report (the caller raises the alert).
        """
        refused: list[Mismatch] = []
        with self.tx() as conn:
            for r in recordings:
                held = conn.execute(
                    "SELECT sha256 FROM recordings WHERE call_id = ? AND leg = ?",
                    (r.call_id, r.leg.value),
                ).fetchone()
                if held is None:
                    conn.execute(
                        "INSERT INTO recordings (call_id, leg, path, size, duration_ms, sha256, "
                        "t_catalogued) VALUES (?,?,?,?,?,?,?)",
                        (r.call_id, r.leg.value, r.path, r.size, r.duration_ms, r.sha256, at),
                    )
                elif held[0] != r.sha256:
                    refused.append(Mismatch(r.call_id, r.leg, r.path, held[0], r.sha256, "changed"))
        return refused

    def link_recording(self, call_id: str, prefix: str) -> int | None:
        """Give the call's record the prefix of its legs if it has none: 1 linked now, 0 it
        had one, None no such call (yet)."""
        with self.tx() as conn:
            cur = conn.execute(
                "UPDATE calls SET recording = ? WHERE call_id = ? AND recording = ''",
                (prefix, call_id),
            )
            if cur.rowcount:
                return 1
            found = conn.execute("SELECT 1 FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return 0 if found else None

    def mark_queued(self, recordings: Iterable[Recording], at: int) -> None:
        """Their speech-to-text jobs are in the stream."""
        with self.tx() as conn:
            conn.executemany(
                "UPDATE recordings SET t_queued = ? WHERE call_id = ? AND leg = ?",
                [(at, r.call_id, r.leg.value) for r in recordings],
            )

    def queued_legs(self, call_id: str) -> set[Leg]:
        """The call's legs whose jobs are in the stream already."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT leg FROM recordings WHERE call_id = ? AND t_queued IS NOT NULL",
                (call_id,),
            ).fetchall()
        return {Leg(r[0]) for r in rows}

    def unqueued(self, limit: int = 1000) -> list[Recording]:
        """Catalogued legs to transcribe whose job never reached the stream (Redis was away
        when they were catalogued), oldest first."""
        return self._recordings(
            "WHERE t_queued IS NULL AND leg != 'mixed' AND duration_ms > 0 "
            "ORDER BY t_catalogued LIMIT ?",
            (limit,),
        )

    def recordings(self, call_id: str) -> list[Recording]:
        return self._recordings("WHERE call_id = ? ORDER BY leg", (call_id,))

    def _recordings(self, where: str, args: tuple[object, ...]) -> list[Recording]:
        with self._lock:
            rows = self.connection.execute(
                "SELECT call_id, leg, path, size, duration_ms, sha256 FROM recordings " + where,
                args,
            ).fetchall()
        return [Recording(r[0], Leg(r[1]), r[2], r[3], r[4], r[5]) for r in rows]
