"""Finding phrases in what was said, tolerant of how it was written down (pure).

    m = Matcher.build(["不归我们管", "你自己去问"], regex=[r"不(归|是)我们(这边)?管"],
                      exceptions=["有没有办法"], gap=0)
    m.find("这个，不归我们管的。")     # [(3, 8)]: offsets in the text as given

Both the phrases and the text are *normalized* before they are compared, so a phrase
matches whatever punctuation, spaces, full-width forms or filler sounds the agent or the
speech engine put in between:

* Unicode NFKC (full-width ``１２３`` → ``123``) and lower case;
* every character that is not a letter or a digit is dropped (``，。！？、 …`` and spaces:
  Vosk writes Chinese words with spaces between them);
* filler sounds an engine writes down (啊 呃 嗯 额 哦 唉) are dropped;
* Chinese digits become ASCII digits (一/幺 → 1, 二 → 2, 〇/零 → 0, ...), so "12345能办什么事"
  matches "幺二三四五能办什么事" and "一二三四五能办什么事".

A ``regex`` is matched against the normalized text: write it without punctuation or spaces
and with ASCII digits. ``gap`` lets up to that many other characters sit between two
characters of a literal phrase ("没办法" with gap 1 matches "没有办法"). An ``exception`` is
a phrase whose occurrence cancels every match it overlaps: "没办法" inside "有没有办法" is a
question, not a refusal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FILLERS", "Matcher", "PatternError", "normalize"]

FILLERS = frozenset("啊呃嗯额哦唉")
_DIGITS = str.maketrans("〇零一幺二三四五六七八九", "001123456789")


class PatternError(ValueError):
    """A regex that does not compile; the text says which and why."""


def normalize(text: str) -> tuple[str, list[int]]:
    """TEXT normalized, and for each of its characters the offset in TEXT it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if not c.isalnum() or c in FILLERS:
                continue
            out.append(c.translate(_DIGITS))
            where.append(i)
    return "".join(out), where


def _literal(phrase: str, gap: int) -> str | None:
    norm, _ = normalize(phrase)
    if not norm:
        return None
    if gap <= 0:
        return re.escape(norm)
    return f".{{0,{gap}}}?".join(re.escape(c) for c in norm)


@dataclass(frozen=True, slots=True)
class Matcher:
    """Compiled phrases; ``find`` gives the spans of TEXT they match."""

    pattern: re.Pattern[str] | None
    exceptions: re.Pattern[str] | None

    @classmethod
    def build(
        cls,
        phrases: Sequence[str] = (),
        *,
        regex: Sequence[str] = (),
        exceptions: Sequence[str] = (),
        gap: int = 0,
    ) -> Matcher:
        """A matcher of any of PHRASES (literal, normalized) or REGEX (over the normalized
        text); :class:`PatternError` for a regex that does not compile."""
        parts = [p for p in (_literal(x, gap) for x in phrases) if p]
        for rx in regex:
            try:
                re.compile(rx)
            except re.error as exc:
                raise PatternError(f"{rx!r} is not a regular expression: {exc}") from None
            parts.append(f"(?:{rx})")
        unless = [p for p in (_literal(x, 0) for x in exceptions) if p]
        return cls(
            re.compile("|".join(parts)) if parts else None,
            re.compile("|".join(unless)) if unless else None,
        )

    def find(self, text: str) -> list[tuple[int, int]]:
        """Spans (start, end) of TEXT as given where a phrase was said, left to right."""
        if self.pattern is None:
            return []
        norm, where = normalize(text)
        cancelled = [m.span() for m in self.exceptions.finditer(norm)] if self.exceptions else []
        spans: list[tuple[int, int]] = []
        at = 0
        while at <= len(norm):
            m = self.pattern.search(norm, at)
            if m is None:
                break
            start, end = m.span()
            if end == start:  # a regex that matches nothing: step on
                at = start + 1
                continue
            at = end
            if any(s < end and start < e for s, e in cancelled):
                continue
            spans.append((where[start], where[end - 1] + 1))
        return spans

    def __bool__(self) -> bool:
        return self.pattern is not None
