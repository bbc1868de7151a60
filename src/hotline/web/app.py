"""The web app: built from the route table, with its services.

    services = open_services(settings)          # accounts, history, transcripts, Redis, hub
    app = create_app(services)                  # an ASGI app (uvicorn serves it)

``hotline web`` does both and serves on --host/--port; tests build Services themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aredis
from argon2 import PasswordHasher
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.center.config import load_center
from hotline.host.settings import Settings
from hotline.ivr import twiml
from hotline.ivr.model import Flow
from hotline.pbx import install
from hotline.stores import redis_server
from hotline.stores.access import AccessLog
from hotline.stores.history import History
from hotline.stores.live import LiveStore
from hotline.stores.orders import OrderStore
from hotline.stores.transcripts import TranscriptStore
from hotline.web import filters
from hotline.web.accounts import Accounts
from hotline.web.context import Services
from hotline.web.guard import HEADERS, guarded
from hotline.web.hub import LiveHub
from hotline.web.routes import ROUTES, TWILIO
from hotline.web.twilio import HistoryCallEvents, create_twilio_app
from hotline.web.webhooks import Webhooks


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("hotline.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(env)
    return env


def open_services(settings: Settings, hasher: PasswordHasher | None = None) -> Services:
    """Everything the app needs, from the settings (one Redis client, one SQLite file).

    ``hasher``: the argon2 parameters (argon2-cffi's defaults unless given)."""
    flow: Flow | None
    try:
        flow, _ = install.read_flow(settings.flow)
    except Exception:  # noqa: BLE001 - the wallboard works without the flow's labels
        flow = None
    queues = set(flow.queues) if flow else None
    center = load_center(settings.center.read_text(encoding="utf-8"), queues)
    redis = aredis.Redis.from_url(redis_server.url(settings), socket_timeout=10)
    return Services(
        settings=settings,
        center=center,
        flow=flow,
        accounts=Accounts.open(settings.db, hasher),
        history=History.open(settings.db),
        transcripts=TranscriptStore.open(settings.db),
        access_log=AccessLog.open(settings.db),
        redis=redis,
        hub=LiveHub(LiveStore(redis)),
        templates=templates(),
        secure_cookies=settings.web_secure,
        orders=OrderStore.open(settings.db),
        webhooks=webhooks_of(settings),
    )


def webhooks_of(settings: Settings) -> Webhooks | None:
    """The orders' webhooks, when both their URL and their secret are set."""
    if settings.orders_webhook_url and settings.orders_webhook_secret:
        return Webhooks(settings.orders_webhook_url, settings.orders_webhook_secret)
    return None


class SecureHeaders:
    """Adds the security headers to every answer, the 404s and the mounted apps' too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def twilio_sip(settings: Settings) -> twiml.SipTarget | None:
    """The PBX's trunk as Twilio dials it (``HOTLINE_TWILIO_SIP``), if configured."""
    target = settings.trunk.twilio
    return twiml.SipTarget(target.host, target.port) if target is not None else None


def create_app(services: Services) -> Starlette:
    routes: list[BaseRoute] = [
        StarletteRoute(
            r.path,
            guarded(r.handler, r.access, services, name=r.name),
            methods=list(r.methods),
            name=r.name,
        )
        for r in ROUTES
        if r.handler is not None
    ]
    settings = services.settings
    if settings.twilio_token and services.flow is not None:
        twilio = create_twilio_app(
            services.flow,
            auth_token=settings.twilio_token,
            public_url=settings.public_url,
            events=HistoryCallEvents(services.history),
            base="",
            mounted_at=TWILIO.path,
            sip=twilio_sip(settings),
        )
        routes.append(Mount(TWILIO.path, app=twilio, name=TWILIO.name))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        services.hub.start()
        hooks, following = services.webhooks, None
        if hooks is not None and services.orders is not None:
            following = asyncio.create_task(hooks.follow(services.orders), name="webhooks")
        yield {}
        if following is not None:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        if hooks is not None:
            await hooks.drain()
        await services.hub.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecureHeaders)
    return app
