"""What a page handler gets: the services of the app and the request with its session.

    async def healthz(ctx: Ctx) -> Response:            # open to signed-out visitors
        ...
    async def wallboard(ctx: SignedIn) -> Response:     # a signed-in user's page
        scope = ctx.scope                               # never None: no assert needed
        return ctx.render("wallboard.html", queues=...)

Only the guard (:mod:`hotline.web.guard`) makes a :class:`SignedIn`, once the request's
cookie named a live session; the route table says which of the two each handler takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import redis.asyncio as aredis
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hotline.center.config import Center
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.ivr.model import Flow
from hotline.stores.access import AccessLog
from hotline.stores.history import History
from hotline.stores.kb import KbStore
from hotline.stores.orders import OrderStore
from hotline.stores.qa import QaStore
from hotline.stores.recall import RecallStore
from hotline.stores.transcripts import TranscriptStore
from hotline.web import i18n
from hotline.web.accounts import Accounts, Session
from hotline.web.errors import BadRequest
from hotline.web.hub import LiveHub
from hotline.web.roles import Role, Scope, User, scope_of
from hotline.web.throttle import Throttle
from hotline.web.webhooks import Webhooks

FORM_LIMIT = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass
class Services:
    """Everything the pages use; built once by :func:`hotline.web.app.create_app`."""

    settings: Settings
    center: Center
    flow: Flow | None
    accounts: Accounts
    history: History
    transcripts: TranscriptStore
    access_log: AccessLog
    redis: aredis.Redis
    hub: LiveHub
    templates: Environment
    clock: Callable[[], int] = wall_ms
    secure_cookies: bool = False
    command_timeout: float = 8.0  # s to wait for the controller's reply to a command
    throttle: Throttle = field(default_factory=Throttle)
    media: dict[str, Any] = field(default_factory=dict)  # opaque id -> grant (media.py)
    cache: dict[str, tuple[int, Any]] = field(default_factory=dict)
    orders: OrderStore | None = None  # the work orders' journal (None: opened when first used)
    webhooks: Webhooks | None = None  # where orders' state changes are POSTed, signed
    qa: QaStore | None = None  # quality inspection's scores and flags (opened when first used)
    recall: RecallStore | None = None  # the recall list (None: opened when first used)
    kb: KbStore | None = None  # the knowledge base (None: opened when first used)


@dataclass(frozen=True, eq=False)
class Ctx:
    """A request as any handler gets it: its session is None for a signed-out visitor
    (the handlers of public and self-signed routes take this)."""

    request: Request
    app: Services
    session: Session | None
    token: str = ""  # the session cookie, when there is a session

    @property
    def lang(self) -> str:
        if self.session is not None:
            return self.session.lang
        wanted = self.request.query_params.get("lang", "")
        if wanted in i18n.LANGS:
            return wanted
        accept = self.request.headers.get("accept-language", "")
        return "en" if accept.lower().startswith("en") else "zh"

    def t(self, key: str, **values: object) -> str:
        return i18n.text(key, self.lang, **values)

    def t_all(self, prefix: str) -> dict[str, str]:
        """Every text under ``prefix`` (for the page's script), without the prefix."""
        return i18n.texts(prefix, self.lang)

    async def form(self) -> dict[str, str]:
        """The urlencoded body as a dict (the last value of a repeated field wins)."""
        cached: dict[str, str] | None = getattr(self.request.state, "hotline_form", None)
        if cached is None:
            body = await self._body(FORM_TYPE, FORM_LIMIT, f"a form ({FORM_TYPE})", "form")
            try:
                pairs = parse_qsl(
                    body.decode("utf-8"),
                    keep_blank_values=True,
                    strict_parsing=False,
                    max_num_fields=200,
                )
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadRequest(f"malformed form: {exc}") from None
            # kept on the request, whose body can be read once (the context is frozen)
            cached = self.request.state.hotline_form = dict(pairs)
        return cached

    async def _body(self, ctype: str, limit: int, what: str, name: str) -> bytes:
        """The request's body of content type CTYPE, at most LIMIT bytes (BadRequest, 400:
        "expected WHAT", "the NAME is too large")."""
        given = (self.request.headers.get("content-type") or "").split(";")[0].strip()
        if given != ctype:
            raise BadRequest(f"expected {what}")
        body = b""
        async for chunk in self.request.stream():
            body += chunk
            if len(body) > limit:
                raise BadRequest(f"the {name} is too large")
        return body

    async def json(self, limit: int) -> dict[str, Any]:
        """The request's JSON object of at most LIMIT bytes (BadRequest, 400, saying why
        when it is not one: another type, too large, malformed, not an object)."""
        what = "a JSON body (Content-Type: application/json)"
        raw = await self._body("application/json", limit, what, "body")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"malformed JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise BadRequest("the body is a JSON object")
        return doc

    def render(self, name: str, status: int = 200, **values: Any) -> Response:
        template = self.app.templates.get_template(name)
        html = template.render(
            t=self.t,
            lang=self.lang,
            user=self.session.user if self.session else None,
            csrf=self.session.csrf if self.session else "",
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def query(self) -> Mapping[str, str]:
        return self.request.query_params


@dataclass(frozen=True, eq=False)
class SignedIn(Ctx):
    """A request with a live session: what the handler of a route for signed-in roles
    gets, made by the guard once it found the session (frozen, so it stays one)."""

    session: Session
    token: str

    @property
    def user(self) -> User:
        return self.session.user

    @property
    def role(self) -> Role:
        return self.session.user.role

    @property
    def scope(self) -> Scope:
        """What the user sees on the wallboard: everything for an admin."""
        return scope_of(self.session.user)
