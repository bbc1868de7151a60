"""Preview dialling on the agent's page: the recall task offered to a ready agent, the
citizen's earlier calls and open work orders first, then 回拨 or 已联系.

    GET  /me/recall           the offer as an HTML fragment (every preview shown is logged)
    POST /me/recall/dial      task=N: the RECALL command ``hotline recall dial`` sends
    POST /me/recall/done      task=N: closed by hand (the citizen was reached otherwise)

Which task is :mod:`hotline.web.offer`'s; the list is kept up to date by the controller's
recaller (the page only reads it). An agent acts on tasks of their own queues only: any
other task is "no recall task N" to them, as if it did not exist.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse, Response

from hotline.agents.roster import Agent
from hotline.casework import preview
from hotline.commands.plan import Verb
from hotline.recall.tasks import Task
from hotline.stores.dialect import DatabaseError
from hotline.stores.recall import RecallError, RecallStore
from hotline.transcripts.redact import mask_phone
from hotline.web import audit, orders_web
from hotline.web.commands import issue
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from hotline.web.offer import Offer, offer

__all__ = ["current_offer", "dial", "done", "fragment"]


def store(ctx: SignedIn) -> RecallStore:
    if ctx.app.recall is None:
        ctx.app.recall = RecallStore.open(ctx.app.settings.db)
    return ctx.app.recall


def _agent(ctx: SignedIn) -> Agent:
    agent = ctx.app.center.agent(ctx.user.agent)
    if agent is None:
        raise Forbidden(ctx.t("agent.unknown", ext=ctx.user.agent))
    return agent


def service_levels(ctx: SignedIn) -> dict[str, int]:
    """Each queue's service level from the flow (ms); the live queue's own wins."""
    flow = ctx.app.flow
    return {name: q.servicelevel * 1000 for name, q in flow.queues.items()} if flow else {}


async def current_offer(ctx: SignedIn, agent: Agent, agent_doc: dict[str, Any] | None) -> Offer:
    """The task :mod:`hotline.web.offer` gives this agent now."""
    if not agent_doc or agent_doc.get("status") != "ready":
        return Offer(None, "not_ready")  # no read of the list while on a call
    state = await ctx.app.hub.state(timeout=2.0)
    queues = state.docs.get("queue", {}) if state is not None else {}
    try:
        tasks = await asyncio.to_thread(store(ctx).open_in, agent.queues)
    except DatabaseError as exc:
        raise Unavailable(f"the recall list cannot be read ({exc})") from None
    return offer(tasks, agent.queues, agent_doc, queues, now=ctx.app.clock(),
                 service_levels=service_levels(ctx))  # fmt: skip


async def _agent_doc(ctx: SignedIn, agent: Agent) -> dict[str, Any] | None:
    state = await ctx.app.hub.state(timeout=2.0)
    return state.docs.get("agent", {}).get(agent.name) if state is not None else None


def _shown(ctx: SignedIn, task: Task) -> dict[str, Any]:
    """The task and its preview, the number masked; the read goes to the access log."""
    with orders_web.errors():
        seen = preview.preview(task, ctx.app.history, orders_web.store(ctx), now=ctx.app.clock())
    shown = {"calls": [c.call_id for c in seen.calls], "orders": [o.id for o in seen.orders]}
    audit.read(ctx, "recall preview", f"recall:{task.id}", shown)
    return {
        "task": task,
        "number": mask_phone(task.number),
        "calls": [preview.call_line(c) for c in seen.calls],
        "orders": [preview.order_line(o) for o in seen.orders],
    }


async def fragment(ctx: SignedIn) -> Response:
    """The recall card's body: the offered task with its preview, or why there is none."""
    agent = _agent(ctx)
    shown = await current_offer(ctx, agent, await _agent_doc(ctx, agent))
    values = _shown(ctx, shown.task) if shown.task is not None else {}
    return ctx.render("agent_recall.html", offer=shown, **values)


def _task_of(ctx: SignedIn, agent: Agent, raw: str) -> Task:
    """The open-or-closed task numbered RAW, if it is of the agent's queues."""
    if not raw.strip().isdigit() or len(raw.strip()) > 18:
        raise BadRequest(ctx.t("recall.bad_task", task=raw[:40]))
    task = store(ctx).task(int(raw))
    if task is None or task.queue not in agent.queues:
        raise NotFound(ctx.t("recall.no_task", task=int(raw)))
    if not task.open:
        raise Conflict(ctx.t("recall.closed", task=task.id, state=task.state.value))
    return task


async def dial(ctx: SignedIn) -> Response:
    """回拨: the same RECALL command as ``hotline recall dial TASK --agent EXT``; the
    controller's reply (its refusal, 409, as it says it: "... phone is not registered")."""
    agent = _agent(ctx)
    task = _task_of(ctx, agent, (await ctx.form()).get("task", ""))
    return await issue(ctx, Verb.RECALL, agent.ext, task=str(task.id))


async def done(ctx: SignedIn) -> Response:
    """已联系: the agent reached the citizen some other way; the task is done by hand."""
    agent = _agent(ctx)
    task = _task_of(ctx, agent, (await ctx.form()).get("task", ""))
    try:
        store(ctx).close_by_hand(task.id, by=agent.name, at=ctx.app.clock())
    except RecallError as exc:
        raise Conflict(str(exc)) from None
    return JSONResponse({"ok": True, "message": ctx.t("recall.marked", task=task.id)})
