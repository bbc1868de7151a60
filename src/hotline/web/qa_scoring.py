"""What the QA pages share: the store, the centre's forms, a form's answers as posted, and a
stored score as the pages show it.

    form = form_of(ctx, "service")
    result = scored(ctx, form, answers_of(await ctx.form()))   # BadRequest naming each item
    view = score_view(qa_store(ctx), stored)                   # items with labels and points

The answers come as ``item.<key>`` fields: whole points for an ordinary item, ``pass`` or
``fail`` for a critical one (:func:`hotline.qa.forms.score_call` checks them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.qa.forms import Form, FormError, Result, score_call
from hotline.stores.qa import QaStore, StoredScore
from hotline.web.context import Ctx
from hotline.web.errors import BadRequest

ITEM = "item."
MAX_TEXT = 1000  # a comment, a reason, a decision


def qa_store(ctx: Ctx) -> QaStore:
    """The QA store in the history's database (opened when first used)."""
    if ctx.app.qa is None:
        ctx.app.qa = QaStore.open(ctx.app.settings.db)
    return ctx.app.qa


def form_of(ctx: Ctx, name: str) -> Form:
    form = ctx.app.center.qa.forms.get(name)
    if form is None:
        known = ", ".join(sorted(ctx.app.center.qa.forms)) or "-"
        raise BadRequest(ctx.t("qa.no_form", form=name or "-", known=known))
    return form


def answers_of(fields: Mapping[str, str]) -> dict[str, str]:
    """The ``item.<key>`` fields of a posted form, as key → answer."""
    return {k[len(ITEM) :]: v for k, v in fields.items() if k.startswith(ITEM)}


def scored(ctx: Ctx, form: Form, answers: Mapping[str, str]) -> Result:
    try:
        return score_call(form, answers)
    except FormError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise BadRequest(ctx.t("qa.bad_answers", form=form.label, problems=problems)) from None


def text_field(ctx: Ctx, fields: Mapping[str, str], name: str, *, required: bool) -> str:
    value = fields.get(name, "").strip()
    if required and not value:
        raise BadRequest(ctx.t(f"qa.need_{name}"))
    if len(value) > MAX_TEXT:
        raise BadRequest(ctx.t("qa.too_long", field=name, limit=MAX_TEXT))
    return value


def number_field(ctx: Ctx, fields: Mapping[str, str], name: str) -> int:
    raw = fields.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise BadRequest(ctx.t("qa.bad_number", field=name))
    return int(raw)


def score_view(store: QaStore, stored: StoredScore) -> dict[str, Any]:
    """A score with its form's items (the version it was given on), each item's points."""
    s = stored.score
    form = store.form(stored.form, stored.version)
    items = [
        {
            "key": i.key,
            "label": i.label,
            "weight": i.weight,
            "critical": i.critical,
            "points": s.answers.get(i.key),
            "failed": i.key in s.failed,
        }
        for i in (form.items if form else ())
    ]
    return {
        "id": stored.id,
        "call_id": s.call_id,
        "agent": s.agent,
        "form": form.label if form else stored.form,
        "version": stored.version,
        "reviewer": s.reviewer,
        "t": s.t,
        "total": s.total,
        "failed": s.failed,
        "note": s.note,
        "items": items,
        "replaces": stored.replaces,
        "superseded_by": stored.superseded_by,
    }
