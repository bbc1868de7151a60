"""The supervisor's wallboard: the page, its live stream (SSE), today's figures, charts,
and the supervisor's actions on agents (forced pause, logout, unpause)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from hotline.agents.roster import Agent
from hotline.agents.status import PausePolicy
from hotline.commands.plan import CommandError, Verb
from hotline.commands.supervise import MODES, SupervisorGrant, check_supervisor
from hotline.commands.transfer import check_transferer
from hotline.core.localtime import CHINA
from hotline.core.records import CallRecord
from hotline.metrics.changes import in_force
from hotline.metrics.params import Params
from hotline.metrics.populations import Population
from hotline.metrics.report import compute
from hotline.metrics.timefmt import GroupBy
from hotline.stores.metrics import read_changes
from hotline.watchdog.shifts import local_day
from hotline.web import board, charts, oncall
from hotline.web.commands import agent_verb, issue
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import BadRequest, Forbidden, Unavailable
from hotline.web.hub import RELOAD, Update
from hotline.web.roles import Scope, scope_of

HEARTBEAT_S = 15.0
RECHECK_S = 2.0  # an open stream re-reads its session this often (revoked: gone in < 5 s)
STATS_TTL_MS = 5000
TIMELINE_MS = 2 * 3600_000
TIMELINE_MIN_MS = 10 * 60_000
CHARTS_TTL_MS = 15_000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def day_start(now: int) -> int:
    """The start of the local (Asia/Shanghai) day of ``now``, in ms."""
    day = local_day(now, CHINA)
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=CHINA).timestamp()) * 1000


async def wallboard(ctx: SignedIn) -> Response:
    meta = board.board_meta(ctx.app.center, ctx.app.flow, ctx.app.clock())
    scope = ctx.scope
    meta["agents"] = {
        n: a for n, a in meta["agents"].items() if scope.sees_agent(n, ctx.app.center)
    }
    meta["labels"] = ctx.t_all("board.")
    meta["status"] = ctx.t_all("st.")
    meta["transfer"] = oncall.transfer_targets(ctx)
    return ctx.render("wallboard.html", meta=meta, notices=meta["notices"], reasons=meta["reasons"])


async def _hello(ctx: Ctx, scope: Scope) -> tuple[int, str]:
    state = await ctx.app.hub.state()
    if state is None:
        return -1, f"event: down\ndata: {_dumps({'error': ctx.app.hub.error})}\n\n"
    docs = board.wallboard_docs(state.docs, scope, ctx.app.center)
    hello = {"seq": state.seq, "now": ctx.app.clock(), "docs": docs}
    return state.seq, f"event: hello\ndata: {_dumps(hello)}\n\n"


async def events(ctx: SignedIn) -> Response:
    """Server-Sent Events: ``hello`` (the whole state in scope), then ``change`` each."""
    scope = ctx.scope
    center, hub, token = ctx.app.center, ctx.app.hub, ctx.token

    async def stream() -> AsyncIterator[str]:
        nonlocal scope
        async with hub.subscribe() as inbox:
            seq, hello = await _hello(ctx, scope)
            yield "retry: 1000\n\n" + hello
            checked = beat = ctx.app.clock()
            while True:
                try:
                    item = await asyncio.wait_for(inbox.get(), RECHECK_S)
                except TimeoutError:
                    item = None
                now = ctx.app.clock()
                if now - checked >= RECHECK_S * 1000:
                    # whether events flow or not: a signed-out, disabled or expired user's
                    # stream ends, and a narrowed scope applies, within RECHECK_S
                    checked = now
                    session = ctx.app.accounts.session(token, now=now)
                    if session is None:
                        yield "event: bye\ndata: {}\n\n"
                        return
                    if scope_of(session.user) != scope:
                        scope = scope_of(session.user)
                        seq, hello = await _hello(ctx, scope)
                        yield hello
                        continue
                if item is None:
                    if now - beat >= HEARTBEAT_S * 1000:
                        beat = now
                        yield f": {now}\n\n"
                    continue
                if item is RELOAD:
                    seq, hello = await _hello(ctx, scope)
                    yield hello
                    continue
                assert isinstance(item, Update)
                change = item.change
                if item.seq <= seq or not board.doc_visible(
                    change.kind, change.id, change.doc, scope, center
                ):
                    continue
                data = {
                    "seq": item.seq,
                    "kind": change.kind,
                    "id": change.id,
                    "doc": board.public_doc(change.kind, change.doc),
                }
                yield f"id: {item.seq}\nevent: change\ndata: {_dumps(data)}\n\n"

    headers = {"X-Accel-Buffering": "no", "Cache-Control": "no-store"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def live_json(ctx: SignedIn) -> Response:
    state = await ctx.app.hub.state()
    if state is None:
        raise Unavailable(ctx.app.hub.error)
    docs = board.wallboard_docs(state.docs, ctx.scope, ctx.app.center)
    return JSONResponse({"seq": state.seq, "now": ctx.app.clock(), "docs": docs})


def params_in_force(ctx: Ctx, now: int) -> Params:
    """The metric parameters recorded in force now (``hotline metrics params``), the ones
    ``hotline metrics report`` counts with, so the wallboard's figures are the report's."""
    changes = ctx.app.history.read(read_changes)
    return in_force(changes, None, now + 1)[-1].params


def _today(ctx: Ctx) -> tuple[int, int, int, list[CallRecord]]:
    """The start of today, now, when the day's calls were read, and those calls: read from
    the history at most once per STATS_TTL_MS for every page of this process."""
    now = ctx.app.clock()
    start = day_start(now)
    key = "today"
    cached = ctx.app.cache.get(key)
    if cached is None or now - cached[0] > STATS_TTL_MS:
        cached = (now, ctx.app.history.calls(since=start - 3600_000, until=now + 1))
        ctx.app.cache[key] = cached
    return start, now, cached[0], list(cached[1])


def today_figures(ctx: Ctx, scope: Scope) -> tuple[int, int, dict[str, dict[str, Any]]]:
    """Today's figures per queue in ``scope`` (and over them all: "*"), with the day's start
    and now. Computed once per read of the day's calls and scope (a day of calls takes a
    few hundred ms, in the event loop), not once per wallboard and poll."""
    start, now, read_at, records = _today(ctx)
    key = f"stats:{json.dumps(scope.to_json(), sort_keys=True)}"
    cached = ctx.app.cache.get(key)
    if cached is None or cached[0] != read_at:
        mine = [r for r in records if scope.sees_queue(r.first_queue, ctx.app.center)]
        # the calls read end at read_at: a later bound would find nothing more
        params = params_in_force(ctx, read_at)
        figures = board.queue_figures(mine, params, since=start, until=read_at + 1)
        cached = (read_at, figures)
        ctx.app.cache[key] = cached
    return start, now, cached[1]


async def stats(ctx: SignedIn) -> Response:
    """Today's figures per queue in scope (and over them all: "*")."""
    start, now, figures = today_figures(ctx, ctx.scope)
    return JSONResponse({"now": now, "since": start, "queues": figures})


