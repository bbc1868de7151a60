"""The agent's own page: log in and out of the queues, pause with a reason, unpause, and
the pause budget of the current shift (示忙 and breaks used against the centre's limits)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from hotline.agents.roster import Agent
from hotline.commands.plan import Verb
from hotline.commands.transfer import MODES as TRANSFER_MODES
from hotline.core.localtime import CHINA, DAY_MS
from hotline.orders.model import OrderType
from hotline.watchdog.report import shift_report
from hotline.watchdog.shifts import Shifts
from hotline.web import oncall, pages_recall
from hotline.web.commands import agent_verb, issue
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import BadRequest, Forbidden, Unavailable


def _me(ctx: SignedIn) -> Agent:
    agent = ctx.app.center.agent(ctx.user.agent)
    if agent is None:
        raise Forbidden(ctx.t("agent.unknown", ext=ctx.user.agent))
    return agent


def budget(ctx: Ctx, agent: Agent) -> dict[str, Any]:
    """This shift so far: 示忙 and break time used, and the limits they count against."""
    center, now = ctx.app.center, ctx.app.clock()
    team = center.teams.get(agent.team)
    window = Shifts(team.shifts if team else (), CHINA).at(now)
    limits = center.watchdog.thresholds(agent.team, window.name)
    journal = ctx.app.history.journal(agent.name, since=window.start - DAY_MS, until=now + 1)
    rows = shift_report(journal, center, start=window.start, end=now + 1)
    row = next((r for r in rows if r.agent == agent.name), None)
    breaks = sum(p.total_ms for p in row.pauses if p.kind == "break") if row else 0
    return {
        "shift": window.name,
        "start": window.start,
        "end": window.end,
        "busy_ms": row.busy_ms if row else 0,
        "busy_limit_ms": limits.shift_busy_ms,
        "break_ms": breaks,
        "break_limit_ms": limits.shift_break_ms,
        "busy_episode_ms": limits.busy_max_ms,
    }


NOTES_SHOWN = 5


def my_notes(docs: dict[str, dict[str, Any]], agent: Agent) -> list[dict[str, Any]]:
    """The watchdog's notes to this agent (escalation step note_agent), newest first."""
    mine = [
        {"t": n.get("t"), "text": n.get("text", ""), "alert": n.get("alert", "")}
        for n in docs.values()
        if n.get("role") == "agent" and n.get("agent") == agent.name
    ]
    return sorted(mine, key=lambda n: n["t"] or 0, reverse=True)[:NOTES_SHOWN]


async def _live(ctx: SignedIn, agent: Agent) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The agent's live state (None while the feed is down) and the watchdog's notes."""
    state = await ctx.app.hub.state(timeout=2.0)
    if state is None:
        return None, []
    return state.docs.get("agent", {}).get(agent.name), my_notes(state.docs.get("note", {}), agent)


async def me(ctx: SignedIn) -> Response:
    agent = _me(ctx)
    reasons = [r for r in ctx.app.center.reasons.values() if not r.supervisor_only]
    doc, notes = await _live(ctx, agent)
    return ctx.render(
        "agent.html",
        agent=agent,
        reasons=reasons,
        budget=budget(ctx, agent),
        live=doc,
        notes=notes,
        labels={
            **ctx.t_all("st."),
            **{f"orders.{k}": ctx.t(f"orders.{k}") for k in ("on_call", "no_call")},
        },
        redis_error=ctx.app.hub.error,
        call=await oncall.current(ctx, doc),
        types=[t.value for t in OrderType],
        targets=oncall.transfer_targets(ctx, but=agent.ext),
    )


async def me_json(ctx: SignedIn) -> Response:
    """The page's poll: the state, the budget, the notes, the call; and the recall task
    offered (its number only: the page fetches /me/recall, logged, when it changes)."""
    agent = _me(ctx)
    doc, notes = await _live(ctx, agent)
    try:
        offered = await pages_recall.current_offer(ctx, agent, doc)
        offer = {"task": offered.task.id if offered.task else None, "why": offered.why}
    except Unavailable:  # the rest of the page goes on without the recall list
        offer = {"task": None, "why": "unavailable"}
    return JSONResponse(
        {"agent": doc, "budget": budget(ctx, agent), "notes": notes, "now": ctx.app.clock(),
         "call": await oncall.current(ctx, doc), "offer": offer}
    )  # fmt: skip


async def me_command(ctx: SignedIn) -> Response:
    """The agent acts on themself only: the extension comes from the account, never the form."""
    agent = _me(ctx)
    form = await ctx.form()
    verb = agent_verb(form)
    reason = (form.get("reason") or "busy") if verb is Verb.PAUSE else None
    if reason is not None and reason not in ctx.app.center.reasons:
        raise BadRequest(ctx.t("agent.bad_reason"))
    return await issue(ctx, verb, agent.ext, reason=reason)


FINISH_MODES = ("complete", "cancel")


async def me_transfer(ctx: SignedIn) -> Response:
    """Transfer the call the agent is on (read from the live feed, never from the form) to
    ``to`` (a queue, an agent, a department), ``mode`` blind, attended or conference; or
    finish an attended transfer (``complete``, ``cancel``). The controller checks the call
    on Asterisk and journals the transfer."""
    agent = _me(ctx)
    form = await ctx.form()
    mode = form.get("mode", "blind")
    if mode not in TRANSFER_MODES + FINISH_MODES:
        raise BadRequest(f"unknown transfer mode {mode[:20]!r}")
    to = "" if mode in FINISH_MODES else form.get("to", "")
    if mode not in FINISH_MODES and not to:
        raise BadRequest(ctx.t("transfer.no_target"))
    doc, _ = await _live(ctx, agent)
    call = (await oncall.current(ctx, doc)).get("id", "")
    if not call:
        raise BadRequest(ctx.t("transfer.no_call"))
    return await issue(ctx, Verb.TRANSFER, agent.name, mode=mode, call=call, target=to)
