"""Transcript search for auditors: the empty form, and the search, whose query and filters
come in a POST body (a query may hold a phone number: never in a URL); every search is
logged with its purpose. With ``scope=orders`` the work orders are searched with their
linked calls' transcripts instead (:mod:`hotline.web.pages_search_orders`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from markupsafe import Markup, escape
from starlette.responses import Response

from hotline.core.localtime import CHINA
from hotline.recordings.leg import Leg
from hotline.stores.search_plan import SearchFilters
from hotline.stores.transcript_search import Hit
from hotline.transcripts import redact
from hotline.transcripts.fulltext import QueryError
from hotline.web import audit, pages_search_orders
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import BadRequest, Forbidden

PAGE = 20
MAX_QUERY = 200
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CALLER = re.compile(r"[0-9+]{3,20}")


def _page(ctx: SignedIn, **values: Any) -> Response:
    """The search page: the session's purpose, the queues to filter by, and ``values``."""
    queues = ctx.app.flow.queues if ctx.app.flow else {}
    values.setdefault("order_hits", None)
    return ctx.render("search.html", purpose=ctx.session.purpose, queues=queues, **values)


async def search_page(ctx: SignedIn) -> Response:
    """The empty search form (the search itself is a POST: a query may hold a number)."""
    return _page(ctx, hits=None, form={})


def _day_ms(raw: str, ctx: Ctx, end: bool) -> int | None:
    if not raw:
        return None
    if not DATE.fullmatch(raw):
        raise BadRequest(ctx.t("search.bad_date"))
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(ctx.t("search.bad_date")) from None
    if end:
        day += dt.timedelta(days=1)
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=CHINA).timestamp()) * 1000


def filters_of(form: dict[str, str], ctx: Ctx) -> SearchFilters:
    """The filters as given, each checked: a bad one is a clear 400, never a 500."""
    queue = form.get("queue", "").strip() or None
    flow = ctx.app.flow
    if queue is not None and flow is not None and queue not in flow.queues:
        raise BadRequest(ctx.t("search.bad_queue"))
    agent = form.get("agent", "").strip() or None
    if agent is not None:
        found = ctx.app.center.agent(agent)
        if found is None:
            raise BadRequest(ctx.t("unknown_agent"))
        agent = found.name
    caller = form.get("caller", "").strip() or None
    if caller is not None and not CALLER.fullmatch(caller):
        raise BadRequest(ctx.t("search.bad_caller"))
    leg_raw = form.get("leg", "")
    if leg_raw not in ("", "rx", "tx"):
        raise BadRequest(ctx.t("search.bad_leg"))
    since = _day_ms(form.get("from", "").strip(), ctx, end=False)
    until = _day_ms(form.get("to", "").strip(), ctx, end=True)
    if since is not None and until is not None and until <= since:
        raise BadRequest(ctx.t("search.bad_dates"))
    return SearchFilters(
        since_ms=since,
        until_ms=until,
        queue=queue,
        agent=agent,
        caller=caller,
        leg=Leg(leg_raw) if leg_raw else None,
    )


def highlighted(hit: Hit) -> Markup:
    """The snippet escaped, its marks in <mark>."""
    out, at = [], 0
    for start, end in sorted(hit.marks):
        if start < at:
            continue
        out += [
            escape(hit.snippet[at:start]),
            Markup("<mark>"),
            escape(hit.snippet[start:end]),
            Markup("</mark>"),
        ]
        at = end
    out.append(escape(hit.snippet[at:]))
    return Markup("").join(out)


async def search(ctx: SignedIn) -> Response:
    form = await ctx.form()
    query = form.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise BadRequest(ctx.t("search.too_long"))
    filters = filters_of(form, ctx)
    try:
        page = max(0, min(int(form.get("page") or 0), 1000))
    except ValueError:
        raise BadRequest("page: a number") from None
    can_unmask = ctx.user.can_unmask
    # a digit run searched against the unmasked index confirms hidden digits: an unmask
    unmask = form.get("unmask") == "1" or redact.probes_numbers(query)
    if unmask and not can_unmask:
        raise Forbidden(ctx.t("audit.may_not_unmask"))
    if form.get("scope") == "orders":
        found, orders, calls = pages_search_orders.search_orders(ctx, form, query, page, PAGE,
                                                                 unmask)  # fmt: skip
        total = orders + calls
        return _page(ctx, hits=None, order_hits=found, orders_total=orders, calls_total=calls,
                     total=total, form=form, page=page, pages=-(-total // PAGE),
                     unmasked=unmask)  # fmt: skip
    store = ctx.app.transcripts
    try:
        hits = store.search(query, filters, limit=PAGE, offset=page * PAGE)
        counted = store.search_total(query, filters)  # "10,000+": a common term stays fast
    except QueryError as exc:
        raise BadRequest(f"{ctx.t('search.bad_query')}: {exc}") from None
    shown_filters = {
        k: v
        for k, v in form.items()
        if k in ("from", "to", "queue", "agent", "caller", "leg") and v
    }
    audit.record(
        ctx,
        "unmask" if unmask else "search",
        query if can_unmask else redact.mask(query),  # the log shows no number it may not
        detail=json.dumps(
            {"filters": shown_filters, "hits": counted.n, "page": page}
            | ({"more": True} if counted.more else {}),
            ensure_ascii=False,
        ),
    )
    rows: list[dict[str, Any]] = []
    for hit in hits:
        h = hit if unmask else hit.masked()
        rows.append(
            {
                "hit": h,
                "html": highlighted(h),
                "caller": h.caller if unmask else redact.mask_phone(h.caller),
                "jump": f"{h.leg.value}-{h.start_ms}" if h.start_ms is not None else "",
            }
        )
    return _page(
        ctx,
        hits=rows,
        total=counted,
        form=form,
        page=page,
        # past the cap the last page is not known: a full page offers the next one
        pages=max(-(-counted.n // PAGE), page + 2 if counted.more and len(hits) == PAGE else 0),
        unmasked=unmask,
    )
