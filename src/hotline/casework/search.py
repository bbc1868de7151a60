"""Auditors' search of the orders with their linked calls' transcripts: who may, why
(the purpose rule), and the access log entry, for ``hotline orders search`` and the
auditor's search page alike.

    desk.purpose = "GD-2026-001234"
    found = search(desk, OrderSearch(desk.store, transcripts), auditor, "树枝", now=now_ms)
    found.hits        # [OrderHit, ...], numbers masked unless ``unmask``
    found.orders, found.transcripts   # how many of each match in all

Only an auditor searches (the centre and departments read orders through their pages);
a search without a purpose is refused; every search is logged before anything is shown
(``search``, or ``unmask`` when the numbers are shown or the query probes digits, which
against the unmasked text would confirm hidden ones), with the query (masked unless
unmasked), the counts and the orders and calls on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.casework.desk import Desk
from hotline.orders.errors import OrderError
from hotline.orders.model import Actor, Side
from hotline.stores.order_search import OrderHit, OrderSearch
from hotline.transcripts import redact
from hotline.transcripts.fulltext import QueryError

__all__ = ["Searched", "search"]


@dataclass(frozen=True, slots=True)
class Searched:
    hits: tuple[OrderHit, ...]  # masked unless asked otherwise
    orders: int  # orders whose text matches, in all
    transcripts: int  # transcripts of linked calls that match, in all
    unmasked: bool


def search(
    desk: Desk, found: OrderSearch, actor: Actor, query: str, *, now: int, limit: int = 50,
    offset: int = 0, unmask: bool = False,
) -> Searched:  # fmt: skip
    """QUERY over the orders and their calls' transcripts, logged in DESK's access log
    with DESK's purpose. UNMASK: the caller has decided the reader may see the numbers."""
    if actor.side is not Side.AUDIT:
        raise OrderError(f"{actor.user}: searching orders with their calls is an auditor's")
    if not desk.purpose.strip():
        raise OrderError("say why you search (--purpose CASE): it goes into the access log")
    unmask = unmask or redact.probes_numbers(query)
    try:
        hits = found.search(query, limit=limit, offset=offset)
        orders, transcripts = found.count(query)
    except QueryError as exc:
        raise OrderError(f"cannot search that: {exc}") from None
    desk._log(
        actor, "unmask" if unmask else "search", query if unmask else redact.mask(query), now,
        scope="orders", hits={"orders": orders, "transcripts": transcripts}, offset=offset,
        orders=sorted({o for h in hits for o in h.orders}),
        calls=sorted({h.call.call_id for h in hits if h.call is not None}),
    )  # fmt: skip
    shown = tuple(h if unmask else h.masked() for h in hits)
    return Searched(shown, orders, transcripts, unmask)
