"""Retention: the policy per category, legal holds, disposal of real files with a record."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from hotline.center.config import CenterError, load_center
from hotline.core.localtime import DAY_MS
from hotline.core.records import CallRecord, QueueVisit
from hotline.host.settings import DEFAULT_CENTER
from hotline.recordings.leg import Leg, Recording
from hotline.recordings.retention import Kept, RetentionPolicy, load_retention, plan
from hotline.stores.history import History
from hotline.stores.retention import RetentionError, RetentionStore
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript

T0 = 1_795_463_379_000
POLICY = RetentionPolicy(180, {"complaint": 730})


# -- the policy (pure) ------------------------------------------------------------------


def kept(call_id: str, category: str, age_days: float, now: int) -> Kept:
    return Kept(call_id, category, now - int(age_days * DAY_MS), (f"/x/{call_id}-rx.wav",), 1)


def test_plan_by_category_and_hold() -> None:
    now = T0 + 1000 * DAY_MS
    items = [
        kept("inquiry-old", "inquiry", 181, now),
        kept("inquiry-new", "inquiry", 179, now),
        kept("complaint-1y", "complaint", 365, now),
        kept("complaint-3y", "complaint", 1000, now),
        kept("exactly", "", 180, now),  # expired at this very ms
        kept("held", "inquiry", 400, now),
    ]
    due, held = plan(POLICY, items, {"held", "inquiry-new"}, now)
    assert [d.call_id for d in due] == ["complaint-3y", "inquiry-old", "exactly"]  # oldest first
    assert [d.call_id for d in held] == ["held"]
    assert due[0].days == 730
    assert due[0].reason() == "retention: complaint calls are kept 730 days"
    assert due[-1].reason() == "retention: uncategorised calls are kept 180 days"


def test_the_config_section_is_checked() -> None:
    problems: list[tuple[str, str]] = []
    policy = load_retention(
        {"default_days": 0, "categories": {"complaint": "long", "inquiry": 30}, "keep": 1},
        lambda node, msg: problems.append((node, msg)),
    )
    assert policy == RetentionPolicy(180, {"inquiry": 30})
    assert [n for n, _ in problems] == [
        "retention.keep", "retention.default_days", "retention.categories.complaint",
    ]  # fmt: skip
    center = DEFAULT_CENTER
    assert load_center(center.read_text()).retention.days("complaint") == 730
    with pytest.raises(CenterError, match=r"retention\.default_days"):
        load_center("retention: {default_days: -3}\n")


def test_the_section_is_read_like_the_whole_file() -> None:
    problems: list[str] = []
    load_retention(
        {"default_days": "long", "categories": {"inquiry": True}, "keep": 1},
        lambda node, msg: problems.append(f"{node}: {msg}"),
    )
    assert problems == [
        "retention.keep: unknown key (expected one of categories, default_days)",
        "retention.default_days: expected int, got 'long'",
        "retention.categories.inquiry: expected int, got True",
    ]


# -- the store, with real files ---------------------------------------------------------


def wav(path: Path, content: bytes) -> Recording:
    path.write_bytes(content)
    return Recording(path.name.split("-")[0], Leg.CALLER, str(path), len(content), 1000,
                     hashlib.sha256(content).hexdigest())  # fmt: skip


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A history with two ended calls, each with its legs on disk and transcripts."""
    db, spool = tmp_path / "h.sqlite3", tmp_path / "spool"
    spool.mkdir()
    history = History.open(db)
    history.save_calls([
        CallRecord("c1", tag="inquiry", t_arrival=T0, t_end=T0 + 60_000,
                   visits=(QueueVisit("intake", T0 + 5000),)),
        CallRecord("c2", tag="complaint", t_arrival=T0, t_end=T0 + 60_000),
    ])  # fmt: skip
    recordings = []
    for call in ("c1", "c2"):
        for leg in (Leg.CALLER, Leg.AGENT):
            path = spool / f"{call}-{leg.value}.wav"
            r = wav(path, f"RIFF {call} {leg.value}".encode())
            recordings.append(Recording(call, leg, r.path, r.size, r.duration_ms, r.sha256))
    history.save_recordings(recordings, at=T0 + 70_000)
    history.close()
    transcripts = TranscriptStore.open(db)
    for call in ("c1", "c2"):
        transcripts.save(Transcript(call, Leg.CALLER, "vosk", "m", "zh", "物业 噪音"))
    transcripts.close()
    return db, spool


def run(store: RetentionStore, now: int) -> list[str]:
    due, _ = plan(POLICY, store.kept(), store.held(), now)
    return [d.call_id for d in due if store.dispose(d, by="test", t=now) is not None]


