"""What of an order is searched (pure): its category, place and content, the departments'
replies and the evidence of their 办结 requests, each a field of its own.

    parts(order, timeline)   # (Part("category", "绿化"), Part("content", "树枝压电线"), ...)
    searchable(parts(...))   # the text the index holds: the fields apart

The fields are joined by :data:`SEPARATOR`, punctuation, which breaks a run of Chinese
(:mod:`hotline.transcripts.fulltext`): a search never matches across two fields
(``绿化`` then ``树枝`` do not make ``化树``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.orders.model import Action, Entry, Order

__all__ = ["FIELDS", "SEPARATOR", "Part", "parts", "searchable"]

FIELDS = ("category", "place", "content", "reply", "evidence")
SEPARATOR = "\n|\n"
_OF_ENTRY = {Action.REPLY: "reply", Action.CLOSE_ON_SPOT: "reply", Action.FINISH: "evidence"}


@dataclass(frozen=True, slots=True)
class Part:
    field: str  # one of FIELDS
    text: str


def parts(order: Order, timeline: Sequence[Entry]) -> tuple[Part, ...]:
    """ORDER's searched fields, those with text: its facts, then each reply and each
    evidence (with its attachments' names) in the order written."""
    out = [Part("category", order.category), Part("place", order.place),
           Part("content", order.content)]  # fmt: skip
    for e in timeline:
        field = _OF_ENTRY.get(e.action)
        if field is not None:
            out.append(Part(field, " ".join((e.text, *e.attachments)).strip()))
    return tuple(p for p in out if p.text.strip())


def searchable(found: Iterable[Part]) -> str:
    """The text the index holds for these fields."""
    return SEPARATOR.join(p.text for p in found)
