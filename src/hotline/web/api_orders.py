"""The work orders' JSON API, for provincial platforms and scripts (docs/orders.md, "HTTP
API"): the same Desk, roles and access log as the pages; described at /api/openapi.json.

    GET  /api/orders?state=派单&department=greening     the orders the account may see
    POST /api/orders                                    受理 {"type", "category", "content", ...}
    GET  /api/orders/{order_id}                         the order, its timeline, its findings
    POST /api/orders/{order_id}/{verb}                  a step: sign, reply, return, finish, ...

A client signs in as an account (POST /login) and sends the session's CSRF token in
``X-CSRF-Token`` with every POST; each GET answers it in that header. Errors are JSON
``{"error": "..."}`` with the status: 400 a malformed body, 403 not this account's, 404 no
such order (or another department's), 409 a step the order's state does not allow.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from hotline.casework import views
from hotline.web import oncall, orders_web
from hotline.web.context import SignedIn
from hotline.web.errors import HTTP_STATUS, WebError
from hotline.web.pages_orders import _department, _order_id

BODY_LIMIT = 64 * 1024
CSRF_HEADER = "X-CSRF-Token"


def _json_errors(
    run: Callable[[SignedIn], Awaitable[Response]],
) -> Callable[[SignedIn], Awaitable[Response]]:
    """The handler's WebErrors as JSON ``{"error": ...}`` with their status."""

    @functools.wraps(run)
    async def wrapped(ctx: SignedIn) -> Response:
        try:
            response = await run(ctx)
        except WebError as exc:
            response = JSONResponse({"error": str(exc)}, HTTP_STATUS[exc.error_id])
        response.headers[CSRF_HEADER] = ctx.session.csrf
        return response

    return wrapped


async def body(ctx: SignedIn) -> dict[str, Any]:
    """The request's JSON object (400 with the reason when it is not one)."""
    return await ctx.json(BODY_LIMIT)


@_json_errors
async def list_orders(ctx: SignedIn) -> Response:
    q = ctx.query()
    state = orders_web.state_of(q.get("state", ""))
    department = _department(ctx, q.get("department", ""))
    orders = orders_web.run(ctx, lambda desk, actor, now: desk.orders(
        actor, now=now, state=state, department=department))  # fmt: skip
    return JSONResponse({"orders": [views.order_doc(o) for o in orders]})


@_json_errors
async def create_order(ctx: SignedIn) -> Response:
    doc = await body(ctx)
    call_id = doc.get("call_id", "")
    phone = await oncall.linked_call(ctx, call_id.strip()) if isinstance(call_id, str) else ""
    made = orders_web.create(ctx, doc, phone=phone)
    return JSONResponse({"order": views.order_doc(made.order),
                         "duplicates": [{"order": p.order, "why": p.why(),
                                         "similarity": p.similarity}
                                        for p in made.proposals]}, 201)  # fmt: skip


@_json_errors
async def read_order(ctx: SignedIn) -> Response:
    order_id = _order_id(ctx)
    shown = orders_web.run(ctx, lambda desk, actor, now: desk.show(actor, order_id, now=now))
    return JSONResponse({"order": views.order_doc(shown.order),
                         "timeline": [views.entry_doc(e) for e in shown.timeline],
                         "findings": [views.finding_doc(f) for f in shown.findings]})  # fmt: skip


@_json_errors
async def take_step(ctx: SignedIn) -> Response:
    order_id = _order_id(ctx)
    verb = str(ctx.request.path_params.get("verb", ""))
    doc = await body(ctx)
    order = orders_web.take(ctx, verb, order_id, doc)
    return JSONResponse({"order": views.order_doc(order)})
