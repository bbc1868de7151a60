"""The web app in process (httpx's ASGI transport) on the real Redis and SQLite: every
route for every role, sessions, CSRF, throttling, paths, the live wallboard, commands."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2 as httpx
import pytest
import pytest_asyncio
from starlette.routing import compile_path
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from hotline.commands.bus import Inbox, Reply
from hotline.commands.plan import Command, Verb
from hotline.core.records import CallRecord, EndReason, QueueVisit
from hotline.host.settings import Settings
from hotline.metrics.changes import param_change
from hotline.metrics.formulas import REVISION
from hotline.metrics.params import Params
from hotline.recordings.leg import Leg, Recording
from hotline.stores import streams
from hotline.stores.access import AccessLog
from hotline.stores.keys import KEYS
from hotline.stores.live import Change
from hotline.stores.metrics import MetricsStore
from hotline.web.context import FORM_TYPE as FORM
from hotline.web.errors import IntegrityFailure, NotFound
from hotline.web.guard import CSP, DENIED, SESSION_COOKIE
from hotline.web.media import verified
from hotline.web.pages_board import day_start
from hotline.web.roles import ROLES, Role, Scope
from hotline.web.routes import ROUTES, TWILIO, Route
from tests.integration.webapp import (
    BASE,
    BY_ROLE,
    PASSWORD,
    Web,
    close_web,
    csrf,
    first_events,
    login,
    make_web,
    session_cookie,
)

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def web(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[Web]:
    app = await make_web(
        settings, tmp_path / "web.sqlite3", redis_url, twilio_token="twilio-test-token"
    )
    await app.services.redis.flushdb()
    yield app
    await close_web(app)


def concrete(route: Route) -> str:
    """The route's path with a value for each parameter."""
    return (
        re.sub(r"\{[^}]+\}", "app.css", route.path)
        if route.path == "/static/{name}"
        else (re.sub(r"\{[^}]+\}", "x", route.path))
    )


def expected_ok(route: Route, role: Role | None) -> bool:
    """What the table says: public, or a role it names (a signed route without its
    signature admits only the roles it names)."""
    return route.access.public or (role is not None and role in route.access.roles)


async def status_of(
    web: Web, client: httpx.AsyncClient, route: Route, role: Role | None
) -> tuple[int, str]:
    """Use ``route`` as ``role`` would, with valid CSRF tokens (authorization alone decides):
    the status and why access was denied ("" if it was not)."""
    path = concrete(route) + ("/voice" if route.mount else "")
    if route.stream and role is not None and expected_ok(route, role):
        status, _ = await first_events(web, path, await session_cookie(client), 1)
        return status, ""
    if route.methods[0] == "GET":
        response = await client.get(path, headers={"accept": "text/html"})
        return response.status_code, response.headers.get(DENIED, "")
    form = {"csrf": await csrf(client) if role is not None else ""}
    if role is None:  # the login form's own token
        page = await client.get("/login")
        form["login_csrf"] = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = await client.post(path, data=form, headers={"accept": "application/json"})
    return response.status_code, response.headers.get(DENIED, "")


async def test_authorization_matrix(web: Web) -> None:
    """Generated from the route table: every route × every role, anonymous included."""
    async with Controller(web):  # commands the routes send get their answer at once
        failures, checked = await check_matrix(web)
    assert failures == [], "\n".join(failures)
    assert checked == (len(ROUTES) + 1) * (len(ROLES) + 1)


async def check_matrix(web: Web) -> tuple[list[str], int]:
    failures: list[str] = []
    checked = 0
    for role in (None, *ROLES):
        async with web.signed_in(BY_ROLE[role] if role else None) as client:
            # signing out last: the client's session serves every other route first
            for route in sorted((*ROUTES, TWILIO), key=lambda r: r.name == "logout"):
                status, why = await status_of(web, client, route, role)
                checked += 1
                who = role.value if role else "anonymous"
                if route.mount:  # Twilio's own signature check: nobody here has one
                    if status != 403:
                        failures.append(f"{route.name} let {who} in unsigned: {status}")
                elif expected_ok(route, role):
                    if why:
                        failures.append(f"{route.name} refused {who}: {status} {why}")
                elif not why or status not in ((303, 401, 403) if role is None else (403,)):
                    failures.append(f"{route.name} let {who} in: {status}")
    return failures, checked


async def test_every_route_declares_its_access() -> None:
    for route in (*ROUTES, TWILIO):
        access = route.access
        assert access.public or access.signed or access.roles, route.path
    public = {r.path for r in ROUTES if r.access.public}
    assert public == {"/healthz", "/login", "/static/{name}"}
    assert all(compile_path(r.path) for r in ROUTES)


