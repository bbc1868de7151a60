"""A transcript as JSON, for a speech-to-text worker that hands its result back over HTTP.

    doc = to_doc(transcript)            # a dict json.dumps takes
    transcript = from_doc(doc)          # WireError naming the field that is wrong

Pure: the worker (:mod:`hotline.stt.centre`) sends it, the web app
(:mod:`hotline.web.workers_api`) reads it. Whatever arrives is checked field by field
before it reaches the store: a worker is another host, and its bytes are input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hotline.recordings.leg import Leg
from hotline.transcripts.transcript import Transcript, Word

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_TEXT = 1_000_000  # characters: hours of speech
MAX_WORDS = 200_000


class WireError(ValueError):
    """A transcript document that cannot be stored as given (the message names the field)."""


def to_doc(t: Transcript) -> dict[str, Any]:
    return {
        "call_id": t.call_id, "leg": t.leg.value, "engine": t.engine, "model": t.model,
        "language": t.language, "text": t.text,
        "words": [[w.text, w.start_ms, w.end_ms, round(w.confidence, 4)] for w in t.words],
        "duration_ms": t.duration_ms, "audio_sha256": t.audio_sha256, "t_done": t.t_done,
    }  # fmt: skip


def _text(doc: Mapping[str, Any], name: str, *, limit: int = 200, empty: bool = False) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise WireError(f"{name}: a string is needed")
    if not empty and not value:
        raise WireError(f"{name}: empty")
    if len(value) > limit:
        raise WireError(f"{name}: longer than {limit} characters")
    return value


def _int(doc: Mapping[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WireError(f"{name}: a whole number >= 0 is needed")
    return value


def _word(raw: object, i: int) -> Word:
    if not isinstance(raw, list) or len(raw) != 4:
        raise WireError(f"words[{i}]: [text, start_ms, end_ms, confidence] is needed")
    text, start, end, conf = raw
    if not isinstance(text, str) or len(text) > 200:
        raise WireError(f"words[{i}]: the text is not a string (of at most 200 characters)")
    ints = [v for v in (start, end) if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) != 2 or not 0 <= start <= end:
        raise WireError(f"words[{i}]: start_ms <= end_ms, whole numbers >= 0, are needed")
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
        raise WireError(f"words[{i}]: the confidence is a number in 0..1")
    return Word(text, start, end, float(conf))


def from_doc(doc: object) -> Transcript:
    """The transcript in DOC (what :func:`to_doc` made); :class:`WireError` if it is not one."""
    if not isinstance(doc, Mapping):
        raise WireError("a JSON object is needed")
    try:
        leg = Leg(_text(doc, "leg"))
    except ValueError:
        raise WireError("leg: 'rx' (the caller) or 'tx' (the agent)") from None
    if leg is Leg.MIXED:
        raise WireError("leg: the mixed leg is not transcribed")
    sha = _text(doc, "audio_sha256")
    if not SHA256.fullmatch(sha):
        raise WireError("audio_sha256: 64 lowercase hex digits are needed")
    words = doc.get("words")
    if not isinstance(words, list) or len(words) > MAX_WORDS:
        raise WireError(f"words: a list of at most {MAX_WORDS} words is needed")
    return Transcript(
        call_id=_text(doc, "call_id"), leg=leg, engine=_text(doc, "engine"),
        model=_text(doc, "model"), language=_text(doc, "language", limit=20),
        text=_text(doc, "text", limit=MAX_TEXT, empty=True),
        words=tuple(_word(w, i) for i, w in enumerate(words)),
        duration_ms=_int(doc, "duration_ms"), audio_sha256=sha, t_done=_int(doc, "t_done"),
    )  # fmt: skip
