"""Automatic flags over a call's turns, each with its evidence (pure).

    flags = flag(turns, center.qa.flags)       # turns: QaTurn(turn, energy_db)
    for f in flags:
        print(f.rule.value, f.item, f.evidence.speaker, f.evidence.start_ms, f.evidence.text)

The rules (each can be switched off and tuned in center.yaml, ``qa: flags:``):

``forbidden_phrase``
    the agent said a phrase of a group (推诿 "不归我们管", 态度 "12345能办什么事", ...),
    matched the tolerant way of :mod:`hotline.qa.text`; one flag per occurrence, ``item``
    is the group.
``greeting_missing``
    no agent turn that starts within ``within_seconds`` of the first word of the call says
    a greeting phrase ("您好").
``closing_missing``
    no agent turn that ends within ``within_seconds`` of the end of the call says a closing
    phrase ("感谢您的来电", "再见").
``talk_over``
    the agent started talking while the citizen was speaking and both went on together for
    at least ``min_overlap_seconds`` (a citizen who interrupts the agent is not flagged).
``long_silence``
    nobody spoke for at least ``min_gap_seconds`` between two turns (a hold, a silence).
``repeat_caller``
    the citizen said they had called before (打了好几次, 打了三次, 又打来, 第二次打).
``raised_voice``
    an agent turn at least ``above_median_db`` louder than the agent's median turn in the
    call; only for turns that carry an energy figure, and only with ``min_turns`` of them.

Times are milliseconds from the start of the call (the legs' common clock).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from hotline.qa.text import Matcher
from hotline.recordings.leg import Leg
from hotline.transcripts.turns import Turn, join_words

__all__ = [
    "Evidence",
    "Flag",
    "FlagConfig",
    "PhraseGroup",
    "QaTurn",
    "RuleId",
    "flag",
]


class RuleId(Enum):
    FORBIDDEN_PHRASE = "forbidden_phrase"
    GREETING_MISSING = "greeting_missing"
    CLOSING_MISSING = "closing_missing"
    TALK_OVER = "talk_over"
    LONG_SILENCE = "long_silence"
    REPEAT_CALLER = "repeat_caller"
    RAISED_VOICE = "raised_voice"


@dataclass(frozen=True, slots=True)
class QaTurn:
    """A turn of the call (:class:`hotline.transcripts.turns.Turn`) and, when the audio was
    measured, its loudness (dBFS, or any dB scale used for the whole call)."""

    turn: Turn
    energy_db: float | None = None

    @property
    def speaker(self) -> Leg:
        return self.turn.speaker


@dataclass(frozen=True, slots=True)
class PhraseGroup:
    """One group of the ``forbidden_phrase`` rule: its label and its matcher."""

    name: str
    label: str
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class FlagConfig:
    """Every rule's settings; ``enabled`` holds the rules that run."""

    enabled: frozenset[RuleId] = frozenset(RuleId)
    groups: tuple[PhraseGroup, ...] = ()
    greeting_ms: int = 10_000
    greeting: Matcher = field(default_factory=lambda: Matcher.build())
    closing_ms: int = 30_000
    closing: Matcher = field(default_factory=lambda: Matcher.build())
    overlap_ms: int = 1_500
    silence_ms: int = 15_000
    repeat: Matcher = field(default_factory=lambda: Matcher.build())
    raised_db: float = 8.0
    raised_min_turns: int = 3


@dataclass(frozen=True, slots=True)
class Evidence:
    """What shows the flag: who said what, when (ms in the call). ``speaker`` is None for
    what nobody said (a silence, a greeting that never came)."""

    speaker: Leg | None
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True, slots=True)
class Flag:
    rule: RuleId
    evidence: Evidence
    item: str = ""  # the phrase group of a forbidden_phrase
    detail: str = ""  # a figure in words: "overlap 2.3 s", "+9.5 dB over the median"

    def doc(self) -> dict[str, object]:
        """As JSON: times in seconds, the speaker as caller|agent."""
        e = self.evidence
        return {
            "rule": self.rule.value,
            "item": self.item,
            "speaker": _SPEAKER.get(e.speaker, None) if e.speaker else None,
            "start": e.start_ms / 1000,
            "end": e.end_ms / 1000,
            "text": e.text,
            "detail": self.detail,
        }


_SPEAKER: Mapping[Leg, str] = {Leg.CALLER: "caller", Leg.AGENT: "agent", Leg.MIXED: "mixed"}


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.1f} s"


def _span(turn: Turn, start: int, end: int) -> Evidence:
    """The evidence of characters START..END of TURN's text: those words and their times
    when the turn has word times, the turn's times otherwise."""
    text = turn.text[start:end]
    if not turn.words:
        return Evidence(turn.speaker, turn.start_ms, turn.end_ms, text)
    starts: list[int] = []
    join_words([w.text for w in turn.words], starts)
    inside = [
        w for w, at in zip(turn.words, starts, strict=True) if at < end and start < at + len(w.text)
    ]
    if not inside:
        return Evidence(turn.speaker, turn.start_ms, turn.end_ms, text)
    return Evidence(turn.speaker, inside[0].start_ms, max(w.end_ms for w in inside), text)


