"""Accounts, for admins: list, add, disable/enable, set a password."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from hotline.web.context import Ctx
from hotline.web.errors import AccountError, BadRequest
from hotline.web.roles import Role, Scope


def _split(value: str) -> frozenset[str]:
    return frozenset(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


async def users(ctx: Ctx, error: str = "", status: int = 200) -> Response:
    return ctx.render(
        "users.html",
        status,
        users=ctx.app.accounts.users(),
        roles=list(Role),
        teams=ctx.app.center.teams,
        error=error,
    )


async def add_user(ctx: Ctx) -> Response:
    form = await ctx.form()
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        raise BadRequest(f"unknown role {form.get('role')!r}") from None
    scope = Scope(
        _split(form.get("teams", "")), _split(form.get("queues", "")), form.get("all") == "1"
    )
    try:
        ctx.app.accounts.add(
            form.get("username", "").strip().lower(),
            form.get("password", ""),
            role,
            now=ctx.app.clock(),
            scope=scope,
            agent=form.get("agent", "").strip(),
            can_unmask=form.get("can_unmask") == "1",
        )
    except AccountError as exc:
        return await users(ctx, str(exc), 400)
    return RedirectResponse("/admin/users", 303)


async def change_user(ctx: Ctx) -> Response:
    """``action``: disable, enable, or password (with ``password``)."""
    assert ctx.session is not None
    form = await ctx.form()
    name, action = form.get("username", ""), form.get("action", "")
    try:
        if action in ("disable", "enable"):
            if name == ctx.session.user.username:
                raise AccountError(ctx.t("admin.not_self"))
            ctx.app.accounts.set_disabled(name, action == "disable")
        elif action == "password":
            ctx.app.accounts.set_password(name, form.get("password", ""), now=ctx.app.clock())
        else:
            raise BadRequest(f"unknown action {action!r}")
    except AccountError as exc:
        return await users(ctx, str(exc), 400)
    return RedirectResponse("/admin/users", 303)


async def access_log(ctx: Ctx) -> Response:
    """The access log, 100 entries a page (newest page first), and whether its chain holds."""
    log = ctx.app.access_log
    try:
        page = max(0, int(ctx.query().get("page") or 0))
    except ValueError:
        raise BadRequest("page: a number") from None
    head = log.head()
    pages = -(-(head[0] if head else 0) // 100)
    shown = max(0, pages - 1 - page)
    entries = log.entries(limit=100, offset=shown * 100)
    return ctx.render(
        "access.html",
        entries=list(reversed(entries)),
        broken=log.verify(),
        head=head,
        page=page,
        pages=pages,
    )
