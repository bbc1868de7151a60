"""Answers and their versions (pure values).

An answer's content is what an agent reads to a citizen: its category (the matter, as the
work orders name it: 欠薪, 物业, 供水 ...), a title, the text, tags, what it serves (IVR
tags such as ``unpaid-wages`` or IVR path prefixes such as ``main:2>labour``) and the
period it is valid in. Nothing is overwritten: every edit is a new :class:`Version` with
who made it, when, and a summary of what changed (:func:`summary`). The current content is
the latest version's.

    c = check(Content("欠薪", "农民工欠薪怎么办", "可向劳动保障监察投诉……", tags=("欠薪",)))
    v1 = Version(answer=7, n=1, content=c, user="banzhang01", t=now, change=summary(None, c))
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from hotline.kb.errors import KbError
from hotline.orders.duplicates import similarity

__all__ = [
    "EDIT_ROLES",
    "MAX_TEXT",
    "USE_ROLES",
    "Answer",
    "Content",
    "Version",
    "check",
    "material",
    "summary",
]

MAX_TITLE, MAX_TEXT, MAX_TAG, MAX_TAGS = 200, 20_000, 40, 32
SHOWN_CHANGES = 3  # the text changes quoted in a summary

EDIT_ROLES = frozenset({"admin", "supervisor"})
"""The web roles (``hotline users``) that may add and edit answers."""
USE_ROLES = frozenset({"agent", "supervisor"})
"""The web roles that may link an answer they gave to a call or an order."""


@dataclass(frozen=True, slots=True)
class Content:
    category: str
    title: str
    text: str
    tags: tuple[str, ...] = ()
    serves: tuple[str, ...] = ()  # IVR tags (unpaid-wages) or IVR path prefixes (main:2>…)
    valid_from: int | None = None  # epoch ms; None: always
    valid_until: int | None = None  # epoch ms, exclusive; None: no end

    def valid_at(self, t: int) -> bool:
        return (self.valid_from is None or self.valid_from <= t) and (
            self.valid_until is None or t < self.valid_until
        )

    def searchable(self) -> str:
        """What search finds the answer by. The fields are apart by ``|`` (punctuation
        breaks a run of Chinese, so no match spans a title and a text)."""
        return " | ".join([self.category, self.title, " ".join(self.tags), self.text])


@dataclass(frozen=True, slots=True)
class Version:
    answer: int
    n: int  # 1, 2, ...
    content: Content
    user: str
    t: int
    change: str  # what changed from the version before (summary())


@dataclass(frozen=True, slots=True)
class Answer:
    id: int
    versions: tuple[Version, ...]  # oldest first, never empty

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def content(self) -> Content:
        return self.versions[-1].content

    def version(self, n: int) -> Version:
        for v in self.versions:
            if v.n == n:
                return v
        raise KbError(f"answer {self.id} has no version {n} (it has 1 to {self.current.n})")


_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _tags(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values:
        tag = raw.strip()
        if not tag:
            raise KbError(f"an empty {what}")
        if len(tag) > MAX_TAG * 4 or (what == "tag" and len(tag) > MAX_TAG):
            raise KbError(f"{what} {tag[:20]!r}…: too long")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise KbError(f"{len(out)} {what}s: at most {MAX_TAGS}")
    return tuple(out)


def check(c: Content) -> Content:
    """C tidied (spaces trimmed, tags once each) or a :class:`KbError` saying what is wrong."""
    category, title = _clean(c.category), _clean(c.title)
    text = "\n".join(line.rstrip() for line in c.text.strip().splitlines())
    if not category:
        raise KbError("an answer needs a category (--category 欠薪)")
    if len(category) > MAX_TAG:
        raise KbError(f"category {category[:20]!r}…: at most {MAX_TAG} characters")
    if not title:
        raise KbError("an answer needs a title (--title)")
    if len(title) > MAX_TITLE:
        raise KbError(f"the title has {len(title)} characters: at most {MAX_TITLE}")
    if not text:
        raise KbError("an answer needs a text (--text)")
    if len(text) > MAX_TEXT:
        raise KbError(f"the text has {len(text)} characters: at most {MAX_TEXT}")
    if c.valid_from is not None and c.valid_until is not None and c.valid_until <= c.valid_from:
        raise KbError("valid until must come after valid from")
    tags, serves = _tags(c.tags, "tag"), _tags(c.serves, "IVR path or tag")
    return replace(c, category=category, title=title, text=text, tags=tags, serves=serves)


def _quote(s: str, width: int = 24) -> str:
    s = s.replace("\n", "⏎")
    return "“" + (s if len(s) <= width else s[: width - 1] + "…") + "”"


def _text_change(old: str, new: str) -> str:
    m = difflib.SequenceMatcher(None, old, new, autojunk=False)
    added = removed = 0
    shown: list[str] = []
    for op, a0, a1, b0, b1 in m.get_opcodes():
        if op == "equal":
            continue
        removed += a1 - a0
        added += b1 - b0
        parts = []
        if a1 > a0:
            parts.append("−" + _quote(old[a0:a1]))
        if b1 > b0:
            parts.append("+" + _quote(new[b0:b1]))
        shown.append(" ".join(parts))
    places = len(shown)
    where = "1 place" if places == 1 else f"{places} places"
    more = " · …" if places > SHOWN_CHANGES else ""
    return (f"text: +{added} −{removed} characters in {where}: "
            + " · ".join(shown[:SHOWN_CHANGES]) + more)  # fmt: skip


def _set_change(name: str, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    plus = [f"+{t}" for t in new if t not in old]
    minus = [f"−{t}" for t in old if t not in new]
    return f"{name}: " + " ".join(plus + minus)


def summary(old: Content | None, new: Content) -> str:
    """What changed from OLD to NEW, for people: ``text: +5 −2 characters in 1 place:
    −“30日” +“15个工作日”; tags: +社保`` (the first three changes quoted). OLD None: a new
    answer. Nothing changed: ``""``."""
    if old is None:
        return "new answer"
    parts: list[str] = []
    if old.category != new.category:
        parts.append(f"category: {old.category} → {new.category}")
    if old.title != new.title:
        parts.append(f"title: {_quote(old.title)} → {_quote(new.title)}")
    if old.text != new.text:
        parts.append(_text_change(old.text, new.text))
    if old.tags != new.tags:
        parts.append(_set_change("tags", old.tags, new.tags))
    if old.serves != new.serves:
        parts.append(_set_change("serves", old.serves, new.serves))
    if (old.valid_from, old.valid_until) != (new.valid_from, new.valid_until):
        parts.append("validity changed")
    return "; ".join(parts)


# Chinese numerals only before a unit: 一般, 任一 are no numbers; 一年, 五个工作日 are
_NUMBER = re.compile(
    r"[0-9]+(?:\.[0-9]+)?|[〇零一二两三四五六七八九十百千万亿]+(?=[个日天年月元块小时分周次岁倍号点%])"
)
_NEGATIONS = ("不", "没", "无", "未", "非", "禁止", "不得", "不能", "不可", "不予", "无需", "无须")
MATERIAL_SIMILARITY = 0.8


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _negations(text: str) -> list[int]:
    return [text.count(w) for w in _NEGATIONS]


def material(old: str, new: str) -> str:
    """Why the text NEW says something else than OLD (``""``: the same in substance).

    Material: a number differs (a deadline, an amount, a telephone number: ``30日`` →
    ``15个工作日``), a negation appears or goes (可以 → 不可以), or less than 80 % of the
    character pairs are shared. Punctuation, spacing and a few words reworded are not."""
    if _numbers(old) != _numbers(new):
        return (
            f"numbers changed: {' '.join(_numbers(old)) or '-'} → {' '.join(_numbers(new)) or '-'}"
        )
    if _negations(old) != _negations(new):
        return "a negation added or removed"
    alike = similarity(old, new) if old and new else float(old == new)
    if alike < MATERIAL_SIMILARITY:
        return f"reworded: {alike:.0%} alike"
    return ""
