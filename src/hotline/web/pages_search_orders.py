"""The auditor's search page, over the work orders: the orders' text and their linked
calls' transcripts found together (:class:`hotline.stores.order_search.OrderSearch`), with
the transcript search's purpose rule and access log entry (``search``, or ``unmask``;
detail ``scope: orders``), numbers masked unless the auditor may unmask and asks to."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup, escape

from hotline.stores.order_search import OrderHit, OrderSearch
from hotline.transcripts import redact
from hotline.transcripts.fulltext import QueryError
from hotline.web import audit, orders_web
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest

__all__ = ["FILTERS", "order_rows", "search_orders"]

FILTERS = ("from", "to", "queue", "agent", "caller", "leg")  # the calls' only


def _marked(hit: OrderHit) -> Markup:
    out, at = [], 0
    for start, end in sorted(hit.marks):
        if start < at:
            continue
        out += [escape(hit.snippet[at:start]), Markup("<mark>"),
                escape(hit.snippet[start:end]), Markup("</mark>")]  # fmt: skip
        at = end
    out.append(escape(hit.snippet[at:]))
    return Markup("").join(out)


def order_rows(hits: list[OrderHit], unmask: bool) -> list[dict[str, Any]]:
    """What the template shows of each hit (masked unless UNMASK)."""
    rows = []
    for hit in hits:
        h = hit if unmask else hit.masked()
        call = h.call
        rows.append({
            "hit": h, "html": _marked(h),
            "jump": f"{call.leg.value}-{call.start_ms}" if call and call.start_ms is not None
            else "",
            "caller": "" if call is None else call.caller if unmask
            else redact.mask_phone(call.caller),
        })  # fmt: skip
    return rows


def search_orders(
    ctx: SignedIn, form: dict[str, str], query: str, page: int, size: int, unmask: bool
) -> tuple[list[dict[str, Any]], int, int]:
    """One page of hits over the orders and their calls, logged first; (rows, orders,
    transcripts) in all."""
    if any(form.get(k, "").strip() for k in FILTERS):
        raise BadRequest(ctx.t("search.orders_no_filters"))
    found = OrderSearch(orders_web.store(ctx), ctx.app.transcripts)
    try:
        hits = found.search(query, limit=size, offset=page * size)
        orders, transcripts = found.count(query)
    except QueryError as exc:
        raise BadRequest(f"{ctx.t('search.bad_query')}: {exc}") from None
    detail = {"scope": "orders", "hits": {"orders": orders, "transcripts": transcripts},
              "page": page, "orders": sorted({o for h in hits for o in h.orders}),
              "calls": sorted({h.call.call_id for h in hits if h.call is not None})}  # fmt: skip
    audit.record(ctx, "unmask" if unmask else "search",
                 query if ctx.user.can_unmask else redact.mask(query),
                 detail=json.dumps(detail, ensure_ascii=False))  # fmt: skip
    return order_rows(hits, unmask), orders, transcripts
