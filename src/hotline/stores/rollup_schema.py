"""The rollup's tables, indexes and triggers (the ``metrics`` component's migration 2).

The triggers note in ``metrics_dirty`` the rollup key of what changed (a call inserted or
deleted, a callback done, an end of talk or of wrap-up) once a rollup is built;
:meth:`hotline.stores.rollup.Rollup.refresh` recomputes those rows.
"""

from __future__ import annotations

__all__ = ["AGENT_SQL", "PLACE_SQL", "ROLLUP_MIGRATION"]

PLACE_SQL = "COALESCE(t_q, t_request, t_arrival, t_end)"
AGENT_SQL = "CASE WHEN end_reason = 'answered' AND t_answer IS NOT NULL THEN agent ELSE '' END"

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
CREATE TRIGGER metrics_calls_insert AFTER INSERT ON calls
WHEN EXISTS (SELECT 1 FROM metrics_rollup_built) BEGIN
    INSERT INTO metrics_dirty (t, queue, agent, caller) VALUES (
        COALESCE(NEW.t_q, NEW.t_request, NEW.t_arrival, NEW.t_end), NEW.first_queue,
        CASE WHEN NEW.end_reason = 'answered' AND NEW.t_answer IS NOT NULL
             THEN NEW.agent ELSE '' END, NEW.caller);
END;;
CREATE TRIGGER metrics_calls_delete AFTER DELETE ON calls
WHEN EXISTS (SELECT 1 FROM metrics_rollup_built) BEGIN
    INSERT INTO metrics_dirty (t, queue, agent, caller) VALUES (
        COALESCE(OLD.t_q, OLD.t_request, OLD.t_arrival, OLD.t_end), OLD.first_queue,
        CASE WHEN OLD.end_reason = 'answered' AND OLD.t_answer IS NOT NULL
             THEN OLD.agent ELSE '' END, OLD.caller);
END;;
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
