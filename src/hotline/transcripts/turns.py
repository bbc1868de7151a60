"""A call as turns: the caller's (rx) and the agent's (tx) words merged by time (pure).

    for turn in merge(store.get(call_id)):
        print(label(turn.speaker), turn.text)       # 市民 您好，我想投诉物业 ...

A turn is what one speaker said without the other speaking in between and without a
pause longer than ``pause_ms`` (1.2 s by default: longer, and it reads as a new turn).
Each turn keeps its words with their times in the leg, so a player can jump to any of
them. Chinese words are joined without spaces, other words with one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.recordings.leg import Leg
from hotline.transcripts.fulltext import is_cjk
from hotline.transcripts.transcript import Transcript, Word

__all__ = ["PAUSE_MS", "SPEAKERS", "Turn", "clock", "join_words", "label", "merge", "render"]

PAUSE_MS = 1200
SPEAKERS = {Leg.CALLER: "市民", Leg.AGENT: "坐席", Leg.MIXED: "通话"}
_ORDER = {Leg.CALLER: 0, Leg.AGENT: 1, Leg.MIXED: 2}


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Leg
    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...]


def label(speaker: Leg) -> str:
    return SPEAKERS[speaker]


def join_words(texts: Sequence[str], starts: list[int] | None = None) -> str:
    """The words as text: no space between two Chinese words, one between others. With
    STARTS, the offset of each word in the text is appended to it."""
    out: list[str] = []
    length = 0
    for text in texts:
        if out and text and out[-1] and not (is_cjk(out[-1][-1]) and is_cjk(text[0])):
            out.append(" ")
            length += 1
        if starts is not None:
            starts.append(length)
        out.append(text)
        length += len(text)
    return "".join(out)


def _turn(speaker: Leg, words: list[Word]) -> Turn:
    return Turn(
        speaker=speaker,
        start_ms=words[0].start_ms,
        end_ms=max(w.end_ms for w in words),
        text=join_words([w.text for w in words]),
        words=tuple(words),
    )


def merge(transcripts: Iterable[Transcript], *, pause_ms: int = PAUSE_MS) -> list[Turn]:
    """The legs' words as turns in time order. A leg with text but no word times is one
    turn over the whole leg."""
    timed: list[tuple[int, int, int, Leg, Word]] = []
    whole: list[Turn] = []
    for t in transcripts:
        words = [w for w in t.words if w.text.strip()]
        if not words and t.text.strip():
            whole.append(Turn(t.leg, 0, t.duration_ms, t.text.strip(), ()))
        for w in words:
            word = Word(w.text.strip(), w.start_ms, w.end_ms, w.confidence)
            timed.append((w.start_ms, w.end_ms, _ORDER[t.leg], t.leg, word))
    timed.sort(key=lambda x: x[:3])
    turns: list[Turn] = []
    speaker: Leg | None = None
    current: list[Word] = []
    end = 0
    for start, stop, _, leg, word in timed:
        if current and (leg is not speaker or start - end > pause_ms):
            turns.append(_turn(speaker or leg, current))
            current = []
        if not current:
            speaker, end = leg, stop
        current.append(word)
        end = max(end, stop)
    if current and speaker is not None:
        turns.append(_turn(speaker, current))
    return sorted(whole + turns, key=lambda t: (t.start_ms, _ORDER[t.speaker]))


def clock(ms: int) -> str:
    """A time in the leg as ``MM:SS.s`` (``01:03.2``)."""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes:02d}:{rest / 1000:04.1f}"


def render(turns: Iterable[Turn], *, times: bool = True) -> str:
    """One line per turn: ``市民 [00:03.2]: 您好 …`` (or without the time)."""
    lines = []
    for turn in turns:
        at = f" [{clock(turn.start_ms)}]" if times else ""
        lines.append(f"{label(turn.speaker)}{at}: {turn.text}")
    return "\n".join(lines) + ("\n" if lines else "")
