"""The work orders' pages: the centre's list (filters, findings, the monthly department
report with its CSV), one order with its timeline and the forms its reader may use, taking
an order on the agent's page, and each step posted from a form.

Every read goes through the Desk, which logs it (``order.show``, ``order.list``, ...) to the
access log; every step is journaled by it. The forms a page shows are the steps the state
machine's table allows the reader (:func:`hotline.web.orders_web.offered`).
"""

from __future__ import annotations

import csv
import io
import re

from starlette.responses import RedirectResponse, Response

from hotline.casework import views
from hotline.core.localtime import CHINA
from hotline.orders.duplicates import Proposal
from hotline.orders.figures import NAMES
from hotline.orders.model import OrderType, Rating, State
from hotline.transcripts.redact import mask_phone
from hotline.web import oncall, orders_web
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ORDER_ID = re.compile(r"[0-9A-Za-z-]{1,40}")


def _order_id(ctx: SignedIn) -> str:
    order_id = str(ctx.request.path_params.get("order_id", ""))
    if not ORDER_ID.fullmatch(order_id):
        raise BadRequest(f"no order id {order_id[:40]!r}")
    return order_id


def _department(ctx: SignedIn, raw: str) -> str | None:
    if raw and raw not in ctx.app.center.orders.departments:
        raise BadRequest(f"department: no department {raw[:40]!r}")
    return raw or None


def _names(ctx: SignedIn) -> dict[str, str]:
    return {d.code: d.name for d in ctx.app.center.orders.departments.values()}


async def orders_page(ctx: SignedIn) -> Response:
    """The centre's list: every order, filtered by state and department."""
    q = ctx.query()
    state = orders_web.state_of(q.get("state", ""))
    department = _department(ctx, q.get("department", ""))
    orders = orders_web.run(
        ctx, lambda desk, actor, now: desk.orders(actor, now=now, state=state,
                                                  department=department))  # fmt: skip
    now, chase = ctx.app.clock(), ctx.app.center.orders.chase
    rows = [(o, views.order_row(o), orders_web.urgency(o, now, chase)) for o in reversed(orders)]
    return ctx.render("orders.html", rows=rows, states=[s.value for s in State],
                      state=state.value if state else "", department=department or "",
                      names=_names(ctx))  # fmt: skip


async def department_page(ctx: SignedIn) -> Response:
    """A department's own orders (those it holds or held), deadlines, the overdue and the
    near-due marked."""
    orders = orders_web.run(ctx, lambda desk, actor, now: desk.orders(actor, now=now))
    _, actor = orders_web.desk_for(ctx)
    now, chase = ctx.app.clock(), ctx.app.center.orders.chase
    mine = [o for o in reversed(orders) if o.department == actor.department and o.state.is_open]
    past = [o for o in reversed(orders) if o not in mine]
    return ctx.render("department.html", dept_name=_names(ctx).get(actor.department, ""),
                      mine=[(o, views.order_row(o), orders_web.urgency(o, now, chase))
                            for o in mine],
                      past=past,
                      when=views.when)  # fmt: skip


async def order_page(ctx: SignedIn) -> Response:
    """One order: its facts (numbers masked), its journal, its findings, the forms."""
    return _show(ctx, _order_id(ctx))


def _show(
    ctx: SignedIn, order_id: str, proposals: tuple[Proposal, ...] = (), created: bool = False
) -> Response:
    shown = orders_web.run(ctx, lambda desk, actor, now: desk.show(actor, order_id, now=now))
    _, actor = orders_web.desk_for(ctx)
    return ctx.render(
        "order.html", order=shown.order, lines=views.order_lines(shown.order),
        timeline=[views.entry_line(e) for e in shown.timeline], findings=shown.findings,
        offered=orders_web.offered(shown.order, actor, ctx.app.clock()), names=_names(ctx),
        ratings=[r.value for r in Rating], proposals=proposals, created=created,
        urgency=orders_web.urgency(shown.order, ctx.app.clock(), ctx.app.center.orders.chase),
        mask_phone=mask_phone,
    )  # fmt: skip


async def create_order(ctx: SignedIn) -> Response:
    """受理 from the agent's form; the caller's number comes from the live call, never the
    form; then the new order's page, with its possible duplicates to merge."""
    form = await ctx.form()
    phone = await oncall.linked_call(ctx, form.get("call_id", "").strip())
    made = orders_web.create(ctx, form, phone=phone)
    return _show(ctx, made.order.id, made.proposals, created=True)


async def act(ctx: SignedIn) -> Response:
    """A step posted from an order's page (field ``verb``), then that page again."""
    order_id = _order_id(ctx)
    form = await ctx.form()
    orders_web.take(ctx, form.get("verb", ""), order_id, form)
    return RedirectResponse(f"/orders/{order_id}", 303)


async def findings_page(ctx: SignedIn) -> Response:
    department = _department(ctx, ctx.query().get("department", ""))
    found = orders_web.run(ctx, lambda desk, actor, now: desk.findings(
        actor, now=now, department=department))  # fmt: skip
    shown = [(f, views.timeline_lines(f.timeline, f.marks)) for f in found]
    return ctx.render("findings.html", found=shown, department=department or "",
                      names=_names(ctx))  # fmt: skip


def _month(ctx: SignedIn) -> str:
    raw = ctx.query().get("month", "")
    if not raw:
        import datetime as dt

        return dt.datetime.fromtimestamp(ctx.app.clock() // 1000, CHINA).strftime("%Y-%m")
    if not MONTH.fullmatch(raw):
        raise BadRequest("month: write YYYY-MM")
    return raw


async def report_page(ctx: SignedIn) -> Response:
    """The monthly department report: the ranked table, and each figure order by order."""
    month = _month(ctx)
    months = orders_web.run(ctx, lambda desk, actor, now: desk.report(actor, month, now=now))
    names = _names(ctx)
    return ctx.render("report.html", month=month, names=NAMES,
                      rows=views.report_rows(months, names), months=months)  # fmt: skip


async def report_csv(ctx: SignedIn) -> Response:
    month = _month(ctx)
    months = orders_web.run(ctx, lambda desk, actor, now: desk.report(actor, month, now=now))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["department", "name", *NAMES])
    writer.writerows(views.report_rows(months, _names(ctx)))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="departments-{month}.csv"'})  # fmt: skip


TYPES = [t.value for t in OrderType]
