"""The route table's kinds of handler: a signed-in handler only where a session is sure,
and the guard handing it the SignedIn it declares (never a context without a session)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hotline.web import ops, pages_auth, pages_board
from hotline.web.accounts import Accounts
from hotline.web.app import templates
from hotline.web.context import Ctx, Services, SignedIn
from hotline.web.guard import SESSION_COOKIE, answer, guarded
from hotline.web.kinds import ForAnyone, ForSignedIn, RouteError
from hotline.web.roles import ANY_USER, PUBLIC, SIGNED, Access, Role, Scope
from hotline.web.routes import ROUTES, anyone, signed_in

SUPERVISORS = Access.of(Role.SUPERVISOR)
NOW = 1_700_000_000_000


def test_a_signed_in_handler_cannot_be_registered_as_public() -> None:
    with pytest.raises(RouteError, match="takes SignedIn, but is given a Ctx"):
        anyone("/x", "GET", pages_board.wallboard, PUBLIC, "x")  # mypy refuses it too


@pytest.mark.parametrize("access", [PUBLIC, SIGNED])
def test_a_signed_in_route_needs_an_access_that_needs_a_session(access: Access) -> None:
    with pytest.raises(RouteError, match=r"so it is anyone\(\.\.\.\)"):
        signed_in("/x", "GET", pages_board.wallboard, access, "x")


def test_a_route_only_sessions_may_use_hands_its_handler_a_signed_in() -> None:
    with pytest.raises(RouteError, match=r"so it is signed_in\(\.\.\.\)"):
        anyone("/x", "GET", ops.healthz, SUPERVISORS, "x")


def test_a_handler_must_say_what_it_takes() -> None:
    async def untyped(ctx):  # type: ignore[no-untyped-def]
        return PlainTextResponse("")

    with pytest.raises(RouteError, match="takes None"):
        anyone("/x", "GET", untyped, PUBLIC, "x")


def test_a_handler_taking_any_context_may_serve_signed_in_users() -> None:
    route = signed_in("/x", "GET", ops.healthz, SUPERVISORS, "x")
    assert isinstance(route.handler, ForSignedIn)


def test_the_table_hands_a_signed_in_to_exactly_the_routes_for_roles() -> None:
    for route in ROUTES:
        assert isinstance(route.handler, ForSignedIn) == route.access.needs_session, route.name
    kinds = {r.name for r in ROUTES if isinstance(r.handler, ForAnyone)}
    assert kinds == {"healthz", "login_form", "login", "static", "metrics", "stt_leg",
                     "stt_transcript", "stt_alert"}  # fmt: skip


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """What the guard uses of the services: the accounts, the clock, the templates."""
    accounts = Accounts.open(tmp_path / "web.sqlite3")
    accounts.add("banzhang", "a long password", Role.SUPERVISOR, now=NOW, scope=Scope({"a"}))
    fake = SimpleNamespace(
        accounts=accounts, clock=lambda: NOW, secure_cookies=False, templates=templates()
    )
    return cast(Services, fake)


def request(token: str = "", accept: str = "text/html") -> Request:
    headers = [(b"host", b"testserver"), (b"accept", accept.encode())]
    if token:
        headers.append((b"cookie", f"{SESSION_COOKIE}={token}".encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "headers": headers,
        "query_string": b"",
        "scheme": "http",
        "server": ("testserver", 80),
    }
    return Request(scope)


def sign_in(services: Services) -> str:
    user = services.accounts.verify("banzhang", "a long password")
    assert user is not None
    token, _ = services.accounts.start_session(user, now=NOW)
    return token


class Seen:
    """A handler that keeps the context it was given."""

    def __init__(self) -> None:
        self.given: list[Ctx] = []

    async def signed_in(self, ctx: SignedIn) -> Response:
        self.given.append(ctx)
        return PlainTextResponse(ctx.user.username)

    async def anyone(self, ctx: Ctx) -> Response:
        self.given.append(ctx)
        return PlainTextResponse("ok")


def test_the_guard_hands_a_signed_in_handler_the_session_it_found(services: Services) -> None:
    seen = Seen()
    endpoint = guarded(ForSignedIn(seen.signed_in), SUPERVISORS, services, name="x")
    response = asyncio.run(endpoint(request(sign_in(services))))
    assert response.status_code == 200
    [ctx] = seen.given
    assert isinstance(ctx, SignedIn)
    assert (ctx.user.username, ctx.role, ctx.scope) == ("banzhang", Role.SUPERVISOR, Scope({"a"}))


def test_the_guard_never_runs_a_signed_in_handler_without_a_session(services: Services) -> None:
    seen = Seen()
    endpoint = guarded(ForSignedIn(seen.signed_in), ANY_USER, services, name="x")
    page = asyncio.run(endpoint(request("not-a-session")))
    script = asyncio.run(endpoint(request(accept="application/json")))
    assert (page.status_code, page.headers["location"]) == (303, "/login")
    assert script.status_code == 401
    assert seen.given == []


def test_a_signed_in_handler_given_no_session_answers_as_to_anyone_signed_out(
    services: Services,
) -> None:
    """Were the access of its route ever to let a visitor without a session through."""
    seen = Seen()
    response = asyncio.run(answer(ForSignedIn(seen.signed_in), Ctx(request(), services, None)))
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert seen.given == []


def test_a_public_handler_gets_the_session_when_there_is_one(services: Services) -> None:
    seen = Seen()
    endpoint = guarded(ForAnyone(seen.anyone), PUBLIC, services, name="x")
    asyncio.run(endpoint(request()))
    asyncio.run(endpoint(request(sign_in(services))))
    signed_out, signed = seen.given
    assert signed_out.session is None
    assert signed.session is not None
    assert signed.session.user.username == "banzhang"


def test_the_login_page_sends_a_signed_in_user_home(services: Services) -> None:
    endpoint = guarded(ForAnyone(pages_auth.login_form), PUBLIC, services, name="login_form")
    response = asyncio.run(endpoint(request(sign_in(services))))
    assert (response.status_code, response.headers["location"]) == (303, "/wallboard")
