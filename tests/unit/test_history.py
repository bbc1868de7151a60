"""The SQLite history: round trips, idempotence, migrations, the journal's hash chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hotline.core.records import (
    AgentChange,
    AgentStatus,
    CallRecord,
    EndReason,
    PauseSetBy,
    Precision,
    QueueVisit,
    Ring,
    Source,
)
from hotline.stores.history import MIGRATIONS, History, HistoryError

T0 = 1_795_463_379_412


def answered(call_id: str = "1795463379.1", **changes: object) -> CallRecord:
    record = CallRecord(
        call_id=call_id,
        linkedid="1795463379.0",
        caller="13800000001",
        caller_name="张三丰",
        line="12345",
        t_arrival=T0,
        t_request=T0 + 8_500,
        ivr_path="language:1>main:3>help:1",
        tag="unpaid-wages",
        visits=(
            QueueVisit("labour", T0 + 9_000, 1, T0 + 129_000, "EXITWITHTIMEOUT"),
            QueueVisit("intake", T0 + 129_010, 2, T0 + 131_000, "CONNECT"),
        ),
        rings=(
            Ring("王芳", T0 + 129_100, T0 + 144_100),
            Ring("李娜", T0 + 129_500, T0 + 131_000, True),
        ),
        t_answer=T0 + 131_000,
        agent="李娜",
        talk_end=T0 + 200_000,
        completed_by="agent",
        t_end=T0 + 210_000,
        end_reason=EndReason.ANSWERED,
        survey_score=4,
        recording="/srv/hotline/spool/recordings/2026/11/24/1795463379.1",
        notes=("reconciled",),
    )
    return CallRecord(**{**{f: getattr(record, f) for f in record.__slots__}, **changes})  # type: ignore[arg-type]


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History.open(tmp_path / "h.sqlite3")


def test_a_call_round_trips(history: History) -> None:
    record = answered()
    assert history.save_calls([record]) == 1
    assert history.call(record.call_id) == record
    assert history.calls(since=T0, until=T0 + 1) == [record]
    assert history.calls(since=T0 + 1) == []


def test_saving_twice_replaces_the_call(history: History) -> None:
    history.save_calls([answered(survey_score=None)])
    history.save_calls([answered()])
    history.save_calls([answered()])
    assert len(history.calls()) == 1
    stored = history.call("1795463379.1")
    assert stored is not None
    assert stored.survey_score == 4
    assert len(stored.visits) == 2


def test_a_second_precision_record_from_queue_log(history: History) -> None:
    record = answered("1795463400.5", precision=Precision.SECOND, source=Source.QUEUE_LOG)
    history.save_calls([record])
    assert history.call("1795463400.5") == record


def test_open_is_idempotent_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History.open(path).close()
    history = History.open(path)
    assert history.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert history.migrate() == len(MIGRATIONS)
    assert history.connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(HistoryError, match="schema 99, newer than this hotline"):
        History.open(path)


def change(n: int, kind: str = "pause") -> AgentChange:
    return AgentChange(
        t=T0 + n,
        agent="王芳",
        kind=kind,
        queue="labour",
        reason="午饭",
        set_by=PauseSetBy.SELF,
        status=AgentStatus.BREAK,
    )


def test_the_journal_is_chained_and_an_edit_is_evident(history: History) -> None:
    history.append_journal([change(1), change(2, "unpause")])
    history.append_journal([change(3)])
    assert [c.kind for c in history.journal("王芳")] == ["pause", "unpause", "pause"]
    assert history.journal("王芳")[0] == change(1)
    assert history.verify_journal() is None
    # the journal is append-only: an edit is refused ...
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        history.connection.execute("UPDATE agent_journal SET t = t + 60000 WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        history.connection.execute("DELETE FROM agent_journal WHERE id = 3")
    # ... unless someone drops the guard, then shortens a pause after the fact
    history.connection.execute("DROP TRIGGER agent_journal_no_update")
    history.connection.execute("UPDATE agent_journal SET t = t + 60000 WHERE id = 2")
    assert history.verify_journal() == 2


def test_a_recomputed_tail_is_found_by_the_anchors(history: History, tmp_path: Path) -> None:
    """Whoever can write the database can recompute every hash after an edit: the chain
    then verifies, the heads written down elsewhere do not."""
    from hotline.stores import anchors
    from hotline.stores import history as module

    history.append_journal([change(1), change(2, "unpause"), change(3)])
    [head] = anchors.heads(history.connection, 1)
    assert (head.chain, head.id) == ("agent_journal", 3)
    conn = history.connection
    conn.execute("DROP TRIGGER agent_journal_no_update")
    conn.execute("UPDATE agent_journal SET t = t + 60000 WHERE id = 2")
    prev = conn.execute("SELECT hash FROM agent_journal WHERE id = 1").fetchone()[0]
    for row_id in (2, 3):  # the tail, recomputed
        row = conn.execute(
            f"SELECT {module._JOURNAL_COLUMNS} FROM agent_journal WHERE id = ?", (row_id,)
        ).fetchone()
        digest = module._journal_hash(prev, module._change(row))
        conn.execute(
            "UPDATE agent_journal SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row_id)
        )
        prev = digest
    conn.commit()
    assert history.verify_journal() is None  # the chain alone no longer tells
    [problem] = anchors.check(conn, [head])
    assert "agent_journal #3" in problem
    assert "rewritten" in problem
    assert anchors.parse(head.line() + "\nnot json\n") == [head]


def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    from hotline.stores import history as module

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(module.MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
    history = History.open(path)
    history.save_calls([answered()])
    history.append_journal([AgentChange(t=T0, agent="王芳", kind="login", note="resync")])
    assert history.call("1795463379.1") == answered()
    assert history.journal()[0].note == "resync"
    assert history.verify_journal() is None


def test_calls_beyond_sqlite_s_variable_limit(tmp_path: Path) -> None:
    # more calls than one IN (...) may bind (250,000 here; 1,000 for the test): in slices
    from hotline.core.records import CallRecord, QueueVisit

    history = History.open(tmp_path / "h.db")
    history.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1000)
    n = 2_500
    history.save_calls(
        CallRecord(
            call_id=f"c{i:06d}", visits=(QueueVisit("q", 1_000 + i, 1, 2_000 + i, "ABANDON"),)
        )
        for i in range(n)
    )
    calls = history.calls()
    assert len(calls) == n
    assert all(len(c.visits) == 1 for c in calls)
    history.close()


def test_audit_anchor_then_verify_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline.cli import main as cli

    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("HOTLINE_DB", str(db))
    history = History.open(db)
    history.append_journal([change(1), change(2, "unpause")])
    history.close()
    assert cli.main(["audit", "anchor"]) == 0
    anchored = (tmp_path / "run" / "audit-anchors.jsonl").read_text()
    assert '"chain":"agent_journal","id":2' in anchored
    assert cli.main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:  # the tail rewritten: row 2 now says something else
        conn.execute("DROP TRIGGER agent_journal_no_update")
        conn.execute("UPDATE agent_journal SET hash = ? WHERE id = 2", ("f" * 64,))
    assert cli.main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED agent_journal #2" in out