async def charts_fragment(ctx: SignedIn) -> Response:
    """The three charts as one HTML fragment (the page refreshes it every minute); the
    same scope and language within CHARTS_TTL_MS get the same drawing."""
    scope = ctx.scope
    key = f"charts:{ctx.lang}:{json.dumps(scope.to_json(), sort_keys=True)}"
    cached = ctx.app.cache.get(key)
    if cached is None or ctx.app.clock() - cached[0] > CHARTS_TTL_MS:
        cached = (ctx.app.clock(), await _charts(ctx, scope))
        ctx.app.cache[key] = cached
    return Response(cached[1], media_type="text/html; charset=utf-8")


async def _charts(ctx: Ctx, scope: Scope) -> str:
    center = ctx.app.center
    start, now, _, records = _today(ctx)
    records = [r for r in records if scope.sees_queue(r.first_queue, center)]
    params = params_in_force(ctx, now)
    report = compute(records, params, by=GroupBy.HOUR, since=start, until=now + 1)
    hours = [
        charts.Hour(
            g.key[-5:-3] if len(g.key) >= 5 else g.key,
            g.counts[Population.R],
            g.counts[Population.A],
            g.figures["sl_strict"].value,
        )
        for g in report.groups
    ]
    # from 12 h before the window: the last login of everyone still logged in (a shift is
    # shorter), so each row starts in the right state
    journal = ctx.app.history.journal(since=now - TIMELINE_MS - 12 * 3600_000, until=now + 1)
    journal = [c for c in journal if scope.sees_agent(c.agent, center)]
    # the last 2 h, or less when the day's activity began later (never under 10 min)
    recent = [c.t for c in journal if c.t >= now - TIMELINE_MS]
    t0 = max(now - TIMELINE_MS, min([*recent, now]) - 60_000)
    t0 = min(t0, now - TIMELINE_MIN_MS)
    policy = PausePolicy.from_reasons(center.reasons.values())
    segments = charts.agent_segments(journal, policy, t0, now)
    spans = [
        (v.t_enter, v.t_leave or now)
        for r in records
        for v in r.visits
        if scope.sees_queue(v.queue, center)
    ]
    state = await ctx.app.hub.state(timeout=1.0)
    if state is not None:
        for name, q in state.docs.get("queue", {}).items():
            if scope.sees_queue(name, center):
                spans += [(int(w.get("since") or now), now) for w in q.get("waiting") or []]
    t = ctx.t
    legend = [
        ("st-ready", t("st.ready")),
        ("st-talking", t("st.talking")),
        ("st-busy", t("st.busy")),
        ("st-break", t("st.break")),
        ("st-forced", t("st.forced_busy")),
    ]
    html = "".join(
        (
            charts.hourly_svg(
                hours,
                t("chart.hourly"),
                [t("chart.requests"), t("chart.answered"), t("chart.rate")],
            ),
            charts.waits_svg(
                report.waits["answered"].values(),
                report.waits["abandoned"].values(),
                t("chart.waits"),
                [t("chart.answered"), t("chart.abandoned")],
            ),
            charts.timeline_svg(
                sorted(segments.items()),
                charts.waiting_steps(spans, t0, now),
                t0,
                now,
                params.tz,
                t("chart.timeline"),
                t("chart.waiting"),
                legend,
            ),
        )
    )
    return html


