"""Twilio's webhook events in the history: what each Twilio call did (entry, menu digits,
callback requests, survey scores, status callbacks), in the order the webhooks saw them.

    history.save_twilio_events([TwilioEvent("CA…", "gather", 1733550000123, {...}), ...])
    history.twilio_events("CA…")            # that call's events, oldest first

Part of :class:`~hotline.stores.history.History` (the table is its migration 8). A call
Twilio handed to the PBX over SIP carries the same CallSid (``CallRecord.twilio_sid``),
so ``hotline calls show`` lists these events beside the PBX's record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.stores import schema

__all__ = ["TwilioEvent", "TwilioEvents"]


@dataclass(frozen=True, slots=True)
class TwilioEvent:
    """One webhook's event: ``kind`` (``entry``, ``gather``, ``leave``, ``callback``,
    ``survey``, ``status``), ``at_ms`` (epoch milliseconds), Twilio's and our fields."""

    call_sid: str
    kind: str
    at_ms: int
    fields: Mapping[str, str] = field(hash=False, default_factory=dict)


class TwilioEvents(schema.Store):
    """The table twilio_events (append-only by use: events are facts of the past)."""

    def save_twilio_events(self, events: Iterable[TwilioEvent]) -> int:
        rows = [
            (e.call_sid, e.kind, e.at_ms, json.dumps(dict(e.fields), ensure_ascii=False))
            for e in events
        ]
        if rows:
            with self.tx() as conn:
                conn.executemany(
                    "INSERT INTO twilio_events (call_sid, kind, at_ms, fields) VALUES (?,?,?,?)",
                    rows,
                )
        return len(rows)

    def twilio_events(self, call_sid: str) -> list[TwilioEvent]:
        """The events of the Twilio call ``call_sid``, in the order they were saved."""
        with self._lock:
            rows = self.connection.execute(
                "SELECT call_sid, kind, at_ms, fields FROM twilio_events "
                "WHERE call_sid = ? ORDER BY id",
                (call_sid,),
            ).fetchall()
        return [TwilioEvent(sid, kind, at, json.loads(fields)) for sid, kind, at, fields in rows]
