"""Knowledge-base answers on the agent's page while a call is on (docs/kb.md).

    GET  /me/kb        the answers proposed for the agent's call, as an HTML fragment
    POST /me/kb/use    answer=N version=V call=ID: "使用", linked to the call as this agent

The proposals are :func:`hotline.kb.propose.propose` with the live call's IVR path and tag
and, once the call is transcribed, the words of its stored transcript; each reading is
logged like ``hotline kb propose``. An agent links an answer only to the call they are on
(or wrapping up), the call read from the live feed, never taken from the form.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse, Response

from hotline.kb.errors import KbError
from hotline.kb.propose import Proposal, propose
from hotline.stores.dialect import DatabaseError
from hotline.stores.kb import KbStore
from hotline.web import audit, oncall
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest, Forbidden, NotFound, Unavailable

__all__ = ["fragment", "use"]

SHOWN = 3  # the top answers shown


def store(ctx: SignedIn) -> KbStore:
    if ctx.app.kb is None:
        ctx.app.kb = KbStore.open(ctx.app.settings.db)
    return ctx.app.kb


async def _call(ctx: SignedIn) -> dict[str, Any]:
    """The live doc of the call the signed-in agent is on ({} when none)."""
    agent = ctx.app.center.agent(ctx.user.agent)
    if agent is None:
        raise Forbidden(ctx.t("agent.unknown", ext=ctx.user.agent))
    state = await ctx.app.hub.state(timeout=2.0)
    docs = state.docs if state is not None else {}
    me = docs.get("agent", {}).get(agent.name)
    call_id = str(me.get("call_id") or "") if me and me.get("status") in oncall.ON_A_CALL else ""
    doc = docs.get("call", {}).get(call_id) if call_id else None
    return {"call_id": call_id, **doc} if isinstance(doc, dict) else {"call_id": call_id}


def _proposed(ctx: SignedIn, call: dict[str, Any]) -> tuple[list[Proposal], dict[int, str], bool]:
    call_id = call["call_id"]
    words = " | ".join(t.text for t in ctx.app.transcripts.get(call_id))
    answers = store(ctx).answers()
    found = propose(answers, ivr_path=str(call.get("ivr_path") or ""),
                    tag=str(call.get("tag") or ""), words=words, now=ctx.app.clock(),
                    limit=SHOWN)  # fmt: skip
    texts = {a.id: a.content.text for a in answers}
    return found, texts, bool(words)


async def fragment(ctx: SignedIn) -> Response:
    """The answers for the agent's call now, best first (none: not on a call)."""
    call = await _call(ctx)
    if not call["call_id"]:
        return ctx.render("agent_kb.html", call=None, proposals=[], texts={})
    try:
        found, texts, transcribed = await asyncio.to_thread(_proposed, ctx, call)
    except DatabaseError as exc:
        raise Unavailable(f"the knowledge base cannot be read ({exc})") from None
    audit.read(ctx, "kb propose", call["call_id"],
               {"answers": [p.answer for p in found], "transcribed": transcribed})  # fmt: skip
    return ctx.render("agent_kb.html", call=call, proposals=found, texts=texts,
                      transcribed=transcribed)  # fmt: skip


def _number(ctx: SignedIn, raw: str, what: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest(ctx.t("kb.bad_number", what=what, value=raw[:40]))
    return int(raw)


async def use(ctx: SignedIn) -> Response:
    """Link the answer's version to the agent's call, as this agent (the first link of the
    same version to the same call stays)."""
    form = await ctx.form()
    call_id = form.get("call", "").strip()
    if not call_id:
        raise BadRequest(ctx.t("kb.no_call"))
    answer = _number(ctx, form.get("answer", ""), "answer")
    version = _number(ctx, form.get("version", ""), "version") if form.get("version") else None
    await oncall.linked_call(ctx, call_id)  # Forbidden unless it is the agent's call
    try:
        link = store(ctx).link(answer, "call", call_id, user=ctx.user.username,
                               t=ctx.app.clock(), version=version)  # fmt: skip
    except KbError as exc:
        raise NotFound(str(exc)) from None
    except DatabaseError as exc:
        raise Unavailable(f"the knowledge base cannot be written ({exc})") from None
    message = ctx.t("kb.used", answer=link.answer, version=link.version, call=call_id)
    return JSONResponse({"ok": True, "message": message})
