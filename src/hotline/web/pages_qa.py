"""The quality inspectors' pages (质检: the auditor role): the week's sample and flagged calls
with the flags' evidence, a call scored beside its players and turns, and the appeals that
a second inspector settles.

    GET  /qa?week=2026-W49                the sample, the flagged calls, the open appeals
    GET  /qa/calls/{call_id}?form=service the call's players, turns and flags; the form
    POST /qa/calls/{call_id}/score        form, item.<key>=points|pass|fail, note
    POST /qa/appeals/{appeal_id}/settle   decision=uphold|revise (revise: item.<key>), note

Flags and turns quote what citizens said, so, like the auditor's pages, these need the
session's purpose and each view goes into the access log; the evidence is masked. The one
who gave a score cannot settle its appeal (the store refuses it too).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response

from hotline.qa.sampling import week_bounds, week_of
from hotline.stores.qa import Appeal, QaStore, QaStoreError, Score, StoredScore
from hotline.transcripts import redact
from hotline.web import audit
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest, Conflict, Forbidden, NotFound
from hotline.web.pages_audit import call_id_of, call_parts, record_of
from hotline.web.qa_scoring import answers_of, form_of, qa_store, score_view, scored, text_field


def _week(ctx: SignedIn) -> tuple[str, int, int]:
    week = ctx.query().get("week", "").strip() or week_of(ctx.app.clock())
    try:
        since, until = week_bounds(week)
    except ValueError:
        raise BadRequest(ctx.t("qa.bad_week", week=week[:20])) from None
    return week, since, until


def flag_view(f: dict[str, Any]) -> dict[str, Any]:
    """A stored flag as shown: its evidence masked (a number said in it is personal data)."""
    return {
        "rule": f["rule"],
        "item": f["item"],
        "speaker": f["speaker"] or "none",
        "start_ms": int(f["start_ms"]),
        "end_ms": int(f["end_ms"]),
        "text": redact.mask(f["text"]),
        "detail": redact.mask(f["detail"]),
    }


def _effective(store: QaStore, call_id: str) -> StoredScore | None:
    return next((s for s in store.scores(call_id) if s.superseded_by is None), None)


def _needs_purpose(ctx: SignedIn, week: str) -> Response:
    """The purpose form, sending the inspector back here once it is set."""
    return ctx.render("qa.html", week=week, purpose="", back=ctx.request.url.path, listed=False)


async def qa_home(ctx: SignedIn) -> Response:
    week, since, until = _week(ctx)
    if not ctx.session.purpose:
        return _needs_purpose(ctx, week)
    store = qa_store(ctx)
    flags = store.flags(since, until)
    picks = store.sample(week)
    audit.record(
        ctx, "qa_list", week, detail=json.dumps({"flags": len(flags), "sample": len(picks)})
    )
    by_call: dict[str, list[dict[str, Any]]] = {}
    for f in flags:
        by_call.setdefault(f["call_id"], []).append(f)
    flagged = [
        {"call_id": c, "agent": fs[0]["agent"], "t_call": fs[0]["t_call"],
         "flags": [flag_view(f) for f in fs], "score": _effective(store, c)}
        for c, fs in by_call.items()
    ]  # fmt: skip
    sample = [
        {"call_id": p.call_id, "agent": p.agent, "reason": p.reason,
         "score": _effective(store, p.call_id)}
        for p in picks
    ]  # fmt: skip
    return ctx.render(
        "qa.html",
        week=week,
        purpose=ctx.session.purpose,
        back="/qa",
        listed=True,
        sample=sample,
        flagged=flagged,
        appeals=[_appeal_row(store, a) for a in store.appeals(state="open")],
    )


def _appeal_row(store: QaStore, a: Appeal) -> dict[str, Any]:
    stored = store.score(a.score_id)
    return {"appeal": a, "score": score_view(store, stored) if stored else None}


def _form_for_call(ctx: SignedIn) -> str:
    forms = ctx.app.center.qa.forms
    name = ctx.query().get("form", "") or next(iter(forms), "")
    return form_of(ctx, name).name if forms else ""


async def qa_call(ctx: SignedIn) -> Response:
    call_id = call_id_of(ctx)
    if not ctx.session.purpose:
        return _needs_purpose(ctx, week_of(ctx.app.clock()))
    record = record_of(ctx, call_id)
    form_name = _form_for_call(ctx)
    audit.record(ctx, "show", call_id, detail="qa")
    store = qa_store(ctx)
    scores = store.scores(call_id)
    ids = {s.id for s in scores}
    appeals = [a for a in store.appeals() if a.score_id in ids]
    by_id = {s.id: s for s in scores}
    effective = next((s for s in scores if s.superseded_by is None and s.form == form_name), None)
    return ctx.render(
        "qa_call.html",
        call=record,
        caller=redact.mask_phone(record.caller),
        purpose=ctx.session.purpose,
        flags=[flag_view(f) for f in store.flags_of(call_id)],
        form=ctx.app.center.qa.forms.get(form_name),
        forms=list(ctx.app.center.qa.forms.values()),
        effective=score_view(store, effective) if effective else None,
        scores=[score_view(store, s) for s in reversed(scores)],
        appeals=[_appeal_of_call(ctx, store, a, by_id[a.score_id]) for a in appeals],
        **call_parts(ctx, record, unmasked=False),
    )


def _appeal_of_call(ctx: SignedIn, store: QaStore, a: Appeal, s: StoredScore) -> dict[str, Any]:
    """An appeal as the call's page shows it: whether this inspector gave the score (then
    another settles it), and the form version to revise it by."""
    return {"appeal": a, "mine": s.score.reviewer == ctx.user.username,
            "form": store.form(s.form, s.version)}  # fmt: skip


async def qa_score(ctx: SignedIn) -> Response:
    """An inspector's first review of a call: the store refuses a second (appeal instead)."""
    call_id = call_id_of(ctx)
    fields = await ctx.form()
    record = record_of(ctx, call_id)
    if not record.agent:
        raise BadRequest(ctx.t("qa.unanswered"))
    form = form_of(ctx, fields.get("form", ""))
    result = scored(ctx, form, answers_of(fields))
    note = text_field(ctx, fields, "note", required=False)
    agent = ctx.app.center.agent(record.agent)
    score = Score(call_id, record.agent, agent.team if agent else "",
                  record.t_answer or record.t_arrival or 0, ctx.user.username, ctx.app.clock(),
                  result.total, result.failed, dict(result.points), note)  # fmt: skip
    try:
        qa_store(ctx).add_score(score, form)
    except QaStoreError as exc:
        raise Conflict(str(exc)) from None
    return RedirectResponse(f"/qa/calls/{call_id}?form={quote(form.name)}", 303)


