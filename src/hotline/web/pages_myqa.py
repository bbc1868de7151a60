"""The agent's side of quality inspection: their own scores, item by item, and an appeal of
one with a reason (a second inspector settles it on the QA pages).

    GET  /me/qa            my scores (revised ones too) and my appeals
    POST /me/qa/appeal     score_id, reason

The agent is the account's, never the form's: a score of someone else is "no such score",
the same answer as one that does not exist.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from hotline.agents.roster import Agent
from hotline.stores.qa import QaStoreError
from hotline.web.context import SignedIn
from hotline.web.errors import Conflict, Forbidden, NotFound
from hotline.web.qa_scoring import number_field, qa_store, score_view, text_field


def _me(ctx: SignedIn) -> Agent:
    agent = ctx.app.center.agent(ctx.user.agent)
    if agent is None:
        raise Forbidden(ctx.t("agent.unknown", ext=ctx.user.agent))
    return agent


async def my_qa(ctx: SignedIn) -> Response:
    agent = _me(ctx)
    store = qa_store(ctx)
    appeals = store.appeals(agent=agent.name)
    scores = []
    for stored in store.scores_of(agent.name):
        view = score_view(store, stored)
        view["appeals"] = [a for a in appeals if a.score_id == stored.id]
        view["can_appeal"] = stored.superseded_by is None and not any(
            a.state == "open" for a in view["appeals"]
        )
        scores.append(view)
    return ctx.render("my_qa.html", agent=agent, scores=scores)


async def my_appeal(ctx: SignedIn) -> Response:
    agent = _me(ctx)
    fields = await ctx.form()
    score_id = number_field(ctx, fields, "score_id")
    reason = text_field(ctx, fields, "reason", required=True)
    store = qa_store(ctx)
    stored = store.score(score_id)
    if stored is None or stored.score.agent != agent.name:
        raise NotFound(ctx.t("qa.no_score"))
    try:
        store.open_appeal(score_id, by=agent.name, reason=reason, at=ctx.app.clock())
    except QaStoreError as exc:
        raise Conflict(str(exc)) from None
    return RedirectResponse("/me/qa", 303)
