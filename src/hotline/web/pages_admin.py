"""Accounts, for admins: list, add, disable/enable, reset a password, grant unmasking (with
a second administrator's approval); and anyone's own password. Every change is logged
(hotline.web.admin)."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from hotline.web.admin import AccountAdmin, Actor, Approver
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import AccountError, BadRequest
from hotline.web.pages_auth import signed_out
from hotline.web.roles import Role, Scope


def admin_of(ctx: Ctx) -> AccountAdmin:
    return AccountAdmin(ctx.app.accounts, ctx.app.access_log, ctx.app.clock)


def actor(ctx: SignedIn) -> Actor:
    return Actor(ctx.user.username, ctx.role.value)


def _approver(form: dict[str, str]) -> Approver | None:
    name = form.get("approver", "").strip().lower()
    return Approver(name, form.get("approver_password", "")) if name else None


async def password_form(ctx: SignedIn, error: str = "", status: int = 200) -> Response:
    return ctx.render("password.html", status, error=error, forced=ctx.user.must_change)


async def change_password(ctx: SignedIn) -> Response:
    """Anyone's own password; the way out of a password someone else set."""
    form = await ctx.form()
    try:
        admin_of(ctx).change_own_password(ctx.user, form.get("old", ""), form.get("new", ""))
    except AccountError as exc:
        return await password_form(ctx, str(exc), 400)
    return signed_out()  # the change ended every session: sign in again with the new one


def _split(value: str) -> frozenset[str]:
    return frozenset(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


async def users(ctx: SignedIn, error: str = "", status: int = 200) -> Response:
    return ctx.render(
        "users.html",
        status,
        users=ctx.app.accounts.users(),
        roles=list(Role),
        teams=ctx.app.center.teams,
        error=error,
    )


async def add_user(ctx: SignedIn) -> Response:
    form = await ctx.form()
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        raise BadRequest(f"unknown role {form.get('role')!r}") from None
    scope = Scope(
        _split(form.get("teams", "")), _split(form.get("queues", "")), form.get("all") == "1"
    )
    try:
        admin_of(ctx).add(
            form.get("username", "").strip().lower(),
            form.get("password", ""),
            role,
            by=actor(ctx),
            scope=scope,
            agent=form.get("agent", "").strip(),
            can_unmask=form.get("can_unmask") == "1",
            approver=_approver(form),
        )
    except AccountError as exc:
        return await users(ctx, str(exc), 400)
    return RedirectResponse("/admin/users", 303)


async def change_user(ctx: SignedIn) -> Response:
    """``action``: disable, enable, or password (with ``password``)."""
    form = await ctx.form()
    name, action = form.get("username", ""), form.get("action", "")
    admin, by = admin_of(ctx), actor(ctx)
    try:
        if action in ("disable", "enable"):
            if name == ctx.user.username:
                raise AccountError(ctx.t("admin.not_self"))
            admin.set_disabled(name, action == "disable", by=by)
        elif action == "password":
            admin.reset_password(name, form.get("password", ""), by=by)
        elif action in ("grant_unmask", "revoke_unmask"):
            grant = action == "grant_unmask"
            admin.set_can_unmask(name, grant, by=by, approver=_approver(form) if grant else None)
        else:
            raise BadRequest(f"unknown action {action!r}")
    except AccountError as exc:
        return await users(ctx, str(exc), 400)
    return RedirectResponse("/admin/users", 303)


async def access_log(ctx: SignedIn) -> Response:
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
