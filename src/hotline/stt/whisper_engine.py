"""faster-whisper speech-to-text: the only module that imports ``faster_whisper`` (and
``zhconv``).

The multilingual base model in CTranslate2 format (:mod:`.whisper_model` assembles it from
PyPI, offline: ``local_files_only``), int8 on the CPU. ``vad_filter=True`` because whisper
spends as long on silence as on speech (30 s of digital silence: RTF 0.74 without it).
Mandarin comes out in traditional or simplified characters as the model pleases: the text
is converted to simplified Chinese (zhconv), which is what 12345 auditors search for.
The centre's vocabulary goes in as ``hotwords`` (:mod:`hotline.transcripts.vocabulary`):
the model reads at most :attr:`WhisperEngine.hotword_budget` tokens of them.

With word times, faster-whisper decodes the few tenths of a second after the last word
again, and given hotwords it fills that gap with them ("证 证 证 证 证" in 0.3 s, "游户 游户"
in 0.08 s), at up to four times the cost of the speech itself. So the pieces are taken only
until one ends within :data:`TAIL_S` of the segment's end (the rest is never decoded), and a
piece whose characters come faster than anyone speaks is left out as not speech
(:func:`hotline.stt.engine.spoken`).
"""

from __future__ import annotations

import io
import threading
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import zhconv
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio

from hotline.recordings.audio import Segment
from hotline.recordings.errors import ModelError
from hotline.stt import whisper_model
from hotline.stt.engine import Buffered, Recognized, join_words, spoken
from hotline.transcripts.transcript import Word

RATE = 16000  # whisper's input rate
TAIL_S = 0.8  # a piece ending this close to the segment's end leaves nothing to decode


def _load_zhconv() -> None:
    # zhconv's default loader leaves its dictionary file open (a ResourceWarning at exit);
    # loading it by path closes it
    zhconv.loaddict(str(Path(zhconv.__file__).with_name("zhcdict.json")))


def _simplified(text: str, language: str) -> str:
    return zhconv.convert(text, "zh-cn") if language == "zh" else text


def _float16k(segment: Segment) -> np.ndarray:
    """The segment as float32 at 16 kHz (PyAV resamples 8 kHz telephone audio)."""
    if segment.rate == RATE:
        return np.frombuffer(segment.pcm, dtype="<i2").astype(np.float32) / 32768.0
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(segment.rate)
        w.writeframes(segment.pcm)
    buf.seek(0)
    decoded: np.ndarray = decode_audio(buf, sampling_rate=RATE)
    return decoded


@dataclass
class WhisperEngine:
    directory: Path
    language: str
    threads: int
    _model: WhisperModel
    _lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "whisper"
    model: str = whisper_model.NAME
    beam_size: int = 5
    hotwords: str = ""  # the centre's words, space-separated ("" none)
    _models: ClassVar[dict[tuple[Path, int], WhisperModel]] = {}

    @classmethod
    def load(cls, directory: Path, language: str = "zh", threads: int = 0) -> WhisperEngine:
        """The engine on the model in DIRECTORY, assembled there first if need be."""
        whisper_model.assemble(directory)
        _load_zhconv()
        key = (directory.resolve(), threads)
        if key not in cls._models:
            try:
                cls._models[key] = WhisperModel(
                    str(directory), device="cpu", compute_type="int8", cpu_threads=threads,
                    local_files_only=True,
                )  # fmt: skip
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"the whisper model in {directory} is broken: {exc}",
                                 "model_broken") from None  # fmt: skip
        return cls(directory, language, threads, cls._models[key])

    def _decode(self, segment: Segment) -> tuple[list[str], list[Word]]:
        pieces, _ = self._model.transcribe(
            _float16k(segment), language=self.language, vad_filter=True,
            word_timestamps=True, beam_size=self.beam_size, condition_on_previous_text=False,
            hotwords=self.hotwords or None,
        )  # fmt: skip
        texts, words = [], []
        seconds = segment.duration_ms / 1000
        for piece in pieces:  # decoded one by one as they are asked for
            if not spoken(piece.text, piece.start, piece.end, self.language):
                continue
            texts.append(_simplified(piece.text, self.language))
            for w in piece.words or ():
                words.append(
                    Word(
                        text=_simplified(w.word.strip(), self.language),
                        start_ms=segment.start_ms + round(w.start * 1000),
                        end_ms=segment.start_ms + round(w.end * 1000),
                        confidence=round(float(w.probability), 4),
                    )
                )
            if piece.end >= seconds - TAIL_S:
                break  # what is left is the VAD's padding: decoding it only invents words
        return texts, words

    @property
    def hotword_budget(self) -> int:
        """How many tokens of hotwords the model reads (the rest it cuts off)."""
        return int(self._model.max_length) // 2 - 1

    def count_tokens(self, text: str) -> int:
        return len(self._model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

    def recognize(self, segments: Iterable[Segment], duration_ms: int) -> Recognized:
        texts: list[str] = []
        words: list[Word] = []
        speech = 0
        with self._lock:
            for seg in segments:
                t, w = self._decode(seg)
                texts += t
                words += w
                speech += seg.duration_ms
        return Recognized(join_words(texts, self.language), tuple(words), duration_ms, speech)

    def live(self, rate: int) -> Buffered:
        return Buffered(self, rate)
