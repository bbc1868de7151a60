"""The web package's errors: one base, each with a stable id mapped to HTTP in one place.

raise NotFound("no such recording")      # the guard answers HTTP_STATUS["not_found"]
"""

from __future__ import annotations


class WebError(Exception):
    """Base of the web app's errors; ``error_id`` is stable (:data:`HTTP_STATUS` maps it)."""

    error_id = "web"


class AccountError(WebError):
    """An account cannot be made or changed as asked (name, password, role); the text says why."""

    error_id = "account"


class BadRequest(WebError):  # noqa: N818
    """The request is malformed (a missing field, a value out of range)."""

    error_id = "bad_request"


class Unauthorized(WebError):  # noqa: N818
    """A request that must authenticate itself (a worker's bearer token) came without."""

    error_id = "unauthorized"


class Forbidden(WebError):  # noqa: N818
    """Signed in, but this user may not do this (role, scope, a missing purpose)."""

    error_id = "forbidden"


class PurposeRequired(WebError):  # noqa: N818
    """An auditor's access before a purpose (case/工单 number) was given."""

    error_id = "purpose_required"


class NotFound(WebError):  # noqa: N818
    error_id = "not_found"


class Conflict(WebError):  # noqa: N818
    """A step the order's state or the actor's side does not allow (the text says why)."""

    error_id = "conflict"


class Unavailable(WebError):  # noqa: N818
    """A service behind the page (Redis, the controller) did not answer."""

    error_id = "unavailable"


class IntegrityFailure(WebError):  # noqa: N818
    """A recording's bytes no longer match the SHA-256 taken when it was catalogued."""

    error_id = "integrity"


HTTP_STATUS: dict[str, int] = {
    WebError.error_id: 500,
    AccountError.error_id: 400,
    BadRequest.error_id: 400,
    Unauthorized.error_id: 401,
    Forbidden.error_id: 403,
    PurposeRequired.error_id: 428,
    NotFound.error_id: 404,
    Conflict.error_id: 409,
    Unavailable.error_id: 503,
    IntegrityFailure.error_id: 409,
}
