"""The SQL half of transcript search: filters joined to the history's calls, hits with
snippets, highlight marks and the time of the first matching word.

Used through :meth:`hotline.stores.transcripts.TranscriptStore.search`. A snippet is raw
text: show it through :meth:`Hit.masked` (it masks the personal numbers found in the whole
transcript, even where the snippet cuts them, and moves the marks along), unless the
viewer may see them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hotline.recordings.leg import Leg
from hotline.stores import search_plan
from hotline.stores.dialect import Connection
from hotline.stores.search_plan import SearchFilters
from hotline.transcripts import redact
from hotline.transcripts.fulltext import Query, QueryError, parse_query
from hotline.transcripts.redact import Pii, PiiKind

__all__ = [
    "COUNT_CAP", "Hit", "SearchFilters", "Snip", "Total", "count_hits", "find_hits", "snip",
    "total_hits",
]  # fmt: skip

MAX_LIMIT = 1000
COUNT_CAP = 10_000  # a search's total is exact up to here, else "10,000+"
BEFORE, AFTER = 20, 60  # characters of context around the first match
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Hit:
    call_id: str
    leg: Leg
    snippet: str  # raw (unmasked): show masked() unless the role may see it
    marks: tuple[tuple[int, int], ...]  # (start, end) offsets into snippet to highlight
    start_ms: int | None  # time in the leg of the first matching word (to jump the player)
    t_q: int | None
    queue: str  # the call's first queue ('' when the call is not in the history)
    agent: str
    caller: str
    pii: tuple[Pii, ...] = ()  # personal numbers in snippet (offsets into it)
    t_arrival: int | None = None

    def masked(self, kinds: Iterable[PiiKind] = redact.ALL) -> Hit:
        """This hit with the personal numbers of KINDS masked in the snippet, its marks
        moved to match, the others left in ``pii``. The caller number stays: mask it
        with :func:`hotline.transcripts.redact.mask_phone` where shown."""
        chosen = set(kinds)
        snippet, marks = redact.mask_spans(
            self.snippet, [p for p in self.pii if p.kind in chosen], self.marks
        )
        # masking changes lengths (an English digit word becomes one "*"): re-find the rest
        rest = tuple(p for p in redact.find(snippet) if p.kind not in chosen)
        return replace(self, snippet=snippet, marks=marks, pii=rest)


def find_hits(
    conn: Connection, query: str, filters: SearchFilters, *, limit: int, offset: int
) -> list[Hit]:
    if not 0 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit {limit}: use 0 to {MAX_LIMIT}")
    if offset < 0:
        raise QueryError(f"offset {offset}: use 0 or more")
    q = parse_query(query)
    how = search_plan.plan(conn, q, filters, wanted=offset + limit)
    if how is None or limit == 0:
        return []
    ids = [r[0] for r in conn.execute(how.rowids(), [*how.args, limit, offset])]
    if not ids:
        return []
    calls = search_plan.has_calls(conn)
    sql = f"SELECT {_COLUMNS if calls else _NO_CALLS} FROM transcripts t "
    if calls:
        sql += "LEFT JOIN calls c ON c.call_id = t.call_id "
    marks = ",".join("?" * len(ids))
    rows = {r[0]: r[1:] for r in conn.execute(sql + f"WHERE t.rowid IN ({marks})", ids)}
    return [_hit(q, rows[i]) for i in ids if i in rows]


_COLUMNS = (
    "t.rowid, t.call_id, t.leg, t.text, t.words, c.t_q, c.first_queue, c.agent, c.caller, "
    "c.t_arrival"
)
_NO_CALLS = "t.rowid, t.call_id, t.leg, t.text, t.words, NULL, '', '', '', NULL"


def count_hits(conn: Connection, query: str, filters: SearchFilters) -> int:
    how = search_plan.plan(conn, parse_query(query), filters, wanted=None)
    if how is None:
        return 0
    return int(conn.execute(how.count(), how.args).fetchone()[0])


@dataclass(frozen=True, slots=True)
class Total:
    """A search's total: exact (``more`` False), or at least ``n`` (the count stopped at
    its cap: shown as "10,000+")."""

    n: int
    more: bool = False

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"a total of {self.n}")

    def __str__(self) -> str:
        return f"{self.n:,}+" if self.more else f"{self.n:,}"


def total_hits(conn: Connection, query: str, filters: SearchFilters, *, cap: int) -> Total:
    """How many :func:`find_hits` would find, counted up to CAP (≥ 1): the count stops at
    the cap's row, so a common term costs about CAP rows, not every match (a full count
    of 的 visits every transcript: seconds at 1 M legs on PostgreSQL)."""
    if cap < 1:
        raise QueryError(f"count cap {cap}: use 1 or more")
    how = search_plan.plan(conn, parse_query(query), filters, wanted=None)
    if how is None:
        return Total(0)
    sql = f"SELECT count(*) FROM (SELECT 1 {how.sql} LIMIT ?) AS capped"
    n = int(conn.execute(sql, [*how.args, cap + 1]).fetchone()[0])
    return Total(cap, more=True) if n > cap else Total(n)


@dataclass(frozen=True, slots=True)
class Snip:
    """A window of a text around its first match: raw, with the matches' marks and the
    personal numbers inside it (offsets into ``snippet``)."""

    snippet: str
    marks: tuple[tuple[int, int], ...]
    pii: tuple[Pii, ...]
    first: int | None  # the offset in the whole text where the first match starts


def snip(q: Query, text: str) -> Snip:
    """TEXT's snippet for Q (20 characters before the first match, 60 after, ``…`` where
    cut), never cutting a personal number (found on the whole text) in half."""
    spans = q.spans(text)
    pii = redact.find(text)
    if spans:
        first = spans[0]
        start, end = max(0, first[0] - BEFORE), min(len(text), first[1] + AFTER)
    else:
        start, end = 0, min(len(text), BEFORE + AFTER)
    for p in pii:  # never cut a number: masking a part of it could leave digits readable
        if p.start < start < p.end:
            start = p.start
        if p.start < end < p.end:
            end = p.end
    lead = ELLIPSIS if start > 0 else ""
    shift = len(lead) - start
    snippet = lead + text[start:end] + (ELLIPSIS if end < len(text) else "")
    marks = tuple(
        (max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end and b > start
    )
    inside = tuple(
        Pii(p.kind, p.start + shift, p.end + shift)
        for p in pii
        if p.start >= start and p.end <= end
    )
    return Snip(snippet, marks, inside, spans[0][0] if spans else None)


def _hit(q: Query, row: tuple[Any, ...]) -> Hit:
    call_id, leg, text, words, t_q, queue, agent, caller, t_arrival = row
    s = snip(q, text)
    return Hit(
        call_id=call_id,
        leg=Leg(leg),
        snippet=s.snippet,
        marks=s.marks,
        start_ms=_start_ms(text, json.loads(words), s.first) if s.first is not None else None,
        t_q=t_q,
        queue=queue or "",
        agent=agent or "",
        caller=caller or "",
        pii=s.pii,
        t_arrival=t_arrival,
    )


def _start_ms(text: str, words: list[list[Any]], at: int) -> int | None:
    """The start of the word at offset AT of TEXT (the words found in TEXT in order)."""
    best: int | None = None
    pos = 0
    for w in words:
        word, start_ms = str(w[0]).strip(), w[1]
        if not word:
            continue
        found = text.find(word, pos)
        if found < 0:
            continue
        if found > at:
            return best if best is not None else int(start_ms)
        best = int(start_ms)
        pos = found + len(word)
    return best
