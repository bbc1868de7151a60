"""The route table: every URL of the web app, its methods, its handler and who may use it.

The app is built from this table alone (:func:`hotline.web.app.create_app`), and the tests
generate their authorization matrix from it: a route cannot exist without declaring its
access, and a new route is tested for every role (and anonymous) without anyone adding a
test. ``Route.stream`` marks a response that never ends (SSE); ``Route.mount`` a
sub-application (the Twilio webhooks), which checks its own signatures.

The table also says what each handler takes: ``anyone(...)`` routes (open to signed-out
visitors, or signed by their caller) hand it a :class:`~hotline.web.context.Ctx`;
``signed_in(...)`` routes (for roles) a :class:`~hotline.web.context.SignedIn`. mypy
refuses a signed-in handler on an ``anyone`` route, and :class:`Route` refuses, when the
table is built, a kind that does not fit the route's access or the handler's annotation
(:func:`hotline.web.kinds.check_kind`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response

from hotline.web import (
    api_orders,
    media,
    ops,
    pages_admin,
    pages_agent,
    pages_audit,
    pages_auth,
    pages_board,
    pages_kb,
    pages_myqa,
    pages_orders,
    pages_qa,
    pages_qa_report,
    pages_recall,
    pages_search,
    static,
    workers_api,
)
from hotline.web import openapi as openapi_doc
from hotline.web.context import Ctx, SignedIn
from hotline.web.kinds import ForAnyone, ForSignedIn, Handler, check_kind
from hotline.web.roles import ANY_USER, PUBLIC, SIGNED, Access, Role

SUPERVISORS = Access.of(Role.SUPERVISOR, Role.ADMIN)
AGENTS = Access.of(Role.AGENT)
AUDITORS = Access.of(Role.AUDITOR)
ADMINS = Access.of(Role.ADMIN)
# work orders (the Desk decides which orders and steps are each one's; an admin has none)
ORDER_READERS = Access.of(Role.SUPERVISOR, Role.AGENT, Role.DEPARTMENT, Role.AUDITOR)
ORDER_ACTORS = Access.of(Role.SUPERVISOR, Role.AGENT, Role.DEPARTMENT)
CENTRE = Access.of(Role.SUPERVISOR, Role.AGENT, Role.AUDITOR)
INTAKE = Access.of(Role.SUPERVISOR, Role.AGENT)
OVERSIGHT = Access.of(Role.SUPERVISOR, Role.AUDITOR)
DEPARTMENTS = Access.of(Role.DEPARTMENT)
# speech-to-text workers on other hosts: their bearer token, no session (workers_api)
WORKERS = Access(frozenset(), signed=True)


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    methods: tuple[str, ...]
    handler: Handler | None
    access: Access
    name: str
    stream: bool = False
    mount: bool = False

    def __post_init__(self) -> None:
        if self.handler is not None:
            check_kind(self.name, self.handler, self.access)


def anyone(
    path: str,
    methods: str,
    handler: Callable[[Ctx], Awaitable[Response]],
    access: Access,
    name: str,
) -> Route:
    """A route open to signed-out visitors: its handler takes a Ctx."""
    return Route(path, tuple(methods.split()), ForAnyone(handler), access, name)


def signed_in(
    path: str,
    methods: str,
    handler: Callable[[SignedIn], Awaitable[Response]],
    access: Access,
    name: str,
    stream: bool = False,
) -> Route:
    """A route for signed-in roles: its handler takes a SignedIn."""
    return Route(path, tuple(methods.split()), ForSignedIn(handler), access, name, stream)


async def openapi(ctx: SignedIn) -> Response:
    """The API's OpenAPI document, made from this table."""
    return JSONResponse(openapi_doc.document(ROUTES))


