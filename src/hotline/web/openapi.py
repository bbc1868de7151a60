"""The OpenAPI 3.1 document of the work orders' API, generated from the route table.

Every route whose path starts with ``/api/orders`` is in it, with who may use it (the
route's access), its path parameters, and what :data:`OPERATIONS` says of its body and
answer; a route missing from OPERATIONS stops the document from being made (and the test
that it lists every API route fails), so the document cannot fall behind the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from hotline.orders.model import OrderType, Rating, State
from hotline.web.orders_web import VERBS
from hotline.web.roles import Access

PREFIX = "/api/orders"

ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "examples": ["20261028-0001"]},
        "type": {"enum": [t.value for t in OrderType]},
        "category": {"type": "string"}, "place": {"type": "string"},
        "content": {"type": "string", "description": "numbers in it masked"},
        "state": {"enum": [s.value for s in State]},
        "department": {"type": "string"},
        "deadline": {"type": ["integer", "null"], "description": "ms since the epoch"},
        "callers": {"type": "array", "items": {"type": "object"}},
        "pending": {"type": ["string", "null"]},
    },
}  # fmt: skip
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
CREATE = {
    "type": "object", "required": ["type", "category", "content"],
    "properties": {
        "type": {"enum": [t.value for t in OrderType]}, "category": {"type": "string"},
        "content": {"type": "string"}, "place": {"type": "string"},
        "phone": {"type": "string"}, "call_id": {"type": "string"},
        "answer": {"type": "string", "description": "a 咨询 answered on the call: 直接办结"},
    },
}  # fmt: skip
STEP = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "reply, reason, evidence, why"},
        "to": {"type": "string", "description": "dispatch; accept of a return (改派)"},
        "contact": {"type": "string", "description": "reply: how the citizen was reached"},
        "resolved": {"enum": ["yes", "no"]}, "rating": {"enum": [r.value for r in Rating]},
        "into": {"type": "string", "description": "merge: the order to keep"},
        "phone": {"type": "string"}, "call_id": {"type": "string"},
    },
}  # fmt: skip


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


OPERATIONS: dict[str, dict[str, Any]] = {
    "api_orders": {"summary": "The orders the account may see", "parameters": [
        {"name": "state", "in": "query", "schema": {"enum": [s.value for s in State]}},
        {"name": "department", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the orders", **_json(
            {"type": "object", "properties": {"orders": {"type": "array", "items": ORDER}}})}}},
    "api_create": {"summary": "受理: a new order", "requestBody": _json(CREATE),
                   "responses": {"201": {"description": "the order and possible duplicates",
                                         **_json({"type": "object"})}}},
    "api_order": {"summary": "An order, its hash-chained timeline and its bounce findings",
                  "responses": {"200": {"description": "the order", **_json(
                      {"type": "object", "properties": {"order": ORDER}})}}},
    "api_step": {"summary": "A step on an order (the state machine decides who may)",
                 "requestBody": _json(STEP),
                 "responses": {"200": {"description": "the order after it", **_json(
                     {"type": "object", "properties": {"order": ORDER}})},
                     "409": {"description": "the order's state does not allow it",
                             **_json(ERROR)}}},
}  # fmt: skip

ERRORS = {
    "400": {"description": "malformed body or parameter", **_json(ERROR)},
    "401": {"description": "not signed in"},
    "403": {"description": "not this account's (role, CSRF token)"},
    "404": {"description": "no such order (or another department's)", **_json(ERROR)},
}


def _parameters(path: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in re.findall(r"\{(\w+)\}", path):
        schema: dict[str, Any] = {"enum": list(VERBS)} if name == "verb" else {"type": "string"}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


class ApiRoute(Protocol):
    """What the document reads of a route (:class:`hotline.web.routes.Route`)."""

    @property
    def path(self) -> str: ...
    @property
    def methods(self) -> tuple[str, ...]: ...
    @property
    def name(self) -> str: ...
    @property
    def access(self) -> Access: ...


def document(routes: Iterable[ApiRoute]) -> dict[str, Any]:
    """The document of every ``/api/orders`` route among ROUTES."""
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        if not r.path.startswith(PREFIX):
            continue
        op = dict(OPERATIONS[r.name])
        op["operationId"] = r.name
        op["parameters"] = _parameters(r.path) + op.get("parameters", [])
        op["responses"] = {**ERRORS, **op["responses"]}
        op["x-roles"] = sorted(role.value for role in r.access.roles)
        if r.methods[0] == "POST":
            op["security"] = [{"session": [], "csrf": []}]
        for method in r.methods:
            paths.setdefault(r.path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline work orders (工单)", "version": "1",
                 "description": "Sign in with POST /login; send the session's CSRF token "
                                "(answered in X-CSRF-Token by every API GET) with each POST. "
                                "State changes are also POSTed to the platform's webhook, "
                                "signed: X-Hotline-Signature = sha256=HMAC-SHA256(secret, "
                                "X-Hotline-Timestamp + '.' + body)."},
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}}},
        "security": [{"session": []}],
        "paths": paths,
    }  # fmt: skip
