"""Per-component migrations in one SQLite file: apart, repeatable, never downgraded."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.stores import schema
from hotline.stores.history import History

ONE = ("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",)
TWO = (
    *ONE,
    # a trigger holds ';' inside BEGIN … END: the script separates statements by ';;'
    """
    CREATE TABLE notes_log (id INTEGER);;
    CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_log (id) VALUES (new.id);
    END
    """,
)


def test_components_migrate_apart_and_beside_the_history(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    history = History.open(db)
    conn = schema.connect(db)
    assert schema.migrate(conn, "notes", ONE) == 1
    assert schema.migrate(conn, "notes", TWO) == 2
    assert schema.migrate(conn, "notes", TWO) == 2  # a second run applies nothing
    assert schema.migrate(conn, "other", ONE[:0]) == 0
    conn.execute("INSERT INTO notes (body) VALUES ('x')")
    assert conn.execute("SELECT id FROM notes_log").fetchall() == [(1,)]
    # the history's own numbering is untouched
    assert history.migrate() == int(conn.execute("PRAGMA user_version").fetchone()[0])
    history.close()


def test_a_newer_component_is_refused(tmp_path: Path) -> None:
    conn = schema.connect(tmp_path / "h.sqlite3")
    schema.migrate(conn, "notes", TWO)
    with pytest.raises(schema.SchemaError, match="notes schema is version 2"):
        schema.migrate(conn, "notes", ONE)


def test_a_failing_script_leaves_the_previous_version(tmp_path: Path) -> None:
    conn = schema.connect(tmp_path / "h.sqlite3")
    broken = (*ONE, "CREATE TABLE t (a); CREATE TABLE t (a)")
    with pytest.raises(Exception, match="already exists"):
        schema.migrate(conn, "notes", broken)
    assert conn.execute(
        "SELECT version FROM schema_components WHERE component = 'notes'"
    ).fetchone() == (1,)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None
