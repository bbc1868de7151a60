"""The recording sweep's pure parts: which files are whose legs, which folders, which prefix."""

from __future__ import annotations

from pathlib import Path

from hotline.controller.sweep import day_folders, group_legs, pbx_prefix
from hotline.core.records import CallRecord
from hotline.recordings.leg import Leg
from hotline.stores.history import History

T = 1_796_169_600_000  # 2026-12-02 00:00:00 UTC


def test_legs_are_grouped_by_the_call_id_in_their_names() -> None:
    folder = Path("/r/2026/12/02")
    names = ["1796.7-rx.wav", "1796.7-tx.wav", "1796.7.wav", "ivr-3-i-rx.wav", "notes.txt",
             "-rx.wav", "1796.7-rx.wav.part"]  # fmt: skip
    found = {f.call_id: f for f in group_legs(folder, names)}
    assert set(found) == {"1796.7", "ivr-3-i"}
    assert found["1796.7"].legs == {
        Leg.CALLER: folder / "1796.7-rx.wav",
        Leg.AGENT: folder / "1796.7-tx.wav",
        Leg.MIXED: folder / "1796.7.wav",
    }
    assert found["ivr-3-i"].legs == {Leg.CALLER: folder / "ivr-3-i-rx.wav"}
    assert found["ivr-3-i"].prefix == folder / "ivr-3-i"


def test_the_day_folders_are_utc_days_newest_first() -> None:
    root = Path("/r")
    assert day_folders(root, T + 1, 2) == [root / "2026/12/02", root / "2026/12/01"]


def test_the_prefix_is_written_as_the_pbx_sees_it() -> None:
    instance = Path("/var/run/hotline/asterisk")
    local = instance / "spool/recordings/2026/12/02/u1"
    assert pbx_prefix(local, instance) == "/srv/hotline/spool/recordings/2026/12/02/u1"
    assert pbx_prefix(Path("/mnt/pbx2/u1"), instance) == "/mnt/pbx2/u1"


def test_a_record_is_linked_once_and_only_if_it_exists(tmp_path: Path) -> None:
    history = History.open(tmp_path / "h.sqlite3")
    try:
        assert history.link_recording("u1", "/srv/x/u1") is None
        history.save_calls([CallRecord(call_id="u1")])
        assert history.link_recording("u1", "/srv/x/u1") == 1
        assert history.link_recording("u1", "/srv/y/u1") == 0
        record = history.call("u1")
        assert record is not None
        assert record.recording == "/srv/x/u1"
    finally:
        history.close()


def test_an_unfinished_wav_header_gets_its_sizes(tmp_path: Path) -> None:
    """As MixMonitor leaves it when Asterisk dies: RIFF and data sizes 0, samples present."""
    import struct
    import wave

    from hotline.recordings.catalogue import describe, finish_header

    samples = b"\x01\x00" * 8000  # 1 s of 8 kHz 16-bit mono
    head = (
        b"RIFF" + struct.pack("<I", 0) + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 0)
    )  # fmt: skip
    leg = tmp_path / "u1-rx.wav"
    leg.write_bytes(head + samples)
    assert finish_header(leg)
    with wave.open(str(leg)) as w:
        assert (w.getnframes(), w.readframes(8000)) == (8000, samples)
    assert describe("u1", Leg.CALLER, leg).duration_ms == 1000
    assert not finish_header(leg)  # finished: left alone
    other = tmp_path / "x.wav"
    other.write_bytes(b"RIFX" + head[4:] + samples)
    assert not finish_header(other)
    assert other.read_bytes()[4:8] == b"\x00\x00\x00\x00"


def test_the_catalogue_knows_which_jobs_never_reached_the_stream(tmp_path: Path) -> None:
    from hotline.recordings.catalogue import describe
    from tests.unit.test_recordings import wav

    history = History.open(tmp_path / "h.sqlite3")
    try:
        legs = [describe("u1", leg, wav(tmp_path / f"u1-{leg.value}.wav", 0.5))
                for leg in (Leg.CALLER, Leg.AGENT)]  # fmt: skip
        history.save_recordings(legs, 1)
        assert [r.leg for r in history.unqueued()] == [Leg.CALLER, Leg.AGENT]
        history.mark_queued(legs[:1], 2)
        assert history.queued_legs("u1") == {Leg.CALLER}
        assert [r.leg for r in history.unqueued()] == [Leg.AGENT]
    finally:
        history.close()


def test_legs_catalogued_before_the_queue_column_count_as_queued(tmp_path: Path) -> None:
    """Upgrading must not send every old leg to speech-to-text again."""
    import sqlite3

    from hotline.stores import history as module

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for script in module.MIGRATIONS[:6]:
            for statement in script.split(";;" if ";;" in script else ";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute("PRAGMA user_version = 6")
        conn.execute("INSERT INTO recordings VALUES ('old', 'rx', '/x', 10, 500, 'ab', 7)")
    history = History.open(path)
    try:
        assert history.unqueued() == []
        assert history.queued_legs("old") == {Leg.CALLER}
    finally:
        history.close()
