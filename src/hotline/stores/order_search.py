"""Orders and their linked calls' transcripts searched together, with the transcripts'
Chinese search (:mod:`hotline.transcripts.fulltext`: literal text, a substring of any
length, every term must match), on SQLite and PostgreSQL.

    found = OrderSearch(OrderStore.open(db), TranscriptStore.open(db))
    found.count("树枝 电线")                  # (orders, transcripts) matching
    found.search("树枝", limit=20, offset=0)  # [OrderHit, ...]: orders first, then calls

An order's text is its fields (:mod:`hotline.orders.text`: category, place, content,
replies, evidence) in ``order_text``, indexed like the transcripts: on SQLite the FTS5
table ``order_index`` kept by triggers calling ``hotline_grams()``, on PostgreSQL its
grams under GIN and its folded text (:func:`hotline.stores.pg_search.text_where`). A
linked call's transcripts are found by :meth:`TranscriptStore.search
<hotline.stores.transcripts.TranscriptStore.search>` restricted to the calls linked to any
order (``order_calls``; :attr:`SearchFilters.calls
<hotline.stores.search_plan.SearchFilters.calls>`). Each hit says which it is: the
order's text (and which field) or a linked call's transcript (and which leg). Snippets are
raw: show :meth:`OrderHit.masked` unless the viewer may unmask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from hotline.orders.machine import replay
from hotline.orders.text import parts
from hotline.stores.dialect import Dialect
from hotline.stores.orders import OrderStore
from hotline.stores.pg_search import text_where
from hotline.stores.search_plan import SearchFilters
from hotline.stores.transcript_search import MAX_LIMIT, Hit, snip
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts import redact
from hotline.transcripts.fulltext import Query, QueryError, parse_query
from hotline.transcripts.redact import Pii, PiiKind

__all__ = ["OrderHit", "OrderSearch", "Source"]


class Source(StrEnum):
    ORDER = "order"  # the order's own text
    TRANSCRIPT = "transcript"  # a transcript of a call linked to the order


@dataclass(frozen=True, slots=True)
class OrderHit:
    orders: tuple[str, ...]  # the order found; for a transcript, every order of its call
    source: Source
    field: str  # ORDER: category, place, content, reply, evidence; TRANSCRIPT: the leg
    snippet: str  # raw: show masked() unless the viewer may unmask
    marks: tuple[tuple[int, int], ...]
    pii: tuple[Pii, ...] = ()
    call: Hit | None = None  # TRANSCRIPT: the transcript's hit (call, leg, time, caller)

    def masked(self, kinds: Iterable[PiiKind] = redact.ALL) -> OrderHit:
        """This hit with the personal numbers of KINDS masked (its call's too)."""
        chosen = set(kinds)
        snippet, marks = redact.mask_spans(
            self.snippet, [p for p in self.pii if p.kind in chosen], self.marks
        )
        rest = tuple(p for p in redact.find(snippet) if p.kind not in chosen)
        call = self.call.masked(chosen) if self.call is not None else None
        return replace(self, snippet=snippet, marks=marks, pii=rest, call=call)


@dataclass
class OrderSearch:
    orders: OrderStore
    transcripts: TranscriptStore

    def _from(self, q: Query) -> tuple[str, list[object]]:
        """FROM ... [WHERE ...]: the orders whose text matches Q (``o``: the order)."""
        sql = "FROM order_text x JOIN orders o ON o.id = x.order_id"
        if q.blank:
            return sql, []
        if self.orders.dialect is Dialect.POSTGRESQL:
            where, args = text_where(q, "x")
            return sql + " WHERE " + " AND ".join(where), args
        return sql + " JOIN order_index i ON i.rowid = x.id WHERE order_index MATCH ?", [q.fts()]

    def linked(self) -> dict[str, tuple[str, ...]]:
        """Every call linked to an order: its orders, oldest first."""
        with self.orders._lock:
            rows = self.orders.connection.execute(
                "SELECT c.call_id, c.order_id FROM order_calls c JOIN orders o "
                "ON o.id = c.order_id ORDER BY o.t_created, o.id"
            ).fetchall()
        out: dict[str, tuple[str, ...]] = {}
        for call_id, order_id in rows:
            out[str(call_id)] = (*out.get(str(call_id), ()), str(order_id))
        return out

    def count(self, query: str) -> tuple[int, int]:
        """How many orders, and how many transcripts of linked calls, match QUERY."""
        q = parse_query(query)
        if q.matches_nothing:
            return 0, 0
        sql, args = self._from(q)
        with self.orders._lock:
            orders = int(self.orders.connection.execute(f"SELECT count(*) {sql}", args)
                         .fetchone()[0])  # fmt: skip
        calls = tuple(self.linked())
        return orders, self.transcripts.search_count(query, SearchFilters(calls=calls))

    def search(self, query: str, *, limit: int = 50, offset: int = 0) -> list[OrderHit]:
        """Hits for QUERY: the matching orders newest first, then the matching transcripts
        of linked calls newest first; LIMIT of them from OFFSET (:class:`QueryError`: a
        query, limit or offset that cannot be searched)."""
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            raise QueryError(f"limit {limit}, offset {offset}: use 0 to {MAX_LIMIT}, 0 or more")
        q = parse_query(query)
        if q.matches_nothing or limit == 0:
            return []
        sql, args = self._from(q)
        with self.orders._lock:
            ids = [str(r[0]) for r in self.orders.connection.execute(
                f"SELECT o.id {sql} ORDER BY o.t_created DESC, o.id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()]  # fmt: skip
            total = int(self.orders.connection.execute(f"SELECT count(*) {sql}", args)
                        .fetchone()[0])  # fmt: skip
        hits = [self._order_hit(q, order_id) for order_id in ids]
        if len(hits) < limit:
            linked = self.linked()
            calls = self.transcripts.search(
                query, SearchFilters(calls=tuple(linked)), limit=limit - len(hits),
                offset=max(0, offset - total),
            )  # fmt: skip
            hits += [OrderHit(linked.get(h.call_id, ()), Source.TRANSCRIPT, h.leg.value,
                              h.snippet, h.marks, h.pii, h) for h in calls]  # fmt: skip
        return hits

    def _order_hit(self, q: Query, order_id: str) -> OrderHit:
        timeline = self.orders.timeline(order_id)
        fields = parts(replay(timeline), timeline)
        found = next((p for p in fields if q.spans(p.text)), fields[0])
        s = snip(q, found.text)
        return OrderHit((order_id,), Source.ORDER, found.field, s.snippet, s.marks, s.pii)
