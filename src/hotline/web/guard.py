"""Every request passes here: the session, the route's access, CSRF, security headers.

    endpoint = guarded(ForSignedIn(handler), Access.of(Role.SUPERVISOR), services)

- the session comes from the ``hotline_session`` cookie (HttpOnly, SameSite=Strict,
  Secure behind TLS), looked up by the SHA-256 of its token;
- a route the user may not use answers 403; without a session a page redirects to
  /login and anything else answers 401;
- every method but GET/HEAD needs the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``) and, when the browser sends one, an Origin of this site;
- every answer carries a strict Content-Security-Policy (no inline script), no-store and
  same-origin referrers, so nothing personal is cached or leaks to another site.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from hotline.web.context import Ctx, Services, SignedIn
from hotline.web.errors import HTTP_STATUS, Forbidden, Unauthorized, WebError
from hotline.web.kinds import ForAnyone, Handler
from hotline.web.roles import Access

log = logging.getLogger(__name__)

SESSION_COOKIE = "hotline_session"
LOGIN_COOKIE = "hotline_login"  # the login form's CSRF token, before there is a session
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make Chrome send Origin: null
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


DENIED = "X-Hotline-Denied"
"""Set on every refusal of access (anonymous, role, csrf, origin, forbidden): the tests'
authorization matrix tells a refusal from a handler's own 401/403 by it."""


def denied(response: Response, why: str) -> Response:
    response.headers[DENIED] = why
    return response


def secure_headers(response: Response, *, tls: bool) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if tls:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def is_tls(request: Request, services: Services) -> bool:
    return services.secure_cookies or request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    services: Services,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_tls(request, services),
    )


def same_origin(request: Request) -> bool:
    """An Origin (or, failing that, Referer) header, when present, names this site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", request.url.netloc)


def csrf_ok(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer_ok(request: Request, token: str | None) -> bool:
    """The request carries ``Authorization: Bearer TOKEN`` (compared in constant time); a
    centre with no TOKEN set takes none."""
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


# what a session whose password someone else set may do: change it, leave, switch language
MAY_BEFORE_CHANGE = frozenset({"password_form", "password", "logout", "lang", "static"})


def wants_html(request: Request) -> bool:
    """A browser's request (an error is shown to it as a page), not a script's."""
    return "text/html" in request.headers.get("accept", "")


def wants_page(request: Request) -> bool:
    """A browser asking for a page (a refusal redirects it), not a script or a form post."""
    return request.method in SAFE_METHODS and wants_html(request)


def anonymous(request: Request) -> Response:
    """The refusal of a request without a session: a page goes to /login, the rest 401."""
    if wants_page(request):
        return denied(RedirectResponse("/login", 303), "anonymous")
    return denied(PlainTextResponse("sign in first", 401), "anonymous")


def context(request: Request, services: Services) -> Ctx:
    """The request's context: a :class:`SignedIn` when its cookie names a live session."""
    token = request.cookies.get(SESSION_COOKIE, "")
    session = services.accounts.session(token, now=services.clock()) if token else None
    if session is None:
        return Ctx(request, services, None)
    return SignedIn(request, services, session, token)


async def refusal(ctx: Ctx, access: Access, name: str) -> Response | None:
    """Why the request may not reach the handler of route NAME, as the answer; None if it
    may: ACCESS, a forced password change, the origin and the CSRF token."""
    request, session = ctx.request, ctx.session
    if not access.allows(session.user if session else None):
        if session is None:
            return anonymous(request)
        return denied(ctx.render("error.html", 403, message=ctx.t("forbidden")), "role")
    if session is not None and session.user.must_change and name not in MAY_BEFORE_CHANGE:
        # a password someone else set: nothing but changing it (or leaving) until then
        if wants_page(request):
            return denied(RedirectResponse("/password", 303), "must_change")
        moved = PlainTextResponse("change your password first: /password", 403)
        return denied(moved, "must_change")
    # a request that signs itself and has no session (a worker's token) is no browser's:
    # CSRF is about cookies a browser sends on its own
    self_signed = access.signed and session is None
    if request.method not in SAFE_METHODS and not access.public and not self_signed:
        if not same_origin(request):
            return denied(PlainTextResponse("cross-site request refused", 403), "origin")
        given = request.headers.get("x-csrf-token", "")
        if not given:
            try:
                given = (await ctx.form()).get("csrf", "")
            except WebError:
                given = ""
        if session is None or not csrf_ok(given, session.csrf):
            return denied(PlainTextResponse("CSRF token missing or wrong", 403), "csrf")
    return None


async def answer(handler: Handler, ctx: Ctx) -> Response:
    """The handler's answer, given the context of its kind (a signed-in handler never
    runs without a session: the route's access refused that already)."""
    if isinstance(handler, ForAnyone):
        return await handler.run(ctx)
    if not isinstance(ctx, SignedIn):
        return anonymous(ctx.request)
    return await handler.run(ctx)


def guarded(
    handler: Handler, access: Access, services: Services, *, name: str = ""
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of route NAME: who may use it (ACCESS), CSRF, a forced password change,
    errors as pages, security headers."""

    async def endpoint(request: Request) -> Response:
        tls = is_tls(request, services)
        ctx = context(request, services)
        refused = await refusal(ctx, access, name)
        if refused is not None:
            return secure_headers(refused, tls=tls)
        try:
            response = await answer(handler, ctx)
        except WebError as exc:
            status = HTTP_STATUS[exc.error_id]
            if wants_html(request):
                response = ctx.render("error.html", status, message=str(exc))
            else:
                response = PlainTextResponse(str(exc), status)
            if isinstance(exc, Forbidden):
                denied(response, "forbidden")
            elif isinstance(exc, Unauthorized):
                response.headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
                denied(response, "unauthorized")
        return secure_headers(response, tls=tls)

    return endpoint
