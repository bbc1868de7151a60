"""The rollup's tables, indexes and triggers (the ``metrics`` component's migration 2).

The triggers note in ``metrics_dirty`` the rollup key of what changed (a call inserted or
deleted, a callback done, an end of talk or of wrap-up) once a rollup is built;
:meth:`hotline.stores.rollup.Rollup.refresh` recomputes those rows.
"""

from __future__ import annotations

__all__ = ["AGENT_SQL", "PLACE_SQL", "ROLLUP_MIGRATION"]


def _place(row: str = "") -> str:
    """The time that places a call (report.placement): its t_q, else request, arrival, end."""
    return f"COALESCE({row}t_q, {row}t_request, {row}t_arrival, {row}t_end)"


def _agent(row: str = "") -> str:
    """The rollup's agent of a call: who answered it, '' when nobody did."""
    return (
        f"CASE WHEN {row}end_reason = 'answered' AND {row}t_answer IS NOT NULL "
        f"THEN {row}agent ELSE '' END"
    )


PLACE_SQL = _place()
AGENT_SQL = _agent()


def _call_trigger(event: str, row: str) -> str:
    """Note the key of a call inserted (NEW) or deleted (OLD), once a rollup is built."""
    return f"""CREATE TRIGGER metrics_calls_{event.lower()} AFTER {event} ON calls
WHEN EXISTS (SELECT 1 FROM metrics_rollup_built) BEGIN
    INSERT INTO metrics_dirty (t, queue, agent, caller) VALUES (
        {_place(row + ".")}, {row}.first_queue, {_agent(row + ".")}, {row}.caller);
END"""


ROLLUP_MIGRATION = f"""
CREATE TABLE metrics_rollup (
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    queue TEXT NOT NULL,
    agent TEXT NOT NULL,
    sums BLOB NOT NULL,
    waits BLOB NOT NULL,
    abandons BLOB NOT NULL,
    PRIMARY KEY (version, day, queue, agent)
);;
CREATE INDEX metrics_rollup_agent ON metrics_rollup (version, day, agent);;
CREATE TABLE metrics_rollup_by (
    version TEXT NOT NULL,
    level TEXT NOT NULL,
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    sums BLOB NOT NULL,
    waits BLOB NOT NULL,
    abandons BLOB NOT NULL,
    PRIMARY KEY (version, level, day, key)
);;
CREATE TABLE metrics_rollup_built (
    version TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    t_built BIGINT NOT NULL
);;
CREATE TABLE metrics_dirty (
    id INTEGER PRIMARY KEY,
    t BIGINT,
    queue TEXT,
    agent TEXT,
    caller TEXT
);;
CREATE INDEX metrics_calls_at ON calls ({PLACE_SQL});;
CREATE INDEX metrics_calls_place ON calls (first_queue, {PLACE_SQL});;
CREATE INDEX metrics_calls_number ON calls (caller, COALESCE(t_q, t_request));;
{_call_trigger("INSERT", "NEW")};;
{_call_trigger("DELETE", "OLD")};;
CREATE TRIGGER metrics_callbacks_done AFTER UPDATE ON callbacks
WHEN EXISTS (SELECT 1 FROM metrics_rollup_built) BEGIN
    INSERT INTO metrics_dirty (t, queue, agent, caller)
    SELECT {PLACE_SQL}, first_queue, {AGENT_SQL}, NULL FROM calls WHERE call_id = NEW.call_id;
END;;
CREATE TRIGGER metrics_journal_talk AFTER INSERT ON agent_journal
WHEN NEW.kind IN ('complete', 'wrap_up_end') AND EXISTS (SELECT 1 FROM metrics_rollup_built)
BEGIN
    INSERT INTO metrics_dirty (t, queue, agent, caller) VALUES (NEW.t, NULL, NEW.agent, NULL);
END
"""