async def test_anonymous_pages_redirect_to_login(web: Web) -> None:
    async with web.client() as client:
        page = await client.get("/wallboard", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/login"
        api = await client.get("/api/live")
        assert api.status_code == 401


async def test_login_sets_a_locked_down_session_cookie(web: Web) -> None:
    async with web.client() as client:
        response = await login(client, "banzhang01", PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == "/wallboard"
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
        )
        lowered = cookie.lower()
        assert "httponly" in lowered
        assert "samesite=strict" in lowered
        assert "secure" not in lowered  # plain http in this test
        page = await client.get("/wallboard")
        assert page.status_code == 200
        assert '<meta charset="utf-8">' in page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["content-security-policy"] == CSP
        assert page.headers["cache-control"] == "no-store"
        assert "监控大屏" in page.text


async def test_behind_tls_the_cookie_is_secure(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    web = await make_web(settings, tmp_path / "tls.sqlite3", redis_url, web_secure=True)
    try:
        async with web.client("https://hotline.test") as client:
            response = await login(client, "admin", PASSWORD)
            cookie = next(
                h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
            )
            assert "secure" in cookie.lower()
            assert response.headers["strict-transport-security"].startswith("max-age=")
    finally:
        await close_web(web)


async def test_wrong_passwords_are_throttled(web: Web) -> None:
    async with web.client() as client:
        for _ in range(5):
            wrong = await login(client, "banzhang01", "not the password")
            assert wrong.status_code == 401
            assert "用户名或密码错误" in wrong.text
        locked = await login(client, "banzhang01", PASSWORD)  # even the right one, now
        assert locked.status_code == 429
        assert "秒后再试" in locked.text
        unknown = await login(client, "nobody", "whatever it is")
        assert unknown.status_code == 429  # the address is locked too


def from_address(web: Web, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def test_a_stranger_s_failures_lock_no_one_else_out(
    web: Web, settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    """Failures lock the name from that address and the address, not the name everywhere
    (anyone could lock the supervisors out), and every web process sees the lock (Redis)."""
    async with from_address(web, "10.9.8.7") as stranger:
        for _ in range(6):
            await login(stranger, "banzhang01", "a guess")
        assert (await login(stranger, "banzhang01", PASSWORD)).status_code == 429
    async with from_address(web, "10.1.2.3") as desk:
        assert (await login(desk, "banzhang01", PASSWORD)).status_code == 303
    other = await make_web(settings, tmp_path / "other.sqlite3", redis_url)  # a second process
    try:
        async with from_address(other, "10.9.8.7") as stranger:
            locked = await login(stranger, "admin", PASSWORD)
            assert locked.status_code == 429  # the address is locked there too
    finally:
        await close_web(other)


async def test_logout_and_disable_end_sessions(web: Web) -> None:
    async with web.signed_in("banzhang01") as client:
        token = await csrf(client)
        assert (await client.post("/logout", data={"csrf": token})).status_code == 303
        assert (await client.get("/api/live")).status_code == 401
    async with web.signed_in("banzhang01") as client:
        assert (await client.get("/api/live")).status_code == 200
        web.services.accounts.set_disabled("banzhang01")
        assert (await client.get("/api/live")).status_code == 401
        again = await login(client, "banzhang01", PASSWORD)
        assert again.status_code == 401


async def test_state_changes_need_the_csrf_token(web: Web) -> None:
    async with web.signed_in("banzhang01") as client, web.signed_in("admin") as other:
        mine, theirs = await csrf(client), await csrf(other)
        form = {"agent": "1001", "action": "pause"}
        for data, headers in (
            (form, {}),  # none
            ({**form, "csrf": "forged"}, {}),
            ({**form, "csrf": theirs}, {}),  # another session's
            ({**form, "csrf": mine}, {"origin": "https://evil.example"}),  # cross-site
        ):
            response = await client.post("/supervisor/agent", data=data, headers=headers)
            assert response.status_code == 403, data
        wrong_header = await client.post(
            "/supervisor/agent", data=form, headers={"x-csrf-token": theirs}
        )
        assert wrong_header.status_code == 403
        json_body = await client.post(
            "/supervisor/agent",
            content=json.dumps(form),
            headers={"content-type": "application/json"},
        )
        assert json_body.status_code == 403
        assert await web.services.redis.xlen(KEYS.commands) == 0  # nothing reached the bus


async def test_login_needs_its_form_token(web: Web) -> None:
    async with web.client() as client:
        response = await client.post("/login", data={"username": "admin", "password": PASSWORD})
        assert response.status_code == 403
        assert SESSION_COOKIE not in client.cookies


TRAVERSALS = [
    "/static/../accounts.py",
    "/static/%2e%2e/accounts.py",
    "/static/%2e%2e%2faccounts.py",
    "/static/..%2f..%2fconfig.py",
    "/static/%252e%252e%252faccounts.py",
    "/static/%2Fetc%2Fpasswd",
    "/static//etc/passwd",
    "/static/..\\accounts.py",
    "//etc/passwd",
    "/static/app.css%00.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_path_traversal_is_refused(web: Web, path: str) -> None:
    async with web.signed_in("admin") as client:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.text
        assert "import" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_unknown_paths_get_the_security_headers(web: Web) -> None:
    async with web.client() as client:
        response = await client.get("/no/such/page")
        assert response.status_code == 404
        assert response.headers["content-security-policy"] == CSP


async def test_healthz_and_metrics(web: Web) -> None:
    await web.live.replace(
        calls={},
        agents={},
        queues={
            "intake": {
                "name": "intake",
                "waiting": [{"uniqueid": "1.1", "since": 1000, "caller": "13800000001"}],
            }
        },
    )
    async with web.client() as anonymous:
        assert (await anonymous.get("/healthz")).text == "ok"
        assert (await anonymous.get("/metrics")).status_code == 403
        no_token = await anonymous.get("/metrics", headers={"authorization": "Bearer x"})
        assert no_token.status_code == 403
    async with web.signed_in("admin") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert 'hotline_queue_waiting{queue="intake"} 1' in lines
    assert "hotline_ami_connected 0" in lines  # no controller in this test
    assert "hotline_stt_backlog 0" in lines
    for line in lines:  # the exposition format: comments or `name{labels} value`
        assert line.startswith("# ") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+", line)
    assert "13800000001" not in response.text


async def test_metrics_with_a_bearer_token(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    web = await make_web(settings, tmp_path / "m.sqlite3", redis_url, metrics_token="scrape-me")
    try:
        await web.services.redis.set(
            KEYS.controller_status,
            json.dumps({"t": 1, "ami_connected": True, "event_lag_ms": 42, "resyncs": 1,
                        "pbxs": {"pbx1": True, "pbx2": False}}),
        )  # fmt: skip
        async with web.client() as client:
            response = await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert response.status_code == 200
        assert "hotline_ami_connected 1" in response.text.splitlines()
        assert 'hotline_pbx_connected{pbx="pbx1"} 1' in response.text.splitlines()
        assert 'hotline_pbx_connected{pbx="pbx2"} 0' in response.text.splitlines()
        assert "hotline_event_lag_seconds 0.042" in response.text.splitlines()
    finally:
        await close_web(web)


async def test_today_s_figures_on_the_wallboard_and_in_metrics(web: Web) -> None:
    """/api/stats and /metrics count today's stored calls with the metrics' own report."""
    now = web.services.clock()
    t0 = max(day_start(now), now - 120_000)
    web.services.history.save_calls(
        [
            CallRecord(
                call_id="1796100000.1",
                caller="13800000001",
                t_arrival=t0,
                visits=(QueueVisit("intake", t0 + 1000, 1, t0 + 4000, "CONNECT"),),
                t_answer=t0 + 4000,  # 3 s in the queue
                agent="王芳",
                t_end=t0 + 20_000,
                end_reason=EndReason.ANSWERED,
            ),
            CallRecord(
                call_id="1796100000.2",
                caller="13800000002",
                t_arrival=t0,
                visits=(QueueVisit("intake", t0 + 1000, 1, t0 + 41_000, "ABANDON"),),
                t_end=t0 + 41_000,  # gave up after 40 s
                end_reason=EndReason.ABANDONED_IN_QUEUE,
            ),
        ]
    )
    async with web.signed_in("admin") as client:
        stats = (await client.get("/api/stats")).json()
        again = (await client.get("/api/stats")).json()
        metrics = (await client.get("/metrics")).text.splitlines()
    strict = stats["queues"]["intake"]["figures"]["sl_strict"]
    assert (strict["num"], strict["den"], strict["value"]) == (1, 2, 0.5)
    assert stats["queues"]["*"]["requests"] == 2
    assert again["queues"] == stats["queues"]
    assert 'hotline_requests_today{queue="intake"} 2' in metrics
    assert 'hotline_service_level_ratio{formula="sl_strict",queue="intake"} 0.5' in metrics


async def test_the_wallboard_counts_with_the_parameters_recorded_in_force(web: Web) -> None:
    """After ``hotline metrics params set short_abandon_s 60`` the wallboard's strict rate
    leaves the caller who gave up after 40 s out of its denominator, as the report does."""
    now = web.services.clock()
    t0 = max(day_start(now), now - 120_000)
    web.services.history.save_calls(
        [
            CallRecord(
                call_id="1796100001.1", caller="13800000001", t_arrival=t0,
                visits=(QueueVisit("intake", t0 + 1000, 1, t0 + 4000, "CONNECT"),),
                t_answer=t0 + 4000, agent="王芳", t_end=t0 + 20_000,
                end_reason=EndReason.ANSWERED,
            ),
            CallRecord(
                call_id="1796100001.2", caller="13800000002", t_arrival=t0,
                visits=(QueueVisit("intake", t0 + 1000, 1, t0 + 41_000, "ABANDON"),),
                t_end=t0 + 41_000, end_reason=EndReason.ABANDONED_IN_QUEUE,
            ),
        ]
    )  # fmt: skip
    store = MetricsStore.open(web.services.settings.db)
    try:
        store.note_registry(at=now - 1, by="hotline test")
        store.record(
            param_change(Params(), "short_abandon_s", "60", by="质检-张", why="口径调整",
                         at=now, revision=REVISION)
        )  # fmt: skip
    finally:
        store.close()
    async with web.signed_in("admin") as client:
        stats = (await client.get("/api/stats")).json()
    strict = stats["queues"]["intake"]["figures"]["sl_strict"]
    assert (strict["num"], strict["den"], strict["value"]) == (1, 1, 1.0)


def agent_doc(name: str, status: str, reason: str = "") -> dict[str, object]:
    return {
        "name": name,
        "status": status,
        "since": 1_000,
        "queues": ["intake"],
        "memberships": [{"queue": "intake", "paused": bool(reason), "reason": reason}],
    }


async def test_the_wallboard_sees_only_its_scope(web: Web) -> None:
    await web.live.replace(
        calls={"9.1": {"call_id": "9.1", "queue": "intake", "caller": "13800000001"}},
        agents={"王芳": agent_doc("王芳", "ready"), "刘洋": agent_doc("刘洋", "busy", "busy")},
        queues={
            "intake": {"name": "intake", "waiting": []},
            "environment": {"name": "environment", "waiting": []},
            "labour": {"name": "labour", "waiting": []},
        },
    )
    async with web.signed_in("banzhang01") as client:  # team-a
        live = (await client.get("/api/live")).json()
    assert set(live["docs"]["agent"]) == {"王芳"}  # 刘洋 is team-b
    assert "13800000001" not in json.dumps(live)  # no caller numbers on the wallboard
    assert set(live["docs"]["queue"]) == {"intake", "environment", "labour"}
    async with web.signed_in("admin") as client:
        assert set((await client.get("/api/live")).json()["docs"]["agent"]) == {"王芳", "刘洋"}


async def test_events_start_with_the_state_then_follow_the_feed(web: Web) -> None:
    await web.live.replace(calls={}, agents={"王芳": agent_doc("王芳", "ready")}, queues={})
    async with web.signed_in("banzhang01") as client:
        cookie = await session_cookie(client)

    async def pause_two() -> None:
        await web.live.apply(
            [
                Change("agent", "刘洋", agent_doc("刘洋", "busy", "busy")),
                Change("agent", "王芳", agent_doc("王芳", "busy", "busy")),
            ]
        )

    status, events = await first_events(web, "/events", cookie, 3, after=pause_two)
    assert status == 200
    kinds = [re.search(r"event: (\w+)", e).group(1) for e in events if "event:" in e]  # type: ignore[union-attr]
    assert kinds[:2] == ["hello", "change"]
    hello = json.loads(next(e for e in events if "event: hello" in e).split("data: ", 1)[1])
    assert set(hello["docs"]["agent"]) == {"王芳"}
    change = json.loads(next(e for e in events if "event: change" in e).split("data: ", 1)[1])
    assert change["id"] == "王芳"  # 刘洋's change (team-b) never reached this supervisor
    assert change["doc"]["status"] == "busy"
    assert change["seq"] == hello["seq"] + 2


async def _stream_while_events_flow(
    web: Web, cookie: str, change: object, seconds: float = 8.0
) -> tuple[list[str], float]:
    """The /events stream of COOKIE while an agent's doc changes every 0.2 s; CHANGE (an
    async callable) runs 0.5 s in; the events, and how long after CHANGE the stream ended."""
    flowing = True
    changed_at = 0.0

    async def pump() -> None:
        n = 0
        while flowing:
            n += 1
            status = "busy" if n % 2 else "ready"
            await web.live.apply([Change("agent", "王芳", agent_doc("王芳", status, status))])
            await asyncio.sleep(0.2)

    async def after() -> None:
        nonlocal changed_at
        asyncio.get_running_loop().create_task(pump())
        await asyncio.sleep(0.5)
        changed_at = asyncio.get_running_loop().time()
        await change()  # type: ignore[operator]

    try:
        _, events = await first_events(
            web, "/events", cookie, 100_000, seconds, after=after, for_the_whole_timeout=True
        )
    finally:
        flowing = False
    return events, asyncio.get_running_loop().time() - changed_at


async def test_a_revoked_session_loses_its_stream_while_events_flow(web: Web) -> None:
    await web.live.replace(calls={}, agents={"王芳": agent_doc("王芳", "ready")}, queues={})
    async with web.signed_in("banzhang01") as client:
        cookie = await session_cookie(client)

    async def disable() -> None:
        web.services.accounts.set_disabled("banzhang01")

    events, took = await _stream_while_events_flow(web, cookie, disable)
    assert "event: bye" in events[-1]
    assert took < 5.0, took
    assert sum("event: change" in e for e in events) >= 2  # events did flow meanwhile


async def test_a_narrowed_scope_applies_to_an_open_stream(web: Web) -> None:
    await web.live.replace(calls={}, agents={"王芳": agent_doc("王芳", "ready")}, queues={})
    async with web.signed_in("banzhang01") as client:
        cookie = await session_cookie(client)

    async def narrow() -> None:
        web.services.accounts.set_scope("banzhang01", Scope(teams=frozenset({"team-b"})))

    events, _ = await _stream_while_events_flow(web, cookie, narrow, seconds=4.0)
    hellos = [e for e in events if "event: hello" in e]
    assert len(hellos) == 2  # the state again, in the new scope
    narrowed = json.loads(hellos[1].split("data: ", 1)[1])
    assert "王芳" not in narrowed["docs"].get("agent", {})  # team-a: out of scope now
    after = events[events.index(hellos[1]) + 1 :]
    assert not any("王芳" in e for e in after if "event: change" in e)


class Controller:
    """Answers commands on the bus as the controller would (our own interface), and keeps
    what it got, so a test sees exactly what the web sent."""

    def __init__(self, web: Web) -> None:
        self.redis = web.services.redis
        self.inbox = Inbox(self.redis)
        self.got: list[Command] = []
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Controller:
        await self.inbox.start()
        self.task = asyncio.create_task(self._serve())
        return self

    async def _serve(self) -> None:
        # short reads and a flag: a cancelled XREAD BLOCK can leave redis-py hanging
        while not self.stop.is_set():
            for entry_id, raw in await streams.read(
                self.redis, KEYS.commands, self.inbox.position, block_ms=100, count=100
            ):
                self.inbox.position = entry_id
                command = Command.from_fields({k.decode(): v.decode() for k, v in raw.items()})
                self.got.append(command)
                await self.inbox.reply(command.id, Reply(True, f"{command.verb.value} done"))

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task


async def test_supervisor_actions_reach_the_controller_as_theirs(web: Web) -> None:
    async with Controller(web) as controller, web.signed_in("banzhang01") as client:
        token = await csrf(client)
        forced = await client.post(
            "/supervisor/agent", data={"csrf": token, "agent": "王芳", "action": "pause"}
        )
        assert forced.status_code == 200, forced.text
        assert forced.json() == {"ok": True, "message": "pause done"}
        outside = await client.post(
            "/supervisor/agent", data={"csrf": token, "agent": "1004", "action": "logout"}
        )
        assert outside.status_code == 403  # 刘洋 is team-b
        notice = await client.post(
            "/supervisor/notice", data={"csrf": token, "notice": "water-cut"}
        )
        assert notice.status_code == 200
        bogus = await client.post("/supervisor/notice", data={"csrf": token, "notice": "../x"})
        assert bogus.status_code == 400
    [pause, switch] = controller.got
    assert (pause.verb, pause.agent, pause.actor, pause.reason, pause.supervisor) == (
        Verb.PAUSE,
        "1001",
        "banzhang01",
        "forced",
        True,
    )
    assert (switch.verb, switch.notice, switch.actor) == (Verb.NOTICE, "water-cut", "banzhang01")


async def test_alerts_are_handled_with_a_comment_in_scope(web: Web) -> None:
    alert = {
        "id": "paused_while_waiting/王芳/1796",
        "rule": "paused_while_waiting",
        "agent": "王芳",
        "team": "team-a",
        "state": "open",
        "severity": "critical",
    }
    other = {**alert, "id": "long_pause/刘洋/1796", "agent": "刘洋", "team": "team-b"}
    await web.live.apply([Change("alert", alert["id"], alert), Change("alert", other["id"], other)])
    async with Controller(web) as controller, web.signed_in("banzhang01") as client:
        token = await csrf(client)
        silent = await client.post(
            "/alerts/ack", data={"csrf": token, "alert": alert["id"], "comment": "  "}
        )
        assert silent.status_code == 400
        ack = await client.post(
            "/alerts/ack", data={"csrf": token, "alert": alert["id"], "comment": "已电话提醒"}
        )
        assert ack.status_code == 200
        theirs = await client.post(
            "/alerts/close", data={"csrf": token, "alert": other["id"], "comment": "x"}
        )
        assert theirs.status_code == 403
        unknown = await client.post(
            "/alerts/close", data={"csrf": token, "alert": "nope", "comment": "x"}
        )
        assert unknown.status_code == 400
    [sent] = controller.got
    assert (sent.verb, sent.alert, sent.comment, sent.actor) == (
        Verb.ACKNOWLEDGE,
        alert["id"],
        "已电话提醒",
        "banzhang01",
    )


async def test_an_alert_no_longer_live_is_found_in_the_history(web: Web) -> None:
    stored = {"id": "long_pause/王芳/1795", "rule": "long_pause", "agent": "王芳",
              "team": "team-a", "severity": "warning", "start": 1, "end": 2, "t_raised": 1,
              "state": "acknowledged"}  # fmt: skip
    theirs = {**stored, "id": "long_pause/刘洋/1795", "agent": "刘洋", "team": "team-b"}
    web.services.history.save_alerts([stored, theirs])
    async with Controller(web) as controller, web.signed_in("banzhang01") as client:
        token = await csrf(client)
        closed = await client.post(
            "/alerts/close", data={"csrf": token, "alert": stored["id"], "comment": "已处理"}
        )
        assert closed.status_code == 200, closed.text
        refused = await client.post(
            "/alerts/close", data={"csrf": token, "alert": theirs["id"], "comment": "x"}
        )
        assert refused.status_code == 403
    [sent] = controller.got
    assert (sent.verb, sent.alert, sent.comment) == (Verb.CLOSE, stored["id"], "已处理")


async def test_an_agent_acts_on_themself_only(web: Web) -> None:
    async with Controller(web) as controller, web.signed_in("wangfang") as client:
        page = await client.get("/me")
        assert page.status_code == 200
        assert "王芳" in page.text
        assert 'value="meal"' in page.text
        assert 'value="forced"' not in page.text  # a supervisor's reason is not offered
        token = await csrf(client)
        r = await client.post(
            "/me/command",
            data={"csrf": token, "action": "pause", "reason": "meal", "agent": "1004"},
        )
        assert r.status_code == 200
        bad = await client.post(
            "/me/command", data={"csrf": token, "action": "pause", "reason": "nap"}
        )
        assert bad.status_code == 400
        me = (await client.get("/api/me")).json()
        assert me["budget"]["busy_limit_ms"] == 30 * 60_000
    [sent] = controller.got
    assert (sent.verb, sent.agent, sent.reason, sent.supervisor) == (
        Verb.PAUSE,
        "1001",
        "meal",
        False,
    )


async def test_an_agent_sees_the_watchdog_s_notes_to_her_only(web: Web) -> None:
    def note(n: int, agent: str, role: str, text: str) -> Change:
        doc = {"id": f"a{n}#0", "t": 1_796_300_000_000 + n, "to": agent, "role": role,
               "agent": agent, "alert": f"a{n}", "action": "note_agent", "text": text}  # fmt: skip
        return Change("note", doc["id"], doc)

    await web.live.apply(
        [
            note(1, "王芳", "agent", "单次示忙过长: 王芳"),
            note(2, "王芳", "supervisor", "给班长的: 王芳"),
            note(3, "刘洋", "agent", "单次示忙过长: 刘洋"),
        ]
    )
    async with web.signed_in("wangfang") as client:
        await asyncio.sleep(0.3)  # the hub follows the feed
        me = (await client.get("/api/me")).json()
        assert [n["text"] for n in me["notes"]] == ["单次示忙过长: 王芳"]
        page = await client.get("/me")
        assert "单次示忙过长: 王芳" in page.text
        # (刘洋's name is on the page, as a transfer target: his note is not)
        assert "单次示忙过长: 刘洋" not in page.text
        assert "给班长的" not in page.text


async def test_without_a_controller_the_action_fails_clearly(web: Web) -> None:
    async with web.signed_in("banzhang01") as client:
        token = await csrf(client)
        web.services.command_timeout = 0.5
        response = await client.post(
            "/supervisor/agent",
            data={"csrf": token, "agent": "1001", "action": "unpause"},
            headers={"accept": "application/json"},
            timeout=20,
        )
    assert response.status_code == 503
    assert "controller" in response.text


async def test_admins_manage_accounts(web: Web) -> None:
    async with web.signed_in("admin") as client:
        token = await csrf(client)
        short = await client.post(
            "/admin/users",
            data={"csrf": token, "username": "x1", "password": "short", "role": "auditor"},
        )
        assert short.status_code == 400
        assert "10" in short.text
        made = await client.post(
            "/admin/users",
            data={
                "csrf": token,
                "username": "banzhang02",
                "password": "another long one",
                "role": "supervisor",
                "teams": "team-b",
            },
        )
        assert made.status_code == 303
        self_off = await client.post(
            "/admin/users/change", data={"csrf": token, "username": "admin", "action": "disable"}
        )
        assert self_off.status_code == 400
    async with web.client() as client:
        assert (await login(client, "banzhang02", "another long one")).status_code == 303
        assert (await client.get("/api/live")).status_code == 200


async def test_every_account_change_is_logged_and_a_reset_must_be_changed(web: Web) -> None:
    async with web.signed_in("admin") as client:
        token = await csrf(client)
        reset = await client.post(
            "/admin/users/change",
            data={"csrf": token, "username": "banzhang01", "action": "password",
                  "password": "set by the admin"},
        )  # fmt: skip
        assert reset.status_code == 303
        off = await client.post(
            "/admin/users/change",
            data={"csrf": token, "username": "wangfang", "action": "disable"},
        )
        assert off.status_code == 303
    log = [
        (e.entry.user, e.entry.action, e.entry.target) for e in web.services.access_log.entries()
    ]
    assert log == [("admin", "account_password_reset", "banzhang01"),
                   ("admin", "account_disable", "wangfang")]  # fmt: skip
    assert web.services.access_log.verify() is None
    # the admin knows that password: it opens nothing but the page to change it
    async with web.client() as client:
        signed = await login(client, "banzhang01", "set by the admin")
        assert signed.headers["location"] == "/password"
        page = await client.get("/wallboard", headers={"accept": "text/html"})
        assert (page.status_code, page.headers["location"]) == (303, "/password")
        assert (await client.get("/api/live")).status_code == 403
        token = await csrf(client)  # the home page leads to /password
        same = await client.post(
            "/password", data={"csrf": token, "old": "set by the admin", "new": "set by the admin"}
        )
        assert same.status_code == 400, (same.text, same.headers)
        changed = await client.post(
            "/password", data={"csrf": token, "old": "set by the admin", "new": "only mine now"}
        )
        assert changed.status_code == 303
    async with web.client() as client:
        assert (await login(client, "banzhang01", "only mine now")).headers["location"] == (
            "/wallboard"
        )
        assert (await client.get("/api/live")).status_code == 200
    assert web.services.access_log.entries()[-1].entry.action == "account_password_change"


async def test_unmasking_is_granted_only_with_a_second_administrator(web: Web) -> None:
    web.services.accounts.add("admin2", PASSWORD, Role.ADMIN, now=web.services.clock())
    async with web.signed_in("admin") as client:
        token = await csrf(client)
        grant = {"csrf": token, "username": "zhijian01", "action": "grant_unmask"}
        alone = await client.post("/admin/users/change", data=grant)
        assert alone.status_code == 400
        myself = await client.post(
            "/admin/users/change",
            data={**grant, "approver": "admin", "approver_password": PASSWORD},
        )
        assert myself.status_code == 400
        wrong = await client.post(
            "/admin/users/change", data={**grant, "approver": "admin2", "approver_password": "no"}
        )
        assert wrong.status_code == 400
        user = web.services.accounts.user("zhijian01")
        assert user is not None
        assert not user.can_unmask
        two = await client.post(
            "/admin/users/change",
            data={**grant, "approver": "admin2", "approver_password": PASSWORD},
        )
        assert two.status_code == 303
    user = web.services.accounts.user("zhijian01")
    assert user is not None
    assert user.can_unmask
    [entry] = [
        e.entry for e in web.services.access_log.entries() if e.entry.action == "account_can_unmask"
    ]
    assert (entry.user, entry.target) == ("admin", "zhijian01")
    assert json.loads(entry.detail) == {"allowed": True, "approved_by": "admin2"}


async def test_the_language_switch(web: Web) -> None:
    async with web.signed_in("banzhang01") as client:
        token = await csrf(client)
        r = await client.post("/lang", data={"csrf": token, "lang": "en", "back": "/wallboard"})
        assert r.headers["location"] == "/wallboard"
        page = await client.get("/wallboard")
        assert "Wallboard" in page.text
        evil = await client.post(
            "/lang", data={"csrf": token, "lang": "zh", "back": "//evil.example/x"}
        )
        assert evil.headers["location"] == "/"
        bad = await client.post("/lang", data={"csrf": token, "lang": "fr"})
        assert bad.status_code == 400


async def test_twilio_webhooks_are_mounted_and_signed(web: Web) -> None:
    params = {"CallSid": "CA1", "From": "+8613800000001", "To": "+8612345"}
    signature = RequestValidator("twilio-test-token").compute_signature(
        BASE + "/twilio/voice", params
    )
    async with web.client() as client:
        unsigned = await client.post("/twilio/voice", data=params)
        signed = await client.post(
            "/twilio/voice", data=params, headers={"x-twilio-signature": signature}
        )
    assert unsigned.status_code == 403
    assert signed.status_code == 200, signed.text
    assert signed.text.startswith("<?xml") or "<Response>" in signed.text
    assert signed.headers["content-security-policy"] == CSP


NEXT_URL = re.compile(r'<Gather action="([^"]+)"|<Redirect[^>]*>([^<]+)</Redirect>')


async def test_a_twilio_caller_walks_the_menus_under_the_mount(web: Web) -> None:
    """Each TwiML answer sends Twilio on to a URL under /twilio (a URL without the mount
    was a 404 at the caller's first key press)."""
    call = {"CallSid": "CA2", "From": "+8613800000002", "To": "+8612345"}
    validator = RequestValidator("twilio-test-token")
    path, keys, seen = "/twilio/voice", ["1", "1"], []  # 普通话, then 咨询
    async with web.client() as client:
        for _ in range(8):
            params = dict(call)
            if "/gather/" in path and keys:
                params["Digits"] = keys.pop(0)
            signature = validator.compute_signature(BASE + path, params)
            reply = await client.post(path, data=params, headers={"x-twilio-signature": signature})
            assert reply.status_code == 200, (path, reply.text)
            seen.append(path)
            nxt = re.search(
                r'<Gather action="([^"]+)"|<Redirect[^>]*>([^<]+)</Redirect>', reply.text
            )
            if nxt is None or (not keys and "/gather/" in path):
                break
            path = html.unescape(nxt.group(1) or nxt.group(2))
            assert path.startswith("/twilio/"), (path, reply.text)
    assert any("/gather/language" in p for p in seen), seen
    assert any("/gather/main" in p or "/menu/main" in p for p in seen), seen


async def test_auditors_need_a_purpose_and_a_working_access_log(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await csrf(client)
        no_purpose = await client.get("/audit/calls/1796000000.1")
        assert no_purpose.status_code == 428  # no case given yet
        bad = await client.post("/audit/purpose", data={"csrf": token, "purpose": "a b"})
        assert bad.status_code == 400
        ok = await client.post("/audit/purpose", data={"csrf": token, "purpose": "GD-2026-0001"})
        assert ok.status_code == 303
        assert (await client.get("/audit/calls/not-a-call-id")).status_code == 404
        assert (await client.get("/audit/calls/1796000000.1")).status_code == 404  # unknown
        refused = await client.post("/audit/calls/1796000000.1/unmask", data={"csrf": token})
        assert refused.status_code == 403  # this auditor may not unmask


@pytest.mark.parametrize(
    "path",
    [
        "/media/x",
        "/media/..%2f..%2fetc%2fpasswd",
        "/media/%2e%2e",
        "/media/../accounts.py",
        "/media//etc/passwd",
    ],
)
async def test_media_serves_only_granted_ids(web: Web, path: str) -> None:
    async with web.signed_in("zhijian01") as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text


async def test_a_call_view_is_refused_when_it_cannot_be_logged(web: Web) -> None:
    """Fail closed: when the access log cannot be written, an auditor's view, unmask and
    export answer 503 saying why, instead of happening unlogged."""
    web.services.history.save_calls(
        [
            CallRecord(
                call_id="1796000000.7",
                caller="13800000001",
                t_arrival=1_796_000_000_000,
                visits=(QueueVisit("intake", 1_796_000_002_000, 1, 1_796_000_005_000, "CONNECT"),),
                t_answer=1_796_000_005_000,
                agent="王芳",
                t_end=1_796_000_030_000,
                end_reason=EndReason.ANSWERED,
            )
        ]
    )
    async with web.signed_in("jijian01") as client:
        token = await csrf(client)
        await client.post("/audit/purpose", data={"csrf": token, "purpose": "GD-2026-0001"})
        web.services.access_log.close()  # its database is gone
        for response in (
            await client.get("/audit/calls/1796000000.7"),
            await client.post("/audit/calls/1796000000.7/unmask", data={"csrf": token}),
            await client.post("/audit/calls/1796000000.7/export", data={"csrf": token}),
            await client.post("/audit/search", data={"csrf": token, "q": "x"}),
        ):
            assert response.status_code == 503
            assert "access log" in response.text
            assert "13800000001" not in response.text
    assert web.services.media == {}  # no recording was granted either
    web.services.access_log = AccessLog.open(web.services.settings.db)  # for the teardown


async def test_bad_forms_get_a_clear_error(web: Web) -> None:
    async with web.signed_in("banzhang01") as client:
        token = await csrf(client)
        headers = {"x-csrf-token": token}
        not_a_form = await client.post(
            "/supervisor/agent",
            content=b'{"agent": "1001"}',
            headers={**headers, "content-type": "application/json"},
        )
        assert not_a_form.status_code == 400
        assert "expected a form" in not_a_form.text
        huge = await client.post(
            "/supervisor/agent",
            content=b"a=" + b"x" * 70_000,
            headers={**headers, "content-type": FORM},
        )
        assert huge.status_code == 400
        assert "too large" in huge.text
        bad_utf8 = await client.post(
            "/supervisor/agent",
            content=b"agent=%ff%fe&action=pause",
            headers={**headers, "content-type": FORM},
        )
        assert bad_utf8.status_code == 400
        unknown = await client.post(
            "/supervisor/agent", data={"csrf": token, "agent": "9999", "action": "pause"}
        )
        assert unknown.status_code == 400
        verb = await client.post(
            "/supervisor/agent", data={"csrf": token, "agent": "1001", "action": "delete"}
        )
        assert verb.status_code == 400


async def test_without_redis_the_pages_say_so(settings: Settings, tmp_path: Path) -> None:
    """Redis down (nothing listens on the socket): health and the live views answer 503
    naming it; signing in still works (accounts live in SQLite)."""
    gone = f"unix://{tmp_path}/no-redis.sock"
    web = await make_web(settings, tmp_path / "down.sqlite3", gone)
    try:
        async with web.client() as anonymous:
            health = await anonymous.get("/healthz")
            assert health.status_code == 503
            assert health.text == "down: redis"
        async with web.signed_in("banzhang01") as client:
            live = await client.get("/api/live")
            assert live.status_code == 503
            assert "Redis" in live.text
            status, events = await first_events(web, "/events", await session_cookie(client), 2)
            assert status == 200
            assert events[0] == "retry: 1000"
            assert events[1].startswith("event: down")
    finally:
        await web.services.hub.stop()
        await web.services.redis.aclose()


async def test_a_recording_is_served_only_while_its_sha256_matches(tmp_path: Path) -> None:
    wav = tmp_path / "1796000000.7-rx.wav"
    wav.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    rec = Recording(
        "1796000000.7",
        Leg.CALLER,
        str(wav),
        wav.stat().st_size,
        1000,
        hashlib.sha256(wav.read_bytes()).hexdigest(),
    )
    alerted: list[str] = []
    assert verified(rec, lambda m: alerted.append(m.reason)) == wav
    data = bytearray(wav.read_bytes())
    data[100] ^= 0xFF  # one byte changed after cataloguing
    wav.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        verified(rec, lambda m: alerted.append(m.reason))
    wav.unlink()
    with pytest.raises(NotFound):
        verified(rec, lambda m: alerted.append(m.reason))
    assert alerted == ["integrity", "missing"]


FIELDS = [
    "q", "page", "from", "to", "queue", "agent", "leg", "caller", "unmask", "username",
    "password", "role", "teams", "queues", "all", "action", "approver", "approver_password",
    "purpose", "reason", "alert", "comment", "lang", "back", "old", "new", "notice", "can_unmask",
    "task", "answer", "version", "call",
]  # fmt: skip
NASTY = [
    "", " ", "0", "-1", "99999999999999999999", "1e9", "NaN", "王芳", "intake", "pause",
    "disable", "password", "grant_unmask", "admin", "1001", "2026-13-45", "2026-12-07",
    "'; DROP TABLE calls; --", "${SHELL(id)}", "\x00", "\r\nSet-Cookie: x=1", "../../etc/passwd",
    "<script>alert(1)</script>", "%s%s%s", "x" * 5000, "一" * 300, "\ud7ff", "caller", "rx",
]  # fmt: skip


def random_form(rng: random.Random) -> dict[str, str]:
    keys = rng.sample(FIELDS, rng.randint(0, 6))
    return {k: rng.choice(NASTY) if rng.random() < 0.8 else rng.choice(FIELDS) for k in keys}


async def test_random_forms_on_every_route_never_break_the_app(web: Web) -> None:
    """Fuzzing the web's forms and query strings from the route table: every route, as
    every role allowed on it, with 15 random forms of hostile values each, answers with a
    page, a redirect or a clear 4xx (or 503: a command the controller did not answer);
    never a 500."""
    rng = random.Random(20261207)
    broken: list[str] = []
    tried = 0
    async with Controller(web):
        for role in ROLES:
            username = BY_ROLE[role]
            for route in ROUTES:
                if route.stream or route.name in ("logout", "password", "static"):
                    continue  # an endless stream; signing out; a password change ends the session
                if not expected_ok(route, role):
                    continue
                path = concrete(route)
                async with web.signed_in(username) as client:
                    token = await csrf(client)
                    if route.name in (
                        "search",
                        "call",
                        "unmask",
                        "export",
                        "media",
                        "qa",
                        "qa_call",
                        "qa_score",
                        "qa_settle",
                    ):
                        await client.post("/audit/purpose", data={"csrf": token, "purpose": "F-1"})
                    for _ in range(15):
                        form = random_form(rng)
                        tried += 1
                        if route.methods[0] == "GET":
                            response = await client.get(path, params=form, timeout=20)
                        else:
                            response = await client.post(
                                path, data={**form, "csrf": token}, timeout=20
                            )
                        status = response.status_code
                        if status >= 500 and status != 503:
                            what = f"{route.name} as {role.value}: {form!r}"
                            broken.append(f"{what} -> {status} {response.text[:200]}")
    assert tried > 300
    assert broken == [], "\n".join(broken[:10])


async def test_a_supervisor_joins_a_call_from_the_web_only_on_their_team(web: Web) -> None:
    async with Controller(web) as controller, web.signed_in("banzhang01") as client:
        token = await csrf(client)
        form = {"csrf": token, "agent": "王芳", "mode": "whisper", "phone": "1901"}
        joined = await client.post("/supervisor/listen", data=form)
        assert joined.status_code == 200, joined.text
        outside = await client.post("/supervisor/listen", data={**form, "agent": "1004"})
        assert outside.status_code == 403  # 刘洋 is team-b
        bad = await client.post("/supervisor/listen", data={**form, "mode": "shout"})
        assert bad.status_code == 400
    [command] = controller.got
    assert (command.verb, command.agent, command.actor, command.mode, command.phone) == (
        Verb.SUPERVISE, "王芳", "banzhang01", "whisper", "1901")  # fmt: skip