def test_disposal_deletes_the_files_and_transcripts_and_records_their_hashes(
    site: tuple[Path, Path],
) -> None:
    db, spool = site
    store = RetentionStore.open(db)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in spool.iterdir()}
    assert run(store, T0 + 100 * DAY_MS) == []  # nothing is old enough
    assert run(store, T0 + 200 * DAY_MS) == ["c1"]  # the inquiry; the complaint stays
    assert sorted(p.name for p in spool.iterdir()) == ["c2-rx.wav", "c2-tx.wav"]
    assert TranscriptStore.open(db).get("c1") == []
    assert TranscriptStore.open(db).search("物业") != []  # c2's
    (record,) = store.disposals("c1")
    assert (record.by, record.category, record.days, record.transcripts) == (
        "test",
        "inquiry",
        180,
        1,
    )
    assert record.reason == "retention: inquiry calls are kept 180 days"
    assert {Path(f.path).name: f.sha256 for f in record.files} == {
        k: v for k, v in before.items() if k.startswith("c1")
    }
    assert {f.outcome for f in record.files} == {"deleted"}
    assert History.open(db).call("c1") is not None  # the call record itself is kept
    assert run(store, T0 + 200 * DAY_MS) == []  # disposed once
    assert run(store, T0 + 800 * DAY_MS) == ["c2"]
    assert store.verify() is None


def test_a_held_call_is_never_disposed(site: tuple[Path, Path]) -> None:
    db, spool = site
    store = RetentionStore.open(db)
    hold = store.hold("c1", by="纪检组-李", reason="信访 2026-88", t=T0)
    assert store.held() == {"c1": hold}
    due, held = plan(POLICY, store.kept(), store.held(), T0 + 5000 * DAY_MS)
    assert [d.call_id for d in due] == ["c2"]
    assert [d.call_id for d in held] == ["c1"]
    assert store.dispose(held[0], by="test", t=T0) is None  # asked directly: still refused
    assert (spool / "c1-rx.wav").exists()
    assert TranscriptStore.open(db).get("c1") != []
    with pytest.raises(RetentionError, match="already on hold"):
        store.hold("c1", by="x", reason="y", t=T0)
    store.release("c1", by="纪检组-李", reason="结案", t=T0 + 1)
    assert store.held() == {}
    assert [a for a, _ in store.hold_history("c1")] == ["hold", "release"]
    assert run(store, T0 + 5000 * DAY_MS) == ["c1", "c2"]


def test_hold_and_release_errors(site: tuple[Path, Path]) -> None:
    store = RetentionStore.open(site[0])
    with pytest.raises(RetentionError, match="no call 'nope'"):
        store.hold("nope", by="x", reason="y", t=T0)
    with pytest.raises(RetentionError, match="say reason"):
        store.hold("c1", by="x", reason=" ", t=T0)
    with pytest.raises(RetentionError, match="say by"):
        store.hold("c1", by="", reason="y", t=T0)
    with pytest.raises(RetentionError, match="not on hold"):
        store.release("c1", by="x", reason="y", t=T0)
    assert store.held() == {}


def test_a_missing_file_is_recorded_and_a_failed_one_retried(site: tuple[Path, Path]) -> None:
    db, spool = site
    (spool / "c1-rx.wav").unlink()  # gone already (deleted by hand)
    (spool / "c1-tx.wav").unlink()
    (spool / "c1-tx.wav").mkdir()  # cannot be deleted as a file
    store = RetentionStore.open(db)
    assert run(store, T0 + 200 * DAY_MS) == ["c1"]
    (record,) = store.disposals("c1")
    outcomes = {Path(f.path).name: f.outcome for f in record.files}
    assert outcomes["c1-rx.wav"] == "missing"
    assert outcomes["c1-tx.wav"].startswith("failed: ")
    assert sorted(k.call_id for k in store.kept()) == ["c1", "c2"]
    assert [k.files for k in store.kept() if k.call_id == "c1"] == [(str(spool / "c1-tx.wav"),)]
    (spool / "c1-tx.wav").rmdir()
    (spool / "c1-tx.wav").write_bytes(b"RIFF again")
    assert run(store, T0 + 200 * DAY_MS) == ["c1"]  # the failed file, tried again
    assert [f.outcome for f in store.disposals("c1")[1].files] == ["deleted"]
    assert not (spool / "c1-tx.wav").exists()


def test_disposal_records_are_append_only_and_chained(site: tuple[Path, Path]) -> None:
    db, _ = site
    store = RetentionStore.open(db)
    store.hold("c2", by="x", reason="y", t=T0)
    run(store, T0 + 800 * DAY_MS)
    conn = store.connection
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE disposals SET reason = 'oops'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM disposal_files")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM legal_holds")
    conn.execute("DROP TRIGGER disposal_files_no_update")
    first = store.disposals()[0]
    conn.execute("UPDATE disposal_files SET sha256 = 'forged' WHERE disposal_id = ?", (first.id,))
    assert store.verify() == first.id
