"""A transcript of one recorded leg, as the speech-to-text engines produce it: pure values.

Engines return a :class:`Transcript` per leg (the caller's rx, the agent's tx), with each
word's time in the leg so a player can jump to it. The store keeps them by (call_id, leg);
:mod:`hotline.transcripts.turns` (or whoever shows a call) merges both legs by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.recordings.leg import Leg


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_ms: int  # from the start of the leg's file
    end_ms: int
    confidence: float  # 0..1 as the engine reports it (1.0 when it reports none)


@dataclass(frozen=True, slots=True)
class Transcript:
    call_id: str
    leg: Leg  # Leg.CALLER or Leg.AGENT
    engine: str  # "vosk", "whisper"
    model: str  # the model's name or directory basename
    language: str  # "zh", "ko", "en", ...
    text: str  # the whole leg, as recognised (never redacted here: redaction is on display)
    words: tuple[Word, ...] = ()
    duration_ms: int = 0  # of the audio transcribed
    audio_sha256: str = ""  # of the file transcribed (the catalogue's SHA-256)
    t_done: int = 0  # epoch ms when the transcript was made
    extra: dict[str, str] = field(default_factory=dict, compare=False)
