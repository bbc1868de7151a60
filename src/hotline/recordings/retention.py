"""How long recordings and transcripts are kept, and which are due for disposal (pure).

Configured in center.yaml (``retention:``), by the call's category: the tag of
what the caller chose in the IVR (complaint, inquiry, unpaid-wages, ...)::

    retention:
      default_days: 180
      categories: {complaint: 730, unpaid-wages: 730}

    policy = center.retention
    due, held = plan(policy, store.kept(), store.held(), now=now_ms)

A call's clock starts when it ended (its arrival, first queue entry, cataloguing or
transcription when the history lacks the end). It is due once ``days`` have passed;
a call on legal hold is never due, whatever its age.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.core.localtime import DAY_MS
from hotline.core.reader import Fail, Reader

__all__ = ["DAY_MS", "Due", "Kept", "RetentionPolicy", "load_retention", "plan"]


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    default_days: int = 180
    categories: Mapping[str, int] = field(default_factory=dict)

    def days(self, category: str) -> int:
        return self.categories.get(category, self.default_days)


@dataclass(frozen=True, slots=True)
class Kept:
    """What is still kept of one call."""

    call_id: str
    category: str  # the call's tag ('' when unknown)
    t_ref: int  # epoch ms the retention clock started
    files: tuple[str, ...]  # recorded legs not disposed yet
    transcripts: int  # transcribed legs


@dataclass(frozen=True, slots=True)
class Due:
    kept: Kept
    days: int
    expires: int  # epoch ms: t_ref + days

    @property
    def call_id(self) -> str:
        return self.kept.call_id

    def reason(self) -> str:
        category = self.kept.category or "uncategorised"
        return f"retention: {category} calls are kept {self.days} days"


def load_retention(raw: Any, fail: Fail) -> RetentionPolicy:
    """The ``retention:`` section (None: keep 180 days); problems go to ``fail``, read the
    way the whole file is (:class:`hotline.core.reader.Reader`)."""
    r = Reader(fail)
    section = r.section("retention", raw, {"default_days", "categories"})
    default = RetentionPolicy().default_days
    days = r.get("retention", section, "default_days", int, default)
    if r.number("retention.default_days", days, 1) and days is not None:
        default = days
    categories: dict[str, int] = {}
    specs = r.section("retention.categories", section.get("categories"))
    for name in specs:
        days = r.get("retention.categories", specs, name, int)
        if r.number(f"retention.categories.{name}", days, 1) and days is not None:
            categories[name] = days
    return RetentionPolicy(default, categories)


def plan(
    policy: RetentionPolicy, kept: Iterable[Kept], held: Collection[str], now: int
) -> tuple[list[Due], list[Due]]:
    """(due for disposal, due but on legal hold), each oldest expiry first."""
    due: list[Due] = []
    on_hold: list[Due] = []
    for k in kept:
        days = policy.days(k.category)
        item = Due(k, days, k.t_ref + days * DAY_MS)
        if item.expires <= now:
            (on_hold if k.call_id in held else due).append(item)
    key: Callable[[Due], tuple[int, str]] = lambda d: (d.expires, d.call_id)  # noqa: E731
    return sorted(due, key=key), sorted(on_hold, key=key)
