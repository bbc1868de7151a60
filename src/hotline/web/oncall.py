"""The call an agent is on, as the live feed has it: the order form links an order to it.

    call = await current(ctx, agent_doc)        # {"id": ..., "caller": "138****5678"} or {}
    phone = await linked_call(ctx, call_id)     # the caller's number; an agent's own call only
    targets = transfer_targets(ctx, but="1001") # where a call can be transferred to

The caller's number is read from the live call on the server, never taken from the
browser, and shown masked.
"""

from __future__ import annotations

from typing import Any

from hotline.transcripts.redact import mask_phone
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import Forbidden
from hotline.web.roles import Role

ON_A_CALL = ("talking", "wrap_up")


async def _docs(ctx: SignedIn) -> dict[str, dict[str, Any]]:
    state = await ctx.app.hub.state(timeout=2.0)
    return state.docs if state is not None else {}


def _call_id(doc: dict[str, Any] | None) -> str:
    if not doc or doc.get("status") not in ON_A_CALL:
        return ""
    return str(doc.get("call_id") or "")


async def caller_of(ctx: SignedIn, call_id: str) -> str:
    """The caller's number on the live call CALL_ID ("" when it is not live)."""
    if not call_id:
        return ""
    doc = (await _docs(ctx)).get("call", {}).get(call_id)
    return str(doc.get("caller") or "") if isinstance(doc, dict) else ""


async def current(ctx: SignedIn, doc: dict[str, Any] | None) -> dict[str, str]:
    """The call of the agent whose live doc is DOC: its id and the caller masked ({}: none)."""
    call_id = _call_id(doc)
    if not call_id:
        return {}
    return {"id": call_id, "caller": mask_phone(await caller_of(ctx, call_id))}


def transfer_targets(ctx: Ctx, *, but: str = "") -> list[tuple[str, str]]:
    """Where a call can be transferred to, as (value, label): the flow's queues, the agents
    (but the one of extension BUT: her own call), the departments with a duty number."""
    center, flow = ctx.app.center, ctx.app.flow
    queues = (
        [(q, f"{ctx.t('transfer.queue')} {spec.label}") for q, spec in sorted(flow.queues.items())]
        if flow
        else []
    )
    agents = [(a.ext, f"{ctx.t('transfer.agent')} {a.name} {a.ext}")
              for a in center.agents.values() if a.ext != but]  # fmt: skip
    depts = [(d.code, f"{ctx.t('transfer.department')} {d.name}")
             for d in center.orders.departments.values() if d.phone]  # fmt: skip
    return queues + agents + depts


async def agent_call(ctx: SignedIn, name: str) -> str:
    """The id of the call agent NAME is on (talking or in wrap-up) as the live feed has
    it; "" when none."""
    return _call_id((await _docs(ctx)).get("agent", {}).get(name))


async def linked_call(ctx: SignedIn, call_id: str) -> str:
    """The caller's number for an order linked to CALL_ID. An agent links only the call
    they are on (or just finished: wrap-up); the centre any call."""
    if not call_id:
        return ""
    if ctx.role is Role.AGENT:
        agent = ctx.app.center.agent(ctx.user.agent)
        doc = (await _docs(ctx)).get("agent", {}).get(agent.name) if agent else None
        if _call_id(doc) != call_id:
            raise Forbidden(f"call {call_id[:64]!r} is not the call you are on")
    return await caller_of(ctx, call_id)
