"""Integrity alerts in SQLite (component ``integrity``): one row per failed check.

    alerts = IntegrityAlerts.open(settings.db)
    alerts.add(mismatch, by="stt-worker", at=now_ms)
    alerts.recent(10)

Each attempt to use an altered or missing recording is kept (who tried, when): a worker
retrying the same leg leaves a row per attempt, which is what an auditor wants to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg
from hotline.stores import schema

COMPONENT = "integrity"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE integrity_alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id TEXT NOT NULL,
        leg TEXT NOT NULL,
        path TEXT NOT NULL,
        expected TEXT NOT NULL,
        actual TEXT NOT NULL,
        reason TEXT NOT NULL,
        raised_by TEXT NOT NULL,
        t_raised BIGINT NOT NULL
    );
    CREATE INDEX integrity_alerts_call ON integrity_alerts (call_id);
    """,
)


@dataclass(frozen=True, slots=True)
class IntegrityAlert:
    id: int
    mismatch: Mismatch
    raised_by: str
    t_raised: int


@dataclass
class IntegrityAlerts(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS

    def add(self, mismatch: Mismatch, *, by: str, at: int) -> int:
        m = mismatch
        with self.tx() as conn:
            cur = conn.execute(
                "INSERT INTO integrity_alerts (call_id, leg, path, expected, actual, reason, "
                "raised_by, t_raised) VALUES (?,?,?,?,?,?,?,?)",
                (m.call_id, m.leg.value, m.path, m.expected, m.actual, m.reason, by, at),
            )
            return int(cur.lastrowid or 0)

    def recent(self, limit: int = 20) -> list[IntegrityAlert]:
        with self._lock:
            rows = self.connection.execute(
                "SELECT id, call_id, leg, path, expected, actual, reason, raised_by, t_raised "
                "FROM integrity_alerts ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            IntegrityAlert(r[0], Mismatch(r[1], Leg(r[2]), r[3], r[4], r[5], r[6]), r[7], r[8])
            for r in rows
        ]

    def count(self) -> int:
        with self._lock:
            return int(
                self.connection.execute("SELECT count(*) FROM integrity_alerts").fetchone()[0]
            )