async def qa_settle(ctx: SignedIn) -> Response:
    """A second inspector upholds the appealed score, or replaces it with a revised one."""
    raw = str(ctx.request.path_params.get("appeal_id", ""))
    store = qa_store(ctx)
    appeal = None
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        appeal = next((a for a in store.appeals() if a.id == int(raw)), None)
    if appeal is None:
        raise NotFound(ctx.t("qa.no_appeal"))
    original = store.score(appeal.score_id)
    assert original is not None
    if original.score.reviewer == ctx.user.username:
        raise Forbidden(ctx.t("qa.same_reviewer"))
    fields = await ctx.form()
    note = text_field(ctx, fields, "note", required=False)
    decision = fields.get("decision", "")
    now = ctx.app.clock()
    revised = form = None
    if decision == "revise":
        form = store.form(original.form, original.version) or form_of(ctx, original.form)
        result = scored(ctx, form, answers_of(fields))
        s = original.score
        revised = Score(s.call_id, s.agent, s.team, s.t_call, ctx.user.username, now,
                        result.total, result.failed, dict(result.points), note)  # fmt: skip
    elif decision != "uphold":
        raise BadRequest(ctx.t("qa.bad_decision"))
    try:
        store.settle(appeal.id, by=ctx.user.username, at=now, decision=note, revised=revised,
                     form=form)  # fmt: skip
    except QaStoreError as exc:
        raise Conflict(str(exc)) from None
    return RedirectResponse(f"/qa/calls/{original.score.call_id}", 303)
