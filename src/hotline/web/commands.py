"""Send a command to the running controller on behalf of the signed-in user.

verb = agent_verb(form)                          # login, logout, pause, unpause
return await issue(ctx, verb, agent.ext, reason="meal")   # the controller's reply (JSON)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.responses import JSONResponse, Response

from hotline.commands import bus
from hotline.commands.plan import AGENT_VERBS, Command, Verb
from hotline.web import i18n
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest, Unavailable

AGENT_ACTIONS = {v.value: v for v in AGENT_VERBS}
"""A form's ``action`` on an agent's queue membership, by the verb's name."""


def agent_verb(form: Mapping[str, str]) -> Verb:
    verb = AGENT_ACTIONS.get(form.get("action", ""))
    if verb is None:
        raise BadRequest(f"unknown action {form.get('action')!r}")
    return verb


async def issue(
    ctx: SignedIn,
    verb: Verb,
    agent: str = "",
    *,
    reason: str | None = None,
    supervisor: bool = False,
    alert: str = "",
    comment: str = "",
    notice: str = "",
    mode: str = "",
    phone: str = "",
    task: str = "",
    call: str = "",
    target: str = "",
) -> Response:
    """Send ``verb`` (see :class:`hotline.commands.plan.Command`) as the signed-in user, now; the
    controller's reply as JSON (409 when it refused)."""
    command = Command(
        uuid.uuid4().hex,
        verb,
        agent,
        ctx.user.username,
        reason=reason,
        supervisor=supervisor,
        issued_at=ctx.app.clock(),
        alert=alert,
        comment=comment,
        notice=notice,
        mode=mode,
        phone=phone,
        task=task,
        call=call,
        target=target,
    )
    try:
        reply = await bus.send(ctx.app.redis, command, timeout=ctx.app.command_timeout)
    except bus.NoController as exc:
        raise Unavailable(ctx.t("no_controller")) from exc
    shown = i18n.reply_text(reply.key, reply.details, ctx.lang) if reply.key else None
    message = shown if shown is not None else reply.message
    return JSONResponse({"ok": reply.ok, "message": message}, 200 if reply.ok else 409)
