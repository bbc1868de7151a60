"""The auditor's accesses — search, view, playback, export, unmask — into the access log.

    audit.record(ctx, "show", call_id, detail="...")     # purpose: the session's case

Fails closed: an access that cannot be logged is not served (Unavailable), so no search,
view or playback ever happens without its line in the hash-chained log.

The log itself is ``hotline.stores.access.AccessLog`` (built beside the transcript search);
while this build lacks it, every auditor access answers 503 saying so.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from hotline.web.context import Ctx
from hotline.web.errors import PurposeRequired, Unavailable

MODULE = "hotline.stores.access"


def _access() -> Any:
    if importlib.util.find_spec(MODULE) is None:
        raise Unavailable(
            "the access log (hotline.stores.access) is not in this build: auditor accesses "
            "are refused rather than left unlogged"
        )
    return importlib.import_module(MODULE)


def record(
    ctx: Ctx, action: str, target: str, *, purpose: str | None = None, detail: str = ""
) -> None:
    """Append one access; Forbidden without a purpose, Unavailable without the log."""
    assert ctx.session is not None
    purpose = ctx.session.purpose if purpose is None else purpose
    if not purpose:
        raise PurposeRequired(ctx.t("audit.no_purpose"))
    access = _access()
    log = ctx.app.cache.get("access-log")
    if log is None:
        log = (0, access.AccessLog.open(ctx.app.settings.db))
        ctx.app.cache["access-log"] = log
    user = ctx.session.user
    log[1].append(
        access.AccessEntry(
            t=ctx.app.clock(),
            user=user.username,
            role=user.role.value,
            action=action,
            target=target,
            purpose=purpose,
            detail=detail,
        )
    )
