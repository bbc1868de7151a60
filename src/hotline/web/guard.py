"""Every request passes here: the session, the route's access, CSRF, security headers.

    endpoint = guarded(handler, Access.of(Role.SUPERVISOR), services)

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

from hotline.web.context import Ctx, Services
from hotline.web.errors import HTTP_STATUS, Forbidden, WebError
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

Handler = Callable[[Ctx], Awaitable[Response]]
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


# what a session whose password someone else set may do: change it, leave, switch language
MAY_BEFORE_CHANGE = frozenset({"password_form", "password", "logout", "lang", "static"})


def guarded(
    handler: Handler, access: Access, services: Services, *, name: str = ""
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of route NAME: who may use it (ACCESS), CSRF, a forced password change,
    errors as pages, security headers."""

    async def endpoint(request: Request) -> Response:
        tls = is_tls(request, services)
        token = request.cookies.get(SESSION_COOKIE, "")
        session = services.accounts.session(token, now=services.clock()) if token else None
        ctx = Ctx(request, services, session, token if session else "")
        if not access.allows(session.user if session else None):
            refusal: Response
            if session is not None:
                refusal = denied(ctx.render("error.html", 403, message=ctx.t("forbidden")), "role")
            elif request.method in SAFE_METHODS and "text/html" in request.headers.get(
                "accept", ""
            ):
                refusal = denied(RedirectResponse("/login", 303), "anonymous")
            else:
                refusal = denied(PlainTextResponse("sign in first", 401), "anonymous")
            return secure_headers(refusal, tls=tls)
        if session is not None and session.user.must_change and name not in MAY_BEFORE_CHANGE:
            # a password someone else set: nothing but changing it (or leaving) until then
            moved: Response = RedirectResponse("/password", 303)
            if request.method not in SAFE_METHODS or "text/html" not in request.headers.get(
                "accept", ""
            ):
                moved = PlainTextResponse("change your password first: /password", 403)
            return secure_headers(denied(moved, "must_change"), tls=tls)
        if request.method not in SAFE_METHODS and not access.public:
            if not same_origin(request):
                refused = PlainTextResponse("cross-site request refused", 403)
                return secure_headers(denied(refused, "origin"), tls=tls)
            given = request.headers.get("x-csrf-token", "")
            if not given:
                try:
                    given = (await ctx.form()).get("csrf", "")
                except WebError:
                    given = ""
            if session is None or not csrf_ok(given, session.csrf):
                refused = PlainTextResponse("CSRF token missing or wrong", 403)
                return secure_headers(denied(refused, "csrf"), tls=tls)
        try:
            response = await handler(ctx)
        except WebError as exc:
            status = HTTP_STATUS[exc.error_id]
            if "text/html" in request.headers.get("accept", ""):
                response = ctx.render("error.html", status, message=str(exc))
            else:
                response = PlainTextResponse(str(exc), status)
            if isinstance(exc, Forbidden):
                denied(response, "forbidden")
        return secure_headers(response, tls=tls)

    return endpoint
