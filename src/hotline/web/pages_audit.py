"""The auditor's pages: the case (purpose) every access is logged under, transcript search,
a call with its legs, and playback (hotline.web.media).

Every search, view, playback and export needs a purpose (a case/工单 number) set first;
each is written to the access log with it.
"""

from __future__ import annotations

import re

from starlette.responses import RedirectResponse, Response

from hotline.web.context import Ctx
from hotline.web.errors import BadRequest

PURPOSE = re.compile(r"[\w\-/#.:]{3,64}")
"""A case or 工单 number: letters (Chinese too), digits and - / # . : — no spaces."""


def check_purpose(raw: str, ctx: Ctx) -> str:
    purpose = raw.strip()
    if not PURPOSE.fullmatch(purpose):
        raise BadRequest(ctx.t("audit.bad_purpose"))
    return purpose


async def search_page(ctx: Ctx) -> Response:
    assert ctx.session is not None
    return ctx.render("search.html", purpose=ctx.session.purpose, hits=None, form={})


async def set_purpose(ctx: Ctx) -> Response:
    assert ctx.session is not None
    purpose = check_purpose((await ctx.form()).get("purpose", ""), ctx)
    ctx.app.accounts.update_session(ctx.token, ctx.session, purpose=purpose)
    return RedirectResponse("/audit/search", 303)