async def act_on_agent(ctx: SignedIn) -> Response:
    """A supervisor's forced pause (reason ``forced`` unless another is named), unpause,
    logout or login of an agent in their scope; journaled as the supervisor's."""
    form = await ctx.form()
    verb = agent_verb(form)
    agent = ctx.app.center.agent(form.get("agent", ""))
    if agent is None:
        raise BadRequest(ctx.t("unknown_agent"))
    if not ctx.scope.sees_agent(agent.name, ctx.app.center):
        raise Forbidden(ctx.t("not_in_scope"))
    reason = (form.get("reason") or "forced") if verb is Verb.PAUSE else None
    return await issue(ctx, verb, agent.ext, reason=reason, supervisor=True)


async def _alert_command(ctx: SignedIn, verb: Verb) -> Response:
    """Acknowledge, close or reopen an alert in the supervisor's scope, with a comment."""
    form = await ctx.form()
    alert_id, comment = form.get("alert", ""), form.get("comment", "").strip()
    if not comment:
        raise BadRequest(ctx.t("alert.comment_required"))
    if len(comment) > 500:
        raise BadRequest(ctx.t("alert.comment_long"))
    state = await ctx.app.hub.state()
    doc = state.docs.get("alert", {}).get(alert_id) if state else None
    if doc is None:  # no longer live: the stored one
        doc = ctx.app.history.alert(alert_id)
    if doc is None:
        raise BadRequest(ctx.t("alert.unknown"))
    if not board.doc_visible("alert", alert_id, doc, ctx.scope, ctx.app.center):
        raise Forbidden(ctx.t("not_in_scope"))
    return await issue(ctx, verb, supervisor=True, alert=alert_id, comment=comment)


async def ack_alert(ctx: SignedIn) -> Response:
    return await _alert_command(ctx, Verb.ACKNOWLEDGE)


async def close_alert(ctx: SignedIn) -> Response:
    return await _alert_command(ctx, Verb.CLOSE)


async def switch_notice(ctx: SignedIn) -> Response:
    """The IVR announcement: one of the flow's, or "" for none (HOTLINE_NOTICE)."""
    notice = (await ctx.form()).get("notice", "")
    known = ctx.app.flow.announcements if ctx.app.flow else {}
    if notice and notice not in known:
        raise BadRequest(ctx.t("notice.unknown"))
    return await issue(ctx, Verb.NOTICE, supervisor=True, notice=notice)


async def supervise(ctx: SignedIn) -> Response:
    """Join an agent's call from the supervisor's softphone (``mode``: listen, whisper or
    barge; ``phone``: one of center.yaml's ``supervision.phones``), as ``hotline
    supervise`` does: only an enabled supervisor of the agent's team."""
    form = await ctx.form()
    agent = _supervised(ctx, form.get("agent", ""), check_supervisor)
    mode, phone = form.get("mode", ""), form.get("phone", "")
    if mode not in MODES or phone not in ctx.app.center.supervision.phones:
        raise BadRequest(f"mode {mode!r} or phone {phone!r} unknown")
    return await issue(ctx, Verb.SUPERVISE, agent.name, supervisor=True, mode=mode, phone=phone)


async def transfer(ctx: SignedIn) -> Response:
    """Transfer the call an agent is on (blind: to a queue, an agent or a department's duty
    line), as ``hotline transfer --as`` does: only an enabled supervisor of her team. The
    call is the one the live feed has her on, never taken from the form."""
    form = await ctx.form()
    agent = _supervised(ctx, form.get("agent", ""), check_transferer)
    to = form.get("to", "")
    if to not in {value for value, _ in oncall.transfer_targets(ctx)}:
        raise BadRequest(ctx.t("transfer.no_target"))
    call = await oncall.agent_call(ctx, agent.name)
    if not call:
        raise BadRequest(ctx.t("transfer.no_call"))
    return await issue(ctx, Verb.TRANSFER, agent.name, supervisor=True, mode="blind",
                       call=call, target=to)  # fmt: skip


def _supervised(ctx: SignedIn, name: str, check: Callable[[SupervisorGrant, Agent], None]) -> Agent:
    """The agent NAME, if CHECK lets the signed-in user act on her call (an enabled
    supervisor of her team)."""
    agent = ctx.app.center.agent(name)
    if agent is None:
        raise BadRequest(ctx.t("unknown_agent"))
    user = ctx.user
    grant = SupervisorGrant(user.username, user.role.value, frozenset(user.scope.teams),
                            user.scope.all, user.disabled)  # fmt: skip
    try:
        check(grant, agent)
    except CommandError as exc:
        raise Forbidden(str(exc)) from None
    return agent
