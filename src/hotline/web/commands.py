"""Send a command to the running controller on behalf of a signed-in user."""

from __future__ import annotations

import uuid

from starlette.responses import JSONResponse

from hotline import bus
from hotline.commands import Command
from hotline.web.context import Ctx
from hotline.web.errors import Unavailable


async def send(ctx: Ctx, command: Command) -> bus.Reply:
    try:
        return await bus.send(ctx.app.redis, command, timeout=ctx.app.command_timeout)
    except bus.NoController as exc:
        raise Unavailable(ctx.t("no_controller")) from exc


def new_id() -> str:
    return uuid.uuid4().hex


def reply_json(reply: bus.Reply) -> JSONResponse:
    return JSONResponse({"ok": reply.ok, "message": reply.message}, 200 if reply.ok else 409)