def _whole(turn: Turn) -> Evidence:
    return Evidence(turn.speaker, turn.start_ms, turn.end_ms, turn.text)


def _phrases(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    out = []
    for t in turns:
        if t.speaker is not Leg.AGENT:
            continue
        for group in cfg.groups:
            for start, end in group.matcher.find(t.turn.text):
                out.append(Flag(RuleId.FORBIDDEN_PHRASE, _span(t.turn, start, end), group.name))
    return out


def _greeting(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    if not turns:
        return []
    t0 = min(t.turn.start_ms for t in turns)
    early = [t for t in turns if t.speaker is Leg.AGENT and t.turn.start_ms - t0 <= cfg.greeting_ms]
    if any(cfg.greeting.find(t.turn.text) for t in early):
        return []
    if early:
        evidence = _whole(early[0].turn)
        detail = "the agent's first words have no greeting"
    else:
        evidence = Evidence(None, t0, t0 + cfg.greeting_ms, "")
        detail = f"the agent said nothing in the first {_seconds(cfg.greeting_ms)}"
    return [Flag(RuleId.GREETING_MISSING, evidence, detail=detail)]


def _closing(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    if not turns:
        return []
    t1 = max(t.turn.end_ms for t in turns)
    late = [t for t in turns if t.speaker is Leg.AGENT and t1 - t.turn.end_ms <= cfg.closing_ms]
    if any(cfg.closing.find(t.turn.text) for t in late):
        return []
    if late:
        evidence = _whole(late[-1].turn)
        detail = "the agent's last words have no closing"
    else:
        evidence = Evidence(None, max(0, t1 - cfg.closing_ms), t1, "")
        detail = f"the agent said nothing in the last {_seconds(cfg.closing_ms)}"
    return [Flag(RuleId.CLOSING_MISSING, evidence, detail=detail)]


def _talk_over(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    out = []
    callers = [t.turn for t in turns if t.speaker is Leg.CALLER]
    for t in turns:
        if t.speaker is not Leg.AGENT:
            continue
        a = t.turn
        for c in callers:
            if not c.start_ms < a.start_ms < c.end_ms:
                continue  # the agent did not start while this citizen's turn went on
            overlap = min(a.end_ms, c.end_ms) - a.start_ms
            if overlap >= cfg.overlap_ms:
                evidence = Evidence(Leg.AGENT, a.start_ms, min(a.end_ms, c.end_ms), a.text)
                detail = f"overlap {_seconds(overlap)} while the citizen said: {c.text}"
                out.append(Flag(RuleId.TALK_OVER, evidence, detail=detail))
                break
    return out


def _silences(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    out = []
    ordered = sorted(turns, key=lambda t: t.turn.start_ms)
    if not ordered:
        return []
    reach = ordered[0].turn.end_ms
    for t in ordered[1:]:
        gap = t.turn.start_ms - reach
        if gap >= cfg.silence_ms:
            after = _SPEAKER[t.speaker]
            detail = f"{_seconds(gap)} of silence, then the {after} spoke"
            evidence = Evidence(None, reach, t.turn.start_ms, "")
            out.append(Flag(RuleId.LONG_SILENCE, evidence, detail=detail))
        reach = max(reach, t.turn.end_ms)
    return out


def _repeat(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    out = []
    for t in turns:
        if t.speaker is not Leg.CALLER:
            continue
        spans = cfg.repeat.find(t.turn.text)
        if spans:
            start, end = spans[0]
            out.append(Flag(RuleId.REPEAT_CALLER, _span(t.turn, start, end)))
    return out


def _raised(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    measured = [t for t in turns if t.speaker is Leg.AGENT and t.energy_db is not None]
    if len(measured) < cfg.raised_min_turns:
        return []
    median = statistics.median(t.energy_db for t in measured if t.energy_db is not None)
    out = []
    for t in measured:
        assert t.energy_db is not None
        above = t.energy_db - median
        if above >= cfg.raised_db:
            detail = f"+{above:.1f} dB over the agent's median turn ({median:.1f} dB)"
            out.append(Flag(RuleId.RAISED_VOICE, _whole(t.turn), detail=detail))
    return out


_RULES = {
    RuleId.FORBIDDEN_PHRASE: _phrases,
    RuleId.GREETING_MISSING: _greeting,
    RuleId.CLOSING_MISSING: _closing,
    RuleId.TALK_OVER: _talk_over,
    RuleId.LONG_SILENCE: _silences,
    RuleId.REPEAT_CALLER: _repeat,
    RuleId.RAISED_VOICE: _raised,
}


def flag(turns: Sequence[QaTurn], cfg: FlagConfig) -> list[Flag]:
    """Every flag the enabled rules raise over TURNS, in the order of their evidence."""
    out: list[Flag] = []
    for rule, check in _RULES.items():
        if rule in cfg.enabled:
            out.extend(check(turns, cfg))
    order = list(RuleId)
    return sorted(out, key=lambda f: (f.evidence.start_ms, order.index(f.rule), f.item))
