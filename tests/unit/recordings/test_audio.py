"""WAV checks: each kind of bad input gets its own reason; good input becomes segments."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hotline.recordings import audio
from hotline.recordings.errors import AudioError
from tests.speech import write_wav


def tone(
    seconds: float, rate: int = 8000, at: float = 0.0, total: float | None = None
) -> np.ndarray:
    total = total or seconds
    out = np.zeros(int(total * rate), dtype=np.int16)
    t = np.arange(int(seconds * rate)) / rate
    first = int(at * rate)
    out[first : first + len(t)] = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    return out


def reason(path: Path) -> str:
    with pytest.raises(AudioError) as caught:
        audio.probe(path)
    return caught.value.reason


def test_bad_files_each_have_a_reason(tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav", tone(1.0), 8000)
    data = good.read_bytes()
    cases = {
        "missing": tmp_path / "nope.wav",
        "empty": tmp_path / "empty.wav",
        "not_wav": tmp_path / "text.wav",
        "truncated": tmp_path / "cut.wav",
        "sample_rate": write_wav(tmp_path / "4k.wav", tone(1.0, 4000), 4000),
        "format": tmp_path / "ulaw.wav",
    }
    cases["empty"].write_bytes(b"")
    cases["not_wav"].write_text("ID3 this is an mp3, really")
    cases["truncated"].write_bytes(data[: len(data) // 2])
    # a µ-law WAV (format tag 7), as some recorders write
    ulaw = bytearray(data)
    ulaw[20:22] = struct.pack("<H", 7)
    cases["format"].write_bytes(bytes(ulaw))
    assert {name: reason(path) for name, path in cases.items()} == {n: n for n in cases}


def test_a_header_never_finalised_is_truncated_not_empty(tmp_path: Path) -> None:
    data = bytearray(write_wav(tmp_path / "a.wav", tone(1.0), 8000).read_bytes())
    data[40:44] = struct.pack("<I", 0)  # the data size a crashed recorder leaves
    (tmp_path / "open.wav").write_bytes(bytes(data))
    with pytest.raises(AudioError, match="never finalised"):
        audio.probe(tmp_path / "open.wav")


def test_no_frames_is_empty(tmp_path: Path) -> None:
    assert reason(write_wav(tmp_path / "zero.wav", np.zeros(0, dtype=np.int16), 8000)) == "empty"


def test_eight_bit_and_many_channels_are_refused(tmp_path: Path) -> None:
    import wave

    with wave.open(str(tmp_path / "u8.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 8000)
    assert reason(tmp_path / "u8.wav") == "format"
    four = write_wav(tmp_path / "4ch.wav", np.zeros(4 * 800, dtype=np.int16), 8000, channels=4)
    assert reason(four) == "format"


def test_segments_hold_the_speech_at_its_time(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "leg.wav", tone(1.0, at=10.0, total=30.0), 8000)
    info = audio.probe(path)
    assert (info.rate, info.channels, info.duration_ms) == (8000, 1, 30_000)
    segs = list(audio.segments(path, info))
    assert [s.start_ms for s in segs] == [9700]
    assert 1500 <= segs[0].duration_ms <= 1700  # the second of tone, padded


def test_silence_has_no_segments(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "quiet.wav", np.zeros(8000 * 60, dtype=np.int16), 8000)
    assert list(audio.segments(path)) == []


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left = tone(1.0)
    both = np.stack([left, np.zeros_like(left)], axis=1).reshape(-1)
    path = write_wav(tmp_path / "st.wav", both, 8000, channels=2)
    seg = next(audio.segments(path))
    mono = np.frombuffer(seg.pcm, dtype="<i2")
    assert abs(int(mono.max()) - int(left.max()) // 2) <= 1
    assert (
        audio.pcm_from(path, audio.probe(path), 500)
        == np.asarray((left[4000:].astype(np.int32) // 2), dtype="<i2").tobytes()
    )
