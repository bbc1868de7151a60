"""The one small interface every speech engine implements (opened by :mod:`.engines`).

    engine = open_engine(EngineKind.VOSK, settings)   # loads the model once (ModelError)
    heard = transcribe(engine, "leg-rx.wav")           # Recognized: text, words, duration
    heard = transcribe(engine, Samples(pcm, 8000))     # audio in memory

An engine sees only voiced segments (:mod:`hotline.recordings.audio`) and returns words
with times from the start of the leg. Each engine lives in one module, the only code that
imports its library: :mod:`hotline.stt.vosk_engine`, :mod:`.whisper_engine`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from hotline.recordings import audio, voiced
from hotline.transcripts.transcript import Word


class EngineKind(Enum):
    VOSK = "vosk"
    WHISPER = "whisper"


@dataclass(frozen=True, slots=True)
class Recognized:
    """What an engine heard in one leg."""

    text: str
    words: tuple[Word, ...]
    duration_ms: int  # of the whole leg, silence included
    speech_ms: int = 0  # of the segments the engine decoded


@dataclass(frozen=True, slots=True)
class Samples:
    """Audio in memory: 16-bit little-endian mono PCM."""

    pcm: bytes
    rate: int


@dataclass(frozen=True, slots=True)
class Heard:
    """A live update: ``final`` is True when the engine closed an utterance."""

    text: str
    final: bool


class Live(Protocol):
    def feed(self, pcm: bytes) -> Heard | None:
        """Take the next chunk; a partial or final result when there is a new one."""
        ...

    def close(self) -> Heard | None:
        """The last utterance's final result, if any."""
        ...


class Engine(Protocol):
    @property
    def name(self) -> str:
        """``vosk``, ``whisper``"""
        ...

    @property
    def model(self) -> str:
        """The model's name (stored with each transcript)."""
        ...

    @property
    def language(self) -> str: ...

    def recognize(self, segments: Iterable[audio.Segment], duration_ms: int) -> Recognized:
        """Decode the leg's voiced segments; word times from the start of the leg."""
        ...

    def live(self, rate: int) -> Live:
        """A decoder for a stream of PCM at ``rate`` (``hotline stt listen``)."""
        ...


def transcribe(engine: Engine, source: Path | str | Samples) -> Recognized:
    """Transcribe a WAV file (checked first: AudioError says why it is unusable) or samples."""
    if isinstance(source, Samples):
        segments = audio.segments_of(source.pcm, source.rate)
        duration = len(source.pcm) // 2 * 1000 // source.rate
        return engine.recognize(segments, duration)
    info = audio.probe(source)
    return engine.recognize(audio.segments(source, info), info.duration_ms)


MAX_RATE = 12.0  # characters per second: Mandarin is spoken at 3-6, fast at 8
CHARACTER_LANGUAGES = ("zh", "ja", "yue")


def spoken(text: str, start_s: float, end_s: float, language: str) -> bool:
    """False for a piece no one could have said in its time: 3 or more characters faster
    than MAX_RATE per second (only where characters are syllables)."""
    if language not in CHARACTER_LANGUAGES:
        return True
    n = sum(1 for c in text if c.isalnum())
    return n < 3 or n <= MAX_RATE * max(end_s - start_s, 0.0)


def join_words(texts: Iterable[str], language: str) -> str:
    """Words as one text: Chinese and Japanese without spaces, other languages with."""
    parts = [t.strip() for t in texts if t.strip()]
    return ("" if language in ("zh", "ja", "yue") else " ").join(parts)


@dataclass
class Buffered:
    """Live decoding for engines that only decode whole utterances (whisper): collect the
    audio, decode it at each pause of ``PAUSE_MS`` (or every ``LIMIT_MS``), final only."""

    engine: Engine
    rate: int
    PAUSE_MS = 700
    LIMIT_MS = 15_000
    _pcm: bytearray = field(default_factory=bytearray)
    _quiet_ms: int = 0
    _voiced: bool = False

    def feed(self, pcm: bytes) -> Heard | None:
        self._pcm += pcm
        loud = audio.peak(pcm) >= voiced.SILENCE_PEAK
        chunk_ms = len(pcm) // 2 * 1000 // self.rate
        self._voiced = self._voiced or loud
        self._quiet_ms = 0 if loud else self._quiet_ms + chunk_ms
        buffered = len(self._pcm) // 2 * 1000 // self.rate
        if self._voiced and (self._quiet_ms >= self.PAUSE_MS or buffered >= self.LIMIT_MS):
            return self._flush()
        if not self._voiced and buffered > self.PAUSE_MS:
            del self._pcm[: len(self._pcm) - self.rate * self.PAUSE_MS // 1000 * 2]
        return None

    def close(self) -> Heard | None:
        return self._flush() if self._voiced else None

    def _flush(self) -> Heard | None:
        heard = transcribe(self.engine, Samples(bytes(self._pcm), self.rate))
        self._pcm.clear()
        self._voiced, self._quiet_ms = False, 0
        return Heard(heard.text, True) if heard.text else None
