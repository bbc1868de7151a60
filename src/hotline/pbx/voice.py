"""The IVR prompts' audio: espeak-ng and sox render the WAV files Asterisk plays.

Asterisk plays a prompt with ``Playback(/srv/hotline/prompts/<lang>/<name>)``: no extension,
so format_wav picks ``<name>.wav``, which it reads only as 8 kHz, 16-bit signed, mono PCM.
:func:`build_prompts` writes exactly that::

    built = build_prompts(
        [Prompt("welcome", "zh", "您好，欢迎致电政务服务便民热线。")],
        out_dir=Path("/srv/hotline/prompts"),
        cache_dir=Path("/var/cache/hotline/prompts"),
        recorded_dir=Path("/srv/hotline/recorded"),  # or None
    )
    for b in built:
        print(b.path, b.source, f"{b.duration_s:.2f} s", audio_stats(b.path))

A human recording at ``recorded_dir/<lang>/<name>.wav`` (any rate, channels or format sox
reads) wins over the synthetic voice. Synthetic prompts come from espeak-ng and are cached
under :func:`~hotline.ivr.prompts.cache_key`, so a rebuild with unchanged texts runs
neither espeak-ng nor sox. The texts, voices and effects are :mod:`hotline.ivr.prompts`
(pure); this module runs espeak-ng and sox (installed by ``scripts/setup``) and touches
files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hotline.ivr.prompts import (
    OUTPUT,
    RATE,
    SYNTH_EFFECTS,
    VOICES,
    Prompt,
    PromptError,
    cache_key,
    ssml,
)

_TIMEOUT_S = 60.0

# Recordings keep their own EQ; the same peak level keeps a menu from jumping in loudness
# between a recorded and a synthetic prompt.
RECORDED_EFFECTS = ("channels", "1", "rate", "-v", str(RATE), "gain", "-n", "-3")


class Source(StrEnum):
    """Where an installed prompt's audio came from."""

    RECORDED = "recorded"
    CACHE = "cache"
    SYNTHESISED = "synthesised"


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    """A prompt installed at ``path`` (``out_dir/<lang>/<name>.wav``)."""

    prompt: Prompt
    path: Path
    source: Source
    duration_s: float
    sha256: str


@dataclass(frozen=True, slots=True)
class AudioStats:
    """What sox says about an audio file (levels in dBFS; ``-inf`` for digital silence)."""

    rate: int
    channels: int
    bits: int
    encoding: str
    length_s: float
    rms_db: float
    peak_db: float

    def describe(self) -> str:
        return (
            f"{self.rate} Hz, {self.channels} ch, {self.encoding}, {self.length_s:.2f} s, "
            f"RMS {self.rms_db:.1f} dBFS, peak {self.peak_db:.1f} dBFS"
        )


def detect_engine_version() -> str:
    """The installed espeak-ng and sox versions, e.g. ``"espeak-ng 1.51; sox v14.4.2"``."""
    espeak = _run(["espeak-ng", "--version"], what="espeak-ng --version").stdout.decode()
    sox = _run(["sox", "--version"], what="sox --version").stdout.decode()
    # espeak-ng also prints its data path; keep only the version so the key is portable.
    m = re.search(r"text-to-speech:\s*(\S+)", espeak)
    s = re.search(r"SoX\s+(\S+)", sox)
    return (
        f"espeak-ng {m.group(1) if m else espeak.strip()}; sox {s.group(1) if s else sox.strip()}"
    )


def build_prompts(
    prompts: Iterable[Prompt],
    *,
    out_dir: Path,
    cache_dir: Path,
    recorded_dir: Path | None,
    engine_version: str | None = None,
) -> list[BuiltPrompt]:
    """Render every prompt and install it at ``out_dir/<lang>/<name>.wav``.

    All or nothing: every file is rendered beside its destination first and renamed into
    place only when all succeeded, so on :class:`PromptError` the installed prompts are
    the previous ones. ``engine_version`` defaults to :func:`detect_engine_version` (which
    runs the tools); pass it to skip that, e.g. when every prompt is cached.
    """
    items = list(prompts)
    seen: set[tuple[str, str]] = set()
    for p in items:
        if (p.language, p.name) in seen:
            raise PromptError(f"prompt {p.name!r} ({p.language}) is listed twice")
        seen.add((p.language, p.name))

    version = engine_version
    staged: list[tuple[Path, Path]] = []
    built: list[BuiltPrompt] = []
    done = False
    try:
        for p in items:
            final = out_dir / p.language / f"{p.name}.wav"
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_beside(final)
            staged.append((tmp, final))
            recorded = (
                recorded_dir / p.language / f"{p.name}.wav" if recorded_dir is not None else None
            )
            if recorded is not None and recorded.is_file():
                _convert_recorded(recorded, tmp)
                source = Source.RECORDED
            else:
                if version is None:
                    version = detect_engine_version()
                cached = cache_dir / f"{cache_key(p, version)}.wav"
                if _is_playable(cached):
                    source = Source.CACHE
                else:
                    _synthesise(p, cached)
                    source = Source.SYNTHESISED
                shutil.copyfile(cached, tmp)
            # mkstemp makes 0600 files; Asterisk runs as its own user and must read them.
            tmp.chmod(0o644)
            built.append(BuiltPrompt(p, final, source, _duration_s(tmp), _sha256(tmp)))
        for tmp, final in staged:
            os.replace(tmp, final)
        done = True
    finally:
        if not done:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
    return built


