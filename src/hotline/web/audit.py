"""The auditor's accesses — search, show, play, export, unmask — into the access log.

    audit.record(ctx, "show", call_id, detail="...")     # purpose: the session's case

The log is the hash-chained :class:`hotline.stores.access.AccessLog` the CLI writes too.
Fails closed: an access that cannot be logged is not served (no purpose: Forbidden; the
log's database failing: Unavailable), so no search, view or playback happens unlogged.
An agent's reads (a recall's preview, the answers proposed from a call) go in through
:func:`read`, without a purpose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from hotline.stores.access import AccessEntry, AccessError
from hotline.stores.dialect import DatabaseError
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import PurposeRequired, Unavailable


def record(
    ctx: SignedIn, action: str, target: str, *, purpose: str | None = None, detail: str = ""
) -> None:
    """Append one access by the signed-in user."""
    purpose = ctx.session.purpose if purpose is None else purpose
    if not purpose:
        raise PurposeRequired(ctx.t("audit.no_purpose"))
    _append(ctx, action, target, purpose, detail)


def read(ctx: SignedIn, action: str, target: str, detail: Mapping[str, object]) -> None:
    """Append one read of personal data by a user who works the calls (an agent's preview
    of a citizen, the proposals made from a call's transcript): no purpose is asked, the
    work is the purpose. Fails closed like :func:`record`."""
    shown = json.dumps({"via": "web", **detail}, ensure_ascii=False, sort_keys=True)
    _append(ctx, action, target, ctx.session.purpose, shown)


def _append(ctx: SignedIn, action: str, target: str, purpose: str, detail: str) -> None:
    user = ctx.user
    entry = AccessEntry(
        t=ctx.app.clock(), user=user.username, role=user.role.value, action=action,
        target=target, purpose=purpose, detail=detail,
    )  # fmt: skip
    append(ctx, entry, "access refused")


def append(ctx: Ctx, entry: AccessEntry, refused: str) -> None:
    """ENTRY into the access log, or Unavailable (503) ending in REFUSED: what is not
    logged is not served."""
    try:
        ctx.app.access_log.append(entry)
    except (*DatabaseError, AccessError) as exc:
        raise Unavailable(f"the access log cannot be written ({exc}): {refused}") from None
