"""The web app in this process on the test bed's real Redis and a fresh SQLite file, with
one account per role, and clients signed in as each."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx2 as httpx
from argon2 import PasswordHasher
from starlette.applications import Starlette

from hotline.host.settings import Settings
from hotline.recordings.leg import Leg
from hotline.stores.live import LiveStore
from hotline.transcripts.transcript import Transcript, Word
from hotline.web.app import create_app, open_services
from hotline.web.context import Services
from hotline.web.roles import Role, Scope

PASSWORD = "correct horse battery"
USERS: dict[str, dict[str, object]] = {
    # name -> Accounts.add keywords
    "admin": {"role": Role.ADMIN},
    "banzhang01": {"role": Role.SUPERVISOR, "scope": Scope(teams=frozenset({"team-a"}))},
    "zhijian01": {"role": Role.AUDITOR, "can_unmask": False},
    "jijian01": {"role": Role.AUDITOR, "can_unmask": True},
    "wangfang": {"role": Role.AGENT, "agent": "1001"},
    "lvhua01": {"role": Role.DEPARTMENT},  # the greening bureau's handler (center.yaml)
}
BY_ROLE = {
    Role.ADMIN: "admin",
    Role.SUPERVISOR: "banzhang01",
    Role.AUDITOR: "jijian01",
    Role.AGENT: "wangfang",
    Role.DEPARTMENT: "lvhua01",
}
BASE = "http://hotline.test"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id still, at a cost that keeps the tests quick (the app uses argon2-cffi's defaults)."""

# a caller asking about unpaid wages and giving a mobile number, and the agent's reply
CALLER_WORDS = [
    ("您好", 300, 700),
    ("我", 800, 900),
    ("被", 900, 1000),
    ("拖欠", 1000, 1400),
    ("工资", 1400, 1800),
    ("电话", 2000, 2300),
    ("13812345678", 2300, 3000),
]
AGENT_WORDS = [("请", 1900, 2000), ("讲", 2000, 2200)]


def fixture_transcript(
    call_id: str, leg: Leg, words: list[tuple[str, int, int]], sha256: str = ""
) -> Transcript:
    """A transcript WRITTEN BY THE TEST (word, start ms, end ms): the STT engines have their
    own tests; what these tests look at (search, masking, the call page, the player) is not
    the engine."""
    return Transcript(
        call_id=call_id,
        leg=leg,
        engine="test-fixture",
        model="none",
        language="zh",
        text="".join(w for w, _, _ in words),
        words=tuple(Word(w, a, b, 1.0) for w, a, b in words),
        duration_ms=max(b for _, _, b in words),
        audio_sha256=sha256,
        t_done=time.time_ns() // 1_000_000,
    )


@dataclass
class Web:
    services: Services
    app: Starlette
    live: LiveStore

    def client(self, base: str = BASE) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base)

    @contextlib.asynccontextmanager
    async def signed_in(self, username: str | None) -> AsyncIterator[httpx.AsyncClient]:
        """A client signed in as ``username`` (None: anonymous)."""
        async with self.client() as client:
            if username is not None:
                await login(client, username, PASSWORD)
            yield client


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf" content="([^"]*)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token, page.text
    return await client.post(
        "/login", data={"username": username, "password": password, "login_csrf": token.group(1)}
    )


async def csrf(client: httpx.AsyncClient) -> str:
    """The session's CSRF token, as the home page of the signed-in user carries it."""
    page = await client.get("/", follow_redirects=True, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def make_web(settings: Settings, db: Path, redis_url: str, **changes: object) -> Web:
    settings = replace(settings, db=db, redis_url=redis_url, **changes)  # type: ignore[arg-type]
    services = open_services(settings, FAST_HASHER)
    for name, spec in USERS.items():
        services.accounts.add(name, PASSWORD, now=services.clock(), **spec)  # type: ignore[arg-type]
    return Web(services, create_app(services), LiveStore(services.redis))


async def close_web(web: Web) -> None:
    if web.services.webhooks is not None:
        await web.services.webhooks.drain()
    for store in (web.services.orders, web.services.qa, web.services.recall, web.services.kb):
        if store is not None:
            store.close()
    await web.services.hub.stop()
    await web.services.redis.aclose()
    web.services.accounts.close()
    web.services.history.close()
    web.services.transcripts.close()
    web.services.access_log.close()


async def first_events(
    web: Web,
    path: str,
    cookie: str,
    count: int,
    timeout: float = 5.0,
    after: object = None,
    *,
    for_the_whole_timeout: bool = False,
) -> tuple[int, list[str]]:
    """Call a streaming route (SSE) in process; the status and its first ``count`` events
    (or, ``for_the_whole_timeout``, what came until the stream ended or the time was up).

    httpx's ASGI transport waits for the whole body, which an event stream never ends: this
    drives the ASGI app directly and disconnects once it has what it needs.
    """
    import asyncio

    status = 0
    chunks: list[str] = []
    done = asyncio.Event()
    disconnect = asyncio.Event()

    async def receive() -> dict[str, object]:
        if not hasattr(receive, "sent"):
            receive.sent = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]
            if status != 200:
                done.set()
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")).decode())  # type: ignore[call-overload]
            if "".join(chunks).count("\n\n") >= count or not message.get("more_body"):
                done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("hotline.test", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"hotline.test"),
            (b"accept", b"text/event-stream"),
            (b"cookie", cookie.encode()),
        ],
    }
    task = asyncio.create_task(web.app(scope, receive, send))  # type: ignore[arg-type]
    try:
        if after is not None:
            await asyncio.sleep(0.3)
            await after()  # type: ignore[operator]
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            if not for_the_whole_timeout:
                raise
    finally:
        disconnect.set()
        await asyncio.wait_for(task, 5)
    events = [e for e in "".join(chunks).split("\n\n") if e.strip()]
    return status, events


async def session_cookie(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())
