"""Signing in and out, the home page by role, the language switch."""

from __future__ import annotations

import re
import secrets

from starlette.responses import RedirectResponse, Response

from hotline.web import i18n
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import BadRequest
from hotline.web.guard import LOGIN_COOKIE, SESSION_COOKIE, csrf_ok, same_origin, set_cookie
from hotline.web.logins import LoginThrottle
from hotline.web.roles import Role
from hotline.web.throttle import login_keys

LOCAL_PATH = re.compile(r"/(?:[a-z]+(?:/[a-z]+)*)?")
HOME = {
    Role.SUPERVISOR: "/wallboard",
    Role.AGENT: "/me",
    Role.AUDITOR: "/audit/search",
    Role.ADMIN: "/admin/users",
    Role.DEPARTMENT: "/department",
}


async def home(ctx: SignedIn) -> Response:
    return RedirectResponse(HOME[ctx.role], 303)


def _login_page(ctx: Ctx, status: int = 200, error: str = "", username: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = ctx.render("login.html", status, login_csrf=token, error=error, username=username)
    set_cookie(response, ctx.request, ctx.app, LOGIN_COOKIE, token, max_age=3600)
    return response


async def login_form(ctx: Ctx) -> Response:
    if ctx.session is not None:
        return RedirectResponse(HOME[ctx.session.user.role], 303)
    return _login_page(ctx)


async def login(ctx: Ctx) -> Response:
    form = await ctx.form()
    expected = ctx.request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(ctx.request) or not csrf_ok(form.get("login_csrf", ""), expected):
        return _login_page(ctx, 403, ctx.t("login.expired"))
    username = form.get("username", "").strip().lower()
    password = form.get("password", "")
    now = ctx.app.clock()
    client = ctx.request.client.host if ctx.request.client else "?"
    keys = login_keys(username, client)
    throttle = LoginThrottle(ctx.app.redis, ctx.app.throttle)
    wait = await throttle.wait_ms(keys, now)
    if wait:
        seconds = -(-wait // 1000)
        return _login_page(ctx, 429, ctx.t("login.throttled", seconds=seconds), username)
    user = ctx.app.accounts.verify(username, password) if username and password else None
    if user is None:
        await throttle.failed(keys, now)
        return _login_page(ctx, 401, ctx.t("login.wrong"), username)
    await throttle.cleared(keys[:1])  # the address keeps the failures of other names
    token, _ = ctx.app.accounts.start_session(user, now=now, lang=ctx.lang)
    response = RedirectResponse("/password" if user.must_change else HOME[user.role], 303)
    set_cookie(response, ctx.request, ctx.app, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(ctx: SignedIn) -> Response:
    ctx.app.accounts.end_session(ctx.token)
    return signed_out()


def signed_out() -> Response:
    """To the login page, the session cookie gone (its session has ended)."""
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def set_lang(ctx: SignedIn) -> Response:
    lang = (await ctx.form()).get("lang", "")
    if lang not in i18n.LANGS:
        raise BadRequest(f"unknown language {lang!r} (one of {', '.join(i18n.LANGS)})")
    ctx.app.accounts.update_session(ctx.token, ctx.session, lang=lang)
    back = (await ctx.form()).get("back", "")
    # back to the page it came from, on this site only (never an open redirect)
    return RedirectResponse(back if LOCAL_PATH.fullmatch(back) else "/", 303)