ROUTES: tuple[Route, ...] = (
    anyone("/healthz", "GET", ops.healthz, PUBLIC, "healthz"),
    anyone("/login", "GET", pages_auth.login_form, PUBLIC, "login_form"),
    anyone("/login", "POST", pages_auth.login, PUBLIC, "login"),
    anyone("/static/{name}", "GET", static.serve, PUBLIC, "static"),
    # an admin's session, or a scraper's bearer token (the handler checks which)
    anyone("/metrics", "GET", ops.metrics, Access(frozenset({Role.ADMIN}), signed=True), "metrics"),
    signed_in("/", "GET", pages_auth.home, ANY_USER, "home"),
    signed_in("/logout", "POST", pages_auth.logout, ANY_USER, "logout"),
    signed_in("/lang", "POST", pages_auth.set_lang, ANY_USER, "lang"),
    signed_in("/password", "GET", pages_admin.password_form, ANY_USER, "password_form"),
    signed_in("/password", "POST", pages_admin.change_password, ANY_USER, "password"),
    # supervisors (and admins, who see every team)
    signed_in("/wallboard", "GET", pages_board.wallboard, SUPERVISORS, "wallboard"),
    signed_in("/wallboard/charts", "GET", pages_board.charts_fragment, SUPERVISORS, "charts"),
    signed_in("/api/live", "GET", pages_board.live_json, SUPERVISORS, "live"),
    signed_in("/api/stats", "GET", pages_board.stats, SUPERVISORS, "stats"),
    signed_in("/events", "GET", pages_board.events, SUPERVISORS, "events", stream=True),
    signed_in("/supervisor/agent", "POST", pages_board.act_on_agent, SUPERVISORS, "act_on_agent"),
    signed_in("/supervisor/notice", "POST", pages_board.switch_notice, SUPERVISORS, "notice"),
    signed_in("/supervisor/listen", "POST", pages_board.supervise, SUPERVISORS, "supervise"),
    signed_in("/supervisor/transfer", "POST", pages_board.transfer, SUPERVISORS, "sv_transfer"),
    signed_in("/alerts/ack", "POST", pages_board.ack_alert, SUPERVISORS, "ack_alert"),
    signed_in("/alerts/close", "POST", pages_board.close_alert, SUPERVISORS, "close_alert"),
    # agents
    signed_in("/me", "GET", pages_agent.me, AGENTS, "me"),
    signed_in("/api/me", "GET", pages_agent.me_json, AGENTS, "me_json"),
    signed_in("/me/command", "POST", pages_agent.me_command, AGENTS, "me_command"),
    signed_in("/me/transfer", "POST", pages_agent.me_transfer, AGENTS, "me_transfer"),
    signed_in("/me/qa", "GET", pages_myqa.my_qa, AGENTS, "my_qa"),
    signed_in("/me/qa/appeal", "POST", pages_myqa.my_appeal, AGENTS, "my_appeal"),
    signed_in("/me/recall", "GET", pages_recall.fragment, AGENTS, "me_recall"),
    signed_in("/me/recall/dial", "POST", pages_recall.dial, AGENTS, "recall_dial"),
    signed_in("/me/recall/done", "POST", pages_recall.done, AGENTS, "recall_done"),
    signed_in("/me/kb", "GET", pages_kb.fragment, AGENTS, "me_kb"),
    signed_in("/me/kb/use", "POST", pages_kb.use, AGENTS, "kb_use"),
    # work orders (工单): pages
    signed_in("/orders", "GET", pages_orders.orders_page, CENTRE, "orders"),
    signed_in("/orders", "POST", pages_orders.create_order, INTAKE, "create_order"),
    signed_in("/orders/findings", "GET", pages_orders.findings_page, OVERSIGHT, "findings"),
    signed_in("/orders/report", "GET", pages_orders.report_page, OVERSIGHT, "report"),
    signed_in("/orders/report.csv", "GET", pages_orders.report_csv, OVERSIGHT, "report_csv"),
    signed_in("/orders/{order_id}", "GET", pages_orders.order_page, ORDER_READERS, "order"),
    signed_in("/orders/{order_id}/act", "POST", pages_orders.act, ORDER_ACTORS, "order_act"),
    signed_in("/department", "GET", pages_orders.department_page, DEPARTMENTS, "department"),
    # work orders: the JSON API (hotline.web.openapi describes every /api/orders route)
    signed_in("/api/openapi.json", "GET", openapi, ANY_USER, "openapi"),
    signed_in("/api/orders", "GET", api_orders.list_orders, ORDER_READERS, "api_orders"),
    signed_in("/api/orders", "POST", api_orders.create_order, INTAKE, "api_create"),
    signed_in("/api/orders/{order_id}", "GET", api_orders.read_order, ORDER_READERS, "api_order"),
    signed_in(
        "/api/orders/{order_id}/{verb}", "POST", api_orders.take_step, ORDER_ACTORS, "api_step"
    ),
    # auditors
    signed_in("/audit/search", "GET", pages_search.search_page, AUDITORS, "search_page"),
    signed_in("/audit/search", "POST", pages_search.search, AUDITORS, "search"),
    signed_in("/audit/purpose", "POST", pages_audit.set_purpose, AUDITORS, "purpose"),
    signed_in("/audit/calls/{call_id}", "GET", pages_audit.call_page, AUDITORS, "call"),
    signed_in("/audit/calls/{call_id}/unmask", "POST", pages_audit.unmask_call, AUDITORS, "unmask"),
    signed_in("/audit/calls/{call_id}/export", "POST", pages_audit.export_call, AUDITORS, "export"),
    signed_in("/media/{media_id}", "GET", media.serve, AUDITORS, "media"),
    # quality inspection (质检): auditors score calls and settle appeals
    signed_in("/qa", "GET", pages_qa.qa_home, AUDITORS, "qa"),
    signed_in("/qa/report", "GET", pages_qa_report.qa_report, AUDITORS, "qa_report"),
    signed_in("/qa/report.csv", "GET", pages_qa_report.qa_report_csv, AUDITORS, "qa_report_csv"),
    signed_in("/qa/calls/{call_id}", "GET", pages_qa.qa_call, AUDITORS, "qa_call"),
    signed_in("/qa/calls/{call_id}/score", "POST", pages_qa.qa_score, AUDITORS, "qa_score"),
    signed_in("/qa/appeals/{appeal_id}/settle", "POST", pages_qa.qa_settle, AUDITORS, "qa_settle"),
    # speech-to-text workers on other hosts (their token; every fetch in the access log)
    anyone("/stt/legs/{call_id}/{leg}", "GET", workers_api.fetch_leg, WORKERS, "stt_leg"),
    anyone("/stt/transcripts", "POST", workers_api.put_transcript, WORKERS, "stt_transcript"),
    anyone("/stt/alerts", "POST", workers_api.put_alert, WORKERS, "stt_alert"),
    # admins
    signed_in("/admin/users", "GET", pages_admin.users, ADMINS, "users"),
    signed_in("/admin/users", "POST", pages_admin.add_user, ADMINS, "add_user"),
    signed_in("/admin/users/change", "POST", pages_admin.change_user, ADMINS, "change_user"),
    signed_in("/admin/access", "GET", pages_admin.access_log, ADMINS, "access_log"),
)

TWILIO = Route("/twilio", ("POST",), None, SIGNED, "twilio", mount=True)
"""The Twilio webhooks (hotline.web.twilio), mounted when HOTLINE_TWILIO_AUTH_TOKEN is set."""
