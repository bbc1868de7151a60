"""The web package's errors: one base, each with a stable id mapped to HTTP in one place."""

from __future__ import annotations


class WebError(Exception):
    """Base of the web app's errors; ``error_id`` is stable, ``status`` its HTTP answer."""

    error_id = "web"
    status = 500


class AccountError(WebError):
    """An account cannot be made or changed as asked (name, password, role); the text says why."""

    error_id = "account"
    status = 400


class BadRequest(WebError):  # noqa: N818
    """The request is malformed (a missing field, a value out of range)."""

    error_id = "bad_request"
    status = 400


class Forbidden(WebError):  # noqa: N818
    """Signed in, but this user may not do this (role, scope, a missing purpose)."""

    error_id = "forbidden"
    status = 403


class PurposeRequired(WebError):  # noqa: N818
    """An auditor's access before a purpose (case/工单 number) was given: 428."""

    error_id = "purpose_required"
    status = 428


class NotFound(WebError):  # noqa: N818
    error_id = "not_found"
    status = 404


class Unavailable(WebError):  # noqa: N818
    """A service behind the page (Redis, the controller) did not answer."""

    error_id = "unavailable"
    status = 503


class IntegrityFailure(WebError):  # noqa: N818
    """A recording's bytes no longer match the SHA-256 taken when it was catalogued."""

    error_id = "integrity"
    status = 409
