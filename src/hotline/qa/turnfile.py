"""A call's turns written as JSON, for running the flag rules without a call (pure).

    [{"speaker": "agent", "start": 0.4, "end": 3.1, "text": "您好，12345热线"},
     {"speaker": "caller", "start": 3.5, "end": 9.0, "text": "我打了好几次了", "energy": -21.5}]

``speaker`` is caller or agent; ``start`` and ``end`` are seconds from the start of the call
(``end`` not before ``start``); ``text`` what was said; ``energy`` (optional) the turn's
loudness in dB. Every problem is listed at once, naming the turn (``turns.3.end: ...``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hotline.core.reader import Problem
from hotline.qa.flags import QaTurn
from hotline.recordings.leg import Leg
from hotline.transcripts.turns import Turn

__all__ = ["SPEAKERS", "TurnsError", "parse_turns", "turn_doc"]

SPEAKERS = {"caller": Leg.CALLER, "agent": Leg.AGENT}
_KEYS = {"speaker", "start", "end", "text", "energy"}
MAX_SECONDS = 24 * 3600


class TurnsError(ValueError):
    """The turns are not usable; ``problems`` names each bad one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"  {p}" for p in self.problems))


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        return None
    return float(value)


def parse_turns(doc: Any) -> list[QaTurn]:
    """The turns of DOC (parsed JSON), in time order; :class:`TurnsError` if any is bad."""
    problems: list[Problem] = []

    def fail(node: str, message: str) -> None:
        problems.append(Problem.of(node, message))

    if not isinstance(doc, list):
        raise TurnsError([Problem("turns", f"expected a list of turns, got {type(doc).__name__}")])
    out: list[QaTurn] = []
    for i, raw in enumerate(doc):
        node = f"turns.{i}"
        if not isinstance(raw, dict):
            fail(node, f"expected an object, got {type(raw).__name__}")
            continue
        for key in raw:
            if key not in _KEYS:
                fail(f"{node}.{key}", f"unknown key (expected one of {', '.join(sorted(_KEYS))})")
        given = raw.get("speaker")
        speaker = SPEAKERS.get(given) if isinstance(given, str) else None
        if speaker is None:
            fail(f"{node}.speaker", f"{raw.get('speaker')!r}: use caller or agent")
        start, end = _seconds(raw.get("start")), _seconds(raw.get("end"))
        for key, value in (("start", start), ("end", end)):
            if value is None:
                fail(f"{node}.{key}", f"{raw.get(key)!r}: seconds from the start of the call")
        if start is not None and end is not None and end < start:
            fail(f"{node}.end", f"{end} is before start {start}")
        text = raw.get("text")
        if not isinstance(text, str):
            fail(f"{node}.text", f"expected text, got {text!r}")
        energy = raw.get("energy")
        if energy is not None and (
            isinstance(energy, bool)
            or not isinstance(energy, int | float)
            or not math.isfinite(energy)
        ):
            fail(f"{node}.energy", f"expected a number of dB, got {energy!r}")
            energy = None
        if speaker is None or start is None or end is None or not isinstance(text, str):
            continue
        turn = Turn(speaker, round(start * 1000), round(end * 1000), text.strip(), ())
        out.append(QaTurn(turn, float(energy) if energy is not None else None))
    if problems:
        raise TurnsError(problems)
    return sorted(out, key=lambda t: (t.turn.start_ms, t.turn.end_ms))


def turn_doc(t: QaTurn) -> dict[str, Any]:
    """A turn as the JSON :func:`parse_turns` reads."""
    doc: dict[str, Any] = {
        "speaker": "caller" if t.speaker is Leg.CALLER else "agent",
        "start": t.turn.start_ms / 1000,
        "end": t.turn.end_ms / 1000,
        "text": t.turn.text,
    }
    if t.energy_db is not None:
        doc["energy"] = t.energy_db
    return doc
