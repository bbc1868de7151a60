"""The route table: every URL of the web app, its methods, its handler and who may use it.

The app is built from this table alone (:func:`hotline.web.app.create_app`), and the tests
generate their authorization matrix from it: a route cannot exist without declaring its
access, and a new route is tested for every role (and anonymous) without anyone adding a
test. ``Route.stream`` marks a response that never ends (SSE); ``Route.mount`` a
sub-application (the Twilio webhooks), which checks its own signatures.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.web import (
    media,
    ops,
    pages_admin,
    pages_agent,
    pages_audit,
    pages_auth,
    pages_board,
    pages_search,
    static,
)
from hotline.web.guard import Handler
from hotline.web.roles import ANY_USER, PUBLIC, SIGNED, Access, Role

SUPERVISORS = Access.of(Role.SUPERVISOR, Role.ADMIN)
AGENTS = Access.of(Role.AGENT)
AUDITORS = Access.of(Role.AUDITOR)
ADMINS = Access.of(Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    methods: tuple[str, ...]
    handler: Handler | None
    access: Access
    name: str
    stream: bool = False
    mount: bool = False


def _r(
    path: str, methods: str, handler: Handler, access: Access, name: str, stream: bool = False
) -> Route:
    return Route(path, tuple(methods.split()), handler, access, name, stream)


ROUTES: tuple[Route, ...] = (
    _r("/healthz", "GET", ops.healthz, PUBLIC, "healthz"),
    _r("/login", "GET", pages_auth.login_form, PUBLIC, "login_form"),
    _r("/login", "POST", pages_auth.login, PUBLIC, "login"),
    _r("/static/{name}", "GET", static.serve, PUBLIC, "static"),
    # an admin's session, or a scraper's bearer token (the handler checks which)
    _r("/metrics", "GET", ops.metrics, Access(frozenset({Role.ADMIN}), signed=True), "metrics"),
    _r("/", "GET", pages_auth.home, ANY_USER, "home"),
    _r("/logout", "POST", pages_auth.logout, ANY_USER, "logout"),
    _r("/lang", "POST", pages_auth.set_lang, ANY_USER, "lang"),
    _r("/password", "GET", pages_admin.password_form, ANY_USER, "password_form"),
    _r("/password", "POST", pages_admin.change_password, ANY_USER, "password"),
    # supervisors (and admins, who see every team)
    _r("/wallboard", "GET", pages_board.wallboard, SUPERVISORS, "wallboard"),
    _r("/wallboard/charts", "GET", pages_board.charts_fragment, SUPERVISORS, "charts"),
    _r("/api/live", "GET", pages_board.live_json, SUPERVISORS, "live"),
    _r("/api/stats", "GET", pages_board.stats, SUPERVISORS, "stats"),
    _r("/events", "GET", pages_board.events, SUPERVISORS, "events", stream=True),
    _r("/supervisor/agent", "POST", pages_board.act_on_agent, SUPERVISORS, "act_on_agent"),
    _r("/supervisor/notice", "POST", pages_board.switch_notice, SUPERVISORS, "notice"),
    _r("/alerts/ack", "POST", pages_board.ack_alert, SUPERVISORS, "ack_alert"),
    _r("/alerts/close", "POST", pages_board.close_alert, SUPERVISORS, "close_alert"),
    # agents
    _r("/me", "GET", pages_agent.me, AGENTS, "me"),
    _r("/api/me", "GET", pages_agent.me_json, AGENTS, "me_json"),
    _r("/me/command", "POST", pages_agent.me_command, AGENTS, "me_command"),
    # auditors
    _r("/audit/search", "GET", pages_audit.search_page, AUDITORS, "search_page"),
    _r("/audit/search", "POST", pages_search.search, AUDITORS, "search"),
    _r("/audit/purpose", "POST", pages_audit.set_purpose, AUDITORS, "purpose"),
    _r("/audit/calls/{call_id}", "GET", pages_audit.call_page, AUDITORS, "call"),
    _r("/audit/calls/{call_id}/unmask", "POST", pages_audit.unmask_call, AUDITORS, "unmask"),
    _r("/audit/calls/{call_id}/export", "POST", pages_audit.export_call, AUDITORS, "export"),
    _r("/media/{media_id}", "GET", media.serve, AUDITORS, "media"),
    # admins
    _r("/admin/users", "GET", pages_admin.users, ADMINS, "users"),
    _r("/admin/users", "POST", pages_admin.add_user, ADMINS, "add_user"),
    _r("/admin/users/change", "POST", pages_admin.change_user, ADMINS, "change_user"),
    _r("/admin/access", "GET", pages_admin.access_log, ADMINS, "access_log"),
)

TWILIO = Route("/twilio", ("POST",), None, SIGNED, "twilio", mount=True)
"""The Twilio webhooks (hotline.web.twilio), mounted when HOTLINE_TWILIO_AUTH_TOKEN is set."""
