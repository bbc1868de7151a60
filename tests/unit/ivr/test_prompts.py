"""IVR prompts rendered by the real espeak-ng and sox (no mocks): format, level, speech, cache."""

from __future__ import annotations

import array
import hashlib
import math
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.ivr.prompts import Prompt, PromptError, cache_key, prompts_from_table, segments, ssml
from hotline.pbx.voice import (
    BuiltPrompt,
    Source,
    audio_stats,
    build_prompts,
    detect_engine_version,
)

ZH = Prompt("welcome", "zh", "您好，欢迎致电政务服务便民热线。")  # 15 hanzi
EN = Prompt("welcome", "en", "Welcome to the government service hotline.")


@dataclass(frozen=True)
class Bed:
    out_dir: Path
    cache_dir: Path
    built: dict[str, BuiltPrompt]  # by language


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Bed:
    """ZH and EN synthesised once; tests reuse the cache so they stay fast."""
    root = tmp_path_factory.mktemp("prompts")
    built = build_prompts(
        [ZH, EN], out_dir=root / "out", cache_dir=root / "cache", recorded_dir=None
    )
    return Bed(root / "out", root / "cache", {b.prompt.language: b for b in built})


def rebuild(bed: Bed, out_dir: Path, recorded_dir: Path | None = None) -> list[BuiltPrompt]:
    return build_prompts(
        [ZH, EN], out_dir=out_dir, cache_dir=bed.cache_dir, recorded_dir=recorded_dir
    )


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def frames(path: Path, ms: int = 50) -> list[tuple[float, float]]:
    """(level dBFS, zero-crossing rate) of each ``ms`` frame of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as w:
        n = w.getframerate() * ms // 1000
        samples = array.array("h", w.readframes(w.getnframes()))
    out = []
    for i in range(0, len(samples) - n + 1, n):
        f = samples[i : i + n]
        rms = math.sqrt(sum(x * x for x in f) / n) or 1e-9
        crossings = sum(1 for j in range(1, n) if (f[j - 1] < 0) != (f[j] < 0))
        out.append((20 * math.log10(rms / 32768), crossings / n))
    return out


# --- the rendered audio -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_prompt_is_asterisk_wav_at_a_good_level(bed: Bed, language: str) -> None:
    built = bed.built[language]
    assert built.path == bed.out_dir / language / "welcome.wav"
    assert built.source is Source.SYNTHESISED
    stats = audio_stats(built.path)
    # what Asterisk's format_wav reads
    assert (stats.rate, stats.channels, stats.bits) == (8000, 1, 16)
    assert stats.encoding == "16-bit Signed Integer PCM"
    # 15 hanzi or 7 words: seconds of speech, not a blip and not a runaway
    assert 1.5 < stats.length_s < 10
    assert built.duration_s == pytest.approx(stats.length_s, abs=0.01)
    assert stats.rms_db > -35  # well above silence
    assert -4 < stats.peak_db < -1  # normalised to -3 dBFS: no clipping
    # Asterisk runs as its own user: the installed file must be world-readable
    assert built.path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("language", ["zh", "en"])
def test_prompt_sounds_like_speech_not_a_tone(bed: Bed, language: str, tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", str(tone), "synth", "2", "sine", "440")
    for path, speech in ((bed.built[language].path, True), (tone, False)):
        fr = frames(path)
        levels = sorted(db for db, _ in fr)
        spread = levels[len(levels) * 9 // 10] - levels[len(levels) // 10]
        # voiced vowels cross zero rarely, fricatives (s, sh, f) often; a tone never varies
        zcr = [z for db, z in fr if db > -45]
        assert (spread > 20) is speech, (path, spread)
        assert (max(zcr) / min(zcr) > 3) is speech, (path, zcr)
        if speech:
            # pauses between phrases and loud syllables, as speech has
            assert sum(db < -45 for db in levels) / len(levels) > 0.05
            assert sum(db > -30 for db in levels) / len(levels) > 0.2


def test_zh_and_en_renderings_differ(bed: Bed) -> None:
    zh, en = bed.built["zh"], bed.built["en"]
    assert zh.sha256 != en.sha256
    assert zh.duration_s != en.duration_s


# --- the cache ----------------------------------------------------------------------------


def test_rebuild_is_served_from_cache_without_running_any_tool(
    bed: Bed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = detect_engine_version()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # espeak-ng and sox are unreachable now
    built = build_prompts(
        [ZH, EN],
        out_dir=tmp_path / "out",
        cache_dir=bed.cache_dir,
        recorded_dir=None,
        engine_version=version,
    )
    assert [b.source for b in built] == [Source.CACHE, Source.CACHE]
    assert [b.sha256 for b in built] == [bed.built["zh"].sha256, bed.built["en"].sha256]


def test_missing_tools_say_to_run_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptError, match=r"espeak-ng is not installed.*scripts/setup"):
        build_prompts([ZH], out_dir=tmp_path / "o", cache_dir=tmp_path / "c", recorded_dir=None)


def test_prompts_with_the_same_text_share_one_cache_file(tmp_path: Path) -> None:
    text = "Please hold."
    a, b = Prompt("hold", "en", text), Prompt("hold-again", "en", text)
    cache = tmp_path / "cache"
    built = build_prompts([a, b], out_dir=tmp_path / "out", cache_dir=cache, recorded_dir=None)
    assert [x.source for x in built] == [Source.SYNTHESISED, Source.CACHE]
    assert built[0].sha256 == built[1].sha256
    assert [p.name for p in cache.iterdir()] == [f"{cache_key(a, detect_engine_version())}.wav"]


def test_cache_key_covers_text_language_and_engine_but_not_name() -> None:
    key = cache_key(EN, "espeak-ng 1.51; sox v14.4.2")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert cache_key(Prompt("other-name", "en", EN.text), "espeak-ng 1.51; sox v14.4.2") == key
    assert cache_key(Prompt("welcome", "en", EN.text + "!"), "espeak-ng 1.51; sox v14.4.2") != key
    assert cache_key(Prompt("welcome", "zh", EN.text), "espeak-ng 1.51; sox v14.4.2") != key
    assert cache_key(EN, "espeak-ng 1.52; sox v14.4.2") != key


# --- recorded prompts ---------------------------------------------------------------------


def test_recorded_prompt_replaces_the_synthetic_one(bed: Bed, tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthetic = {b.prompt.language: b for b in rebuild(bed, out)}
    recorded = tmp_path / "recorded"
    (recorded / "zh").mkdir(parents=True)
    rec = recorded / "zh" / "welcome.wav"
    sox("-n", "-r", "44100", "-c", "2", str(rec), "synth", "1.5", "sine", "440")

    zh, en = rebuild(bed, out, recorded)

    assert (zh.source, en.source) == (Source.RECORDED, Source.CACHE)
    assert zh.path == synthetic["zh"].path
    assert zh.sha256 != synthetic["zh"].sha256
    stats = audio_stats(zh.path)
    assert (stats.rate, stats.channels, stats.bits) == (8000, 1, 16)
    assert stats.length_s == pytest.approx(1.5, abs=0.01)
    assert -4 < stats.peak_db < -1


@pytest.mark.parametrize("keep_bytes", [30, 5000], ids=["header-cut", "data-cut"])
def test_corrupt_recording_is_named_and_nothing_is_replaced(
    bed: Bed, tmp_path: Path, keep_bytes: int
) -> None:
    out = tmp_path / "out"
    before = {b.path: b.sha256 for b in rebuild(bed, out)}
    good = tmp_path / "good.wav"
    sox("-n", "-r", "8000", "-b", "16", "-c", "1", str(good), "synth", "1", "sine", "440")
    bad = tmp_path / "recorded" / "zh" / "welcome.wav"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(good.read_bytes()[:keep_bytes])

    with pytest.raises(PromptError, match=re.escape(str(bad))):
        rebuild(bed, out, tmp_path / "recorded")

    # all or nothing: the English prompt of the same build was not replaced either
    assert {p: sha256_of(p) for p in before} == before
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["welcome.wav"] * 2


# --- validation and the pure helpers ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "language", "text", "problem"),
    [
        ("Welcome", "zh", "你好", "name"),
        ("-welcome", "zh", "你好", "name"),
        ("main_menu", "zh", "你好", "name"),
        ("../etc/passwd", "en", "hi", "name"),
        ("", "en", "hi", "name"),
        ("welcome", "fr", "bonjour", "language"),
        ("welcome", "ZH", "你好", "language"),
        ("welcome", "en", "", "empty"),
        ("welcome", "en", " \n", "empty"),
    ],
)
def test_invalid_prompts_are_rejected(name: str, language: str, text: str, problem: str) -> None:
    with pytest.raises(PromptError, match=problem) as exc:
        Prompt(name, language, text)
    assert repr(name) in str(exc.value)


def test_a_prompt_listed_twice_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="listed twice"):
        build_prompts([EN, EN], out_dir=tmp_path, cache_dir=tmp_path, recorded_dir=None)


def test_mixed_language_text_is_split_between_voices() -> None:
    zh = Prompt("main-menu", "zh", "普通话请按1，For English, press 2。谢谢")
    assert segments(zh) == [
        ("zh", "普通话请按1，"),
        ("en", "For English, press 2"),
        ("zh", "。谢谢"),
    ]
    en = Prompt("goodbye", "en", "-v Bye <b> & 再见")
    assert ssml(en) == (
        '<speak><voice name="en-us">-v Bye &lt;b&gt; &amp; </voice>'
        '<voice name="cmn-latn-pinyin">再见</voice></speak>'
    )


def test_prompts_from_table() -> None:
    table = {"welcome": {"zh": ZH.text, "en": EN.text}}
    assert prompts_from_table(table) == [ZH, EN]


def test_text_starting_with_a_dash_is_spoken_not_parsed(tmp_path: Path) -> None:
    prompt = Prompt("dash", "en", "-w /tmp/owned --version")
    built = build_prompts(
        [prompt],
        out_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        recorded_dir=None,
    )
    # read as words ("dash w slash tmp ..."), not taken as espeak-ng's -w option
    assert audio_stats(built[0].path).length_s > 1.5
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [f"cache/{cache_key(prompt, detect_engine_version())}.wav", "out/en/dash.wav"]
