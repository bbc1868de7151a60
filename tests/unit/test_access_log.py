"""The access log: append-only, hash-chained, shared by the CLI and the web."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hotline.stores.access import AccessEntry, AccessError, AccessLog

T0 = 1_795_463_379_000


def entry(n: int, **kw: object) -> AccessEntry:
    base: dict[str, object] = {
        "t": T0 + n, "user": "auditor01", "role": "auditor", "action": "search",
        "target": "物业", "purpose": "工单2026-1234", "detail": '{"hits":3}',
    }  # fmt: skip
    return AccessEntry(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> AccessLog:
    return AccessLog.open(tmp_path / "h.sqlite3")


def test_entries_round_trip_and_filter(log: AccessLog, tmp_path: Path) -> None:
    first = log.append(entry(1))
    log.append(entry(2, user="王芳", action="show", target="1795463379.1"))
    log.append(entry(3, action="unmask", target="1795463379.1"))
    assert first.id == 1
    assert [e.entry for e in log.entries()] == [
        entry(1), entry(2, user="王芳", action="show", target="1795463379.1"),
        entry(3, action="unmask", target="1795463379.1"),
    ]  # fmt: skip
    assert [e.id for e in log.entries(user="auditor01")] == [1, 3]
    assert [e.id for e in log.entries(target="1795463379.1", action="show")] == [2]
    assert [e.id for e in log.entries(since=T0 + 2, until=T0 + 3)] == [2]
    assert [e.id for e in log.entries(limit=1, offset=1)] == [2]
    log.close()
    reopened = AccessLog.open(tmp_path / "h.sqlite3")
    assert reopened.verify() is None
    assert reopened.head() == (3, reopened.entries()[-1].hash)


def test_update_and_delete_are_refused(log: AccessLog) -> None:
    log.append(entry(1))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        log.connection.execute("UPDATE access_log SET purpose = 'none'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        log.connection.execute("DELETE FROM access_log")
    assert len(log.entries()) == 1


def test_verify_finds_an_edited_or_removed_entry(log: AccessLog) -> None:
    for n in range(1, 6):
        log.append(entry(n))
    assert log.verify() is None
    conn = log.connection
    conn.execute("DROP TRIGGER access_log_no_update")
    conn.execute("DROP TRIGGER access_log_no_delete")
    conn.execute("UPDATE access_log SET purpose = 'covering up' WHERE id = 3")
    assert log.verify() == 3
    conn.execute("UPDATE access_log SET purpose = '工单2026-1234' WHERE id = 3")
    assert log.verify() is None
    conn.execute("DELETE FROM access_log WHERE id = 2")
    assert log.verify() == 3  # its predecessor is gone


def test_entries_without_who_or_when_are_refused(log: AccessLog) -> None:
    for bad, message in [
        (entry(1, user=" "), "needs its user"),
        (entry(1, role=""), "needs its role"),
        (entry(1, action=""), "needs its action"),
        (entry(1, t=-1), "time in epoch ms"),
        (entry(1, t=1.5), "time in epoch ms"),
    ]:
        with pytest.raises(AccessError, match=message):
            log.append(bad)
    assert log.entries() == []


def test_two_writers_keep_one_chain(tmp_path: Path) -> None:
    """The web and the CLI append through their own connections: one chain still."""
    db = tmp_path / "h.sqlite3"
    logs = [AccessLog.open(db), AccessLog.open(db)]

    def write(log: AccessLog, k: int) -> None:
        for n in range(50):
            log.append(entry(n, user=f"user{k}"))

    threads = [threading.Thread(target=write, args=(lg, k)) for k, lg in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(logs[0].entries()) == 100
    assert logs[1].verify() is None
