"""Loudness per turn from the recorded legs, and raised_voice on a stored call."""

from __future__ import annotations

import hashlib
import json
import math
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.cli.main import main
from hotline.core.records import CallRecord
from hotline.recordings import audio
from hotline.recordings.leg import Leg, Recording
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript, Word

RATE = 8000
AGENT = [("您好", 0, 1000, 0.05), ("好的", 3500, 4500, 0.05), ("你烦不烦", 6500, 7500, 0.2),
         ("再见", 9500, 10500, 0.05)]  # fmt: skip
CALLER = [("我要投诉", 1500, 3000, 0.1), ("嗯", 5000, 6000, 0.1), ("好", 8000, 9000, 0.1)]


def write_leg(path: Path, words: list[tuple[str, int, int, float]], total_ms: int = 11_000) -> None:
    samples = np.zeros(total_ms * RATE // 1000)
    for _, start, end, amplitude in words:
        n = (end - start) * RATE // 1000
        t = np.arange(n) / RATE
        samples[start * RATE // 1000 : start * RATE // 1000 + n] = (
            amplitude * 32767 * np.sin(2 * math.pi * 440 * t)
        )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def test_level_db_is_the_rms_of_the_spans(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_leg(path, AGENT)
    info = audio.probe(path)
    quiet = audio.level_db(path, info, [(0, 1000)])
    loud = audio.level_db(path, info, [(6500, 7500)])
    assert quiet == pytest.approx(20 * math.log10(0.05 / math.sqrt(2)), abs=0.2)
    assert loud is not None
    assert quiet is not None
    assert loud - quiet == pytest.approx(12.0, abs=0.2)  # four times the amplitude
    assert audio.level_db(path, info, [(1500, 3000)]) is None  # digital silence
    assert audio.level_db(path, info, [(20_000, 21_000)]) is None  # past the end
    both = audio.level_db(path, info, [(0, 1000), (6500, 7500)])
    assert both is not None
    assert quiet < both < loud


def test_raised_voice_on_a_stored_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    history = History.open(db)
    history.save_calls([CallRecord("c1", t_arrival=1_796_000_000_000, agent="王芳")])
    legs = []
    for leg, words in ((Leg.AGENT, AGENT), (Leg.CALLER, CALLER)):
        path = tmp_path / f"c1-{leg.value}.wav"
        write_leg(path, words)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        legs.append(Recording("c1", leg, str(path), path.stat().st_size, 11_000, sha))
    history.save_recordings(legs, at=0)
    history.close()
    store = TranscriptStore.open(db)
    for leg, words in ((Leg.AGENT, AGENT), (Leg.CALLER, CALLER)):
        timed = tuple(Word(w, s, e, 1.0) for w, s, e, _ in words)
        store.save(Transcript("c1", leg, "vosk", "m", "zh", " ".join(w[0] for w in words),
                              timed, 11_000))  # fmt: skip
    store.close()
    code = main(["qa", "flag", "--call", "c1", "--purpose", "质检-9", "--format", "json"])
    flags = json.loads(capsys.readouterr().out)["flags"]
    assert code == 0
    loud = [f for f in flags if f["rule"] == "raised_voice"]
    assert [(f["start"], f["text"]) for f in loud] == [(6.5, "你烦不烦")]
    assert loud[0]["detail"].startswith("+12.0 dB")
    # the recordings gone (disposed): no loudness, no raised_voice, the other rules still run
    for rec in legs:
        Path(rec.path).unlink()
    main(["qa", "flag", "--call", "c1", "--purpose", "质检-9", "--format", "json"])
    rules = [f["rule"] for f in json.loads(capsys.readouterr().out)["flags"]]
    assert "raised_voice" not in rules
    assert "forbidden_phrase" in rules