def audio_stats(path: Path) -> AudioStats:
    """Format and levels of an audio file, from ``sox --i`` and ``sox PATH -n stats``."""
    info = _fields(_run(["sox", "--i", str(path)], what=f"sox --i {path}").stdout.decode(), ":")
    # `stats` writes to stderr; with several channels the first column is the overall one.
    stats_run = _run(["sox", str(path), "-n", "stats"], what=f"sox stats {path}")
    stats = _fields(stats_run.stderr.decode(), None)
    try:
        bits = re.match(r"(\d+)-bit", info["Precision"])
        return AudioStats(
            rate=round(float(info["Sample Rate"])),
            channels=int(info["Channels"]),
            bits=int(bits.group(1)) if bits else 0,
            encoding=info["Sample Encoding"],
            length_s=float(stats["Length s"]),
            rms_db=float(stats["RMS lev dB"]),
            peak_db=float(stats["Pk lev dB"]),
        )
    except (KeyError, ValueError) as exc:
        raise PromptError(f"{path}: unexpected sox output ({exc!r})") from exc


def _fields(text: str, sep: str | None) -> dict[str, str]:
    """``Key : value`` lines (sep ":") or ``Key   value  value`` columns (sep None)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if sep is not None:
            key, found, value = line.partition(sep)
            if found:
                out.setdefault(key.strip(), value.strip())
        else:
            parts = re.split(r"\s{2,}", line.strip())
            if len(parts) >= 2:
                out.setdefault(parts[0], parts[1])
    return out


def _run(
    argv: list[str], *, what: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which(argv[0])
    if exe is None:
        raise PromptError(
            f"{argv[0]} is not installed (not on PATH): run scripts/setup, "
            "which installs espeak-ng and sox"
        )
    try:
        proc = subprocess.run(
            [exe, *argv[1:]], input=stdin, capture_output=True, check=False, timeout=_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise PromptError(f"{what}: no result after {_TIMEOUT_S:.0f} s") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise PromptError(f"{what} failed (exit {proc.returncode}): {err}")
    return proc


def _synthesise(prompt: Prompt, cached: Path) -> None:
    """espeak-ng → sox → ``cached``, renamed into place so a crash leaves no partial file."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    label = f"prompt {prompt.name!r} ({prompt.language})"
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".synth-") as work:
        raw = Path(work) / "espeak.wav"
        out = Path(work) / "out.wav"
        # The text goes on stdin, never argv: it may start with '-' and is UTF-8 Chinese
        # (-b 1 says so even under a C locale). -m: it is SSML, with the text escaped.
        voice = VOICES[prompt.language].args()
        _run(
            ["espeak-ng", "-m", "-b", "1", *voice, "-w", str(raw), "--stdin"],
            stdin=ssml(prompt).encode("utf-8"),
            what=f"espeak-ng for {label}",
        )
        # -R: sox seeds its dither from a constant, so the same input gives the same bytes.
        _run(
            ["sox", "-R", "-V1", str(raw), *OUTPUT, str(out), *SYNTH_EFFECTS],
            what=f"sox for {label}",
        )
        if not _is_playable(out):
            raise PromptError(f"{label}: espeak-ng produced no audio")
        os.replace(out, cached)


def _convert_recorded(recorded: Path, tmp: Path) -> None:
    proc = _run(
        ["sox", "-R", "-V2", str(recorded), *OUTPUT, str(tmp), *RECORDED_EFFECTS],
        what=f"reading recorded prompt {recorded} with sox",
    )
    # A WAV whose data stops short of its header's length converts "fine" with only this
    # warning; installing it would cut the prompt off mid-sentence.
    if b"Premature EOF" in proc.stderr:
        raise PromptError(f"recorded prompt {recorded} is truncated (sox: premature EOF)")
    if not _is_playable(tmp):
        raise PromptError(f"recorded prompt {recorded} holds no audio")


def _is_playable(path: Path) -> bool:
    """True if ``path`` is a non-empty WAV in the format Asterisk's format_wav reads."""
    try:
        with wave.open(str(path), "rb") as w:
            return (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2) and (
                w.getnframes() > 0
            )
    except (OSError, EOFError, wave.Error):
        return False


def _duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _temp_beside(final: Path) -> Path:
    # Same directory, so the rename is atomic; a leading dot and no .wav extension, so
    # Asterisk never picks it up as a prompt.
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


__all__ = [
    "AudioStats",
    "BuiltPrompt",
    "Source",
    "audio_stats",
    "build_prompts",
    "detect_engine_version",
]
