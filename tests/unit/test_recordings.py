"""The recording catalogue: paths inside the PBX mapped to the host, WAV facts, bad files."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import pytest

from hotline.recordings.catalogue import RecordingError, describe, host_path, leg_paths
from hotline.recordings.leg import Leg


def wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * int(seconds * rate))
    return path


def test_a_pbx_path_is_found_in_the_instance(tmp_path: Path) -> None:
    inside = "/srv/hotline/spool/recordings/2026/11/24/1795.7"
    assert (
        host_path(inside, "/srv/hotline", tmp_path)
        == tmp_path / "spool/recordings/2026/11/24/1795.7"
    )
    assert host_path("/var/spool/asterisk/x", "/srv/hotline", tmp_path) == Path(
        "/var/spool/asterisk/x"
    )


def test_legs_are_named_like_the_dialplan_names_them(tmp_path: Path) -> None:
    legs = leg_paths(tmp_path / "1795.7")
    assert {leg: p.name for leg, p in legs.items()} == {
        Leg.CALLER: "1795.7-rx.wav",
        Leg.AGENT: "1795.7-tx.wav",
        Leg.MIXED: "1795.7.wav",
    }


def test_describe_reads_size_duration_and_hash(tmp_path: Path) -> None:
    path = wav(tmp_path / "a.wav", 2.5)
    rec = describe("1795.7", Leg.CALLER, path)
    assert rec.duration_ms == 2500
    assert rec.size == path.stat().st_size
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"", b"RIFF\x10\x00\x00\x00WAVE", b"not audio at all"])
def test_a_truncated_or_foreign_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(RecordingError, match=r"bad\.wav"):
        describe("1795.7", Leg.AGENT, bad)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"gone\.wav"):
        describe("1795.7", Leg.AGENT, tmp_path / "gone.wav")
