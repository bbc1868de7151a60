"""The two kinds of web handler, and the check that a route hands its handler the kind it
takes.

    ForAnyone(ops.healthz)              # open to signed-out visitors: takes a Ctx
    ForSignedIn(pages_board.wallboard)  # for signed-in roles: takes a SignedIn
    check_kind("wallboard", ForSignedIn(pages_board.wallboard), SUPERVISORS)

mypy holds each wrapper to its handler's type (a signed-in handler cannot be wrapped as
ForAnyone); :func:`check_kind` holds the kind to the route's access and to the handler's
annotation when the route table is built, so a misfit stops the app from starting.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response

from hotline.web.context import Ctx, SignedIn
from hotline.web.roles import Access

KINDS = {"Ctx": Ctx, "SignedIn": SignedIn}


@dataclass(frozen=True, slots=True)
class ForAnyone:
    """The handler of a route open to signed-out visitors (public, or a request that signs
    itself): it takes a :class:`Ctx`, whose session may be None."""

    run: Callable[[Ctx], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ForSignedIn:
    """The handler of a route for signed-in roles: it takes a :class:`SignedIn`, made by
    the guard from the session it found (so it needs no check of its own)."""

    run: Callable[[SignedIn], Awaitable[Response]]


Handler = ForAnyone | ForSignedIn


class RouteError(ValueError):
    """A route whose handler does not take what its access hands it."""


def check_kind(name: str, handler: Handler, access: Access) -> None:
    """Refuse a handler of the wrong kind for the route NAME: a signed-in one where a
    visitor may have no session, a plain one where only sessions get in (the table would
    not say what it does), or one whose annotation takes less than it is given."""
    signed_in = isinstance(handler, ForSignedIn)
    if signed_in != access.needs_session:
        kind, needs = ("signed_in", "anyone") if signed_in else ("anyone", "signed_in")
        raise RouteError(
            f"route {name!r}: {access.describe()} may use it, so it is {needs}(...), "
            f"not {kind}(...)"
        )
    given = SignedIn if signed_in else Ctx
    takes = context_type(handler.run)
    if not (isinstance(takes, type) and issubclass(given, takes)):
        what = getattr(handler.run, "__qualname__", handler.run)
        raise RouteError(
            f"route {name!r}: its handler {what} takes "
            f"{getattr(takes, '__name__', takes)}, but is given a {given.__name__}"
        )


def context_type(run: Callable[..., Awaitable[Response]]) -> object:
    """The annotated type of the handler's first parameter (None if it has none)."""
    try:
        signature = inspect.signature(run, locals=KINDS, eval_str=True)
    except NameError as exc:
        raise RouteError(f"the annotations of {run!r} cannot be read: {exc}") from None
    first = next(iter(signature.parameters.values()), None)
    if first is None or first.annotation is inspect.Parameter.empty:
        return None
    return first.annotation
