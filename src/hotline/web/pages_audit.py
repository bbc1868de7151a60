"""The auditor's pages: the case (purpose) every access is logged under, a call with its
legs, and playback (hotline.web.media); transcript search is hotline.web.pages_search.

Every search, view, playback and export needs a purpose (a case/工单 number) set first;
each is written to the access log with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import RedirectResponse, Response

from hotline.core.records import CallRecord
from hotline.metrics.explain import verdict
from hotline.recordings.leg import Leg
from hotline.stores.docs import to_doc
from hotline.transcripts import redact, turns
from hotline.transcripts.transcript import Transcript
from hotline.web import audit, media
from hotline.web.context import Ctx, SignedIn
from hotline.web.errors import BadRequest, Forbidden, NotFound, PurposeRequired

PURPOSE = re.compile(r"[\w\-/#.:]{3,64}")
"""A case or 工单 number: letters (Chinese too), digits and - / # . : — no spaces."""


def check_purpose(raw: str, ctx: Ctx) -> str:
    purpose = raw.strip()
    if not PURPOSE.fullmatch(purpose):
        raise BadRequest(ctx.t("audit.bad_purpose"))
    return purpose


BACK = re.compile(r"/qa(/calls/[A-Za-z0-9][A-Za-z0-9._-]{0,63}|/report)?")
"""Where a purpose form may send the auditor back to (the QA pages); else the search."""


async def set_purpose(ctx: SignedIn) -> Response:
    form = await ctx.form()
    purpose = check_purpose(form.get("purpose", ""), ctx)
    ctx.app.accounts.update_session(ctx.token, ctx.session, purpose=purpose)
    back = form.get("back", "")
    return RedirectResponse(back if BACK.fullmatch(back) else "/audit/search", 303)


CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A uniqueid: Asterisk's own (epoch.sequence) or one given at Originate (ChannelId);
letters, digits, '.', '_' and '-' only (a path never carries anything else)."""


@dataclass(frozen=True, slots=True)
class ShownWord:
    text: str
    start_ms: int
    masked: bool
    space: bool = False  # a space before it (between two words not both Chinese)


@dataclass(frozen=True, slots=True)
class ShownTurn:
    speaker: str  # "rx" / "tx"
    start_ms: int
    words: tuple[ShownWord, ...]
    text: str  # when the leg has no word times


def shown_turns(transcripts: list[Transcript], unmask: bool) -> list[ShownTurn]:
    """The call's turns, each word masked where it is part of a personal number (ID card,
    mobile, bank card: found on the whole turn, so a number read across words is caught)."""
    out = []
    for turn in turns.merge(transcripts):
        if not turn.words:
            out.append(
                ShownTurn(
                    turn.speaker.value,
                    turn.start_ms,
                    (),
                    turn.text if unmask else redact.mask(turn.text),
                )
            )
            continue
        starts: list[int] = []
        text = turns.join_words([w.text for w in turn.words], starts)
        spans = [] if unmask else [(p.start, p.end) for p in redact.find(text)]
        words = []
        end = 0
        for w, at in zip(turn.words, starts, strict=True):
            hidden = any(a < at + len(w.text) and at < b for a, b in spans)
            shown = "*" * len(w.text) if hidden else w.text
            words.append(ShownWord(shown, w.start_ms, hidden, space=at > end))
            end = at + len(w.text)
        out.append(ShownTurn(turn.speaker.value, turn.start_ms, tuple(words), ""))
    return out


def call_id_of(ctx: Ctx) -> str:
    call_id = str(ctx.request.path_params.get("call_id", ""))
    if not CALL_ID.fullmatch(call_id):
        raise NotFound(ctx.t("audit.no_call"))
    return call_id


def record_of(ctx: SignedIn, call_id: str) -> CallRecord:
    """The call, once the session has a purpose (checked before anything about the call is
    looked up)."""
    if not ctx.session.purpose:
        raise PurposeRequired(ctx.t("audit.no_purpose"))
    record = ctx.app.history.call(call_id)
    if record is None:
        raise NotFound(ctx.t("audit.no_call"))
    return record


def call_parts(ctx: SignedIn, record: CallRecord, unmasked: bool) -> dict[str, Any]:
    """What templates/call_parts.html shows of a call: its legs' players (a media grant
    each) and its turns, masked unless UNMASKED. The caller logs the access first."""
    call_id = record.call_id
    transcripts = ctx.app.transcripts.get(call_id)
    legs = [
        {
            "leg": rec.leg.value,
            "media": media.grant(ctx, call_id, rec.leg),
            "duration_ms": rec.duration_ms,
            "sha256": rec.sha256,
        }
        for rec in ctx.app.history.recordings(call_id)
        if rec.leg is not Leg.MIXED
    ]
    return {"legs": legs, "turns": shown_turns(transcripts, unmasked)}


async def _call_view(ctx: SignedIn, call_id: str, unmasked: bool) -> Response:
    record = record_of(ctx, call_id)
    audit.record(ctx, "unmask" if unmasked else "show", call_id)
    flow = ctx.app.flow
    labels = {q.name: q.label for q in flow.queues.values()} if flow else {}
    v = verdict(record, labels=labels)
    return ctx.render(
        "call.html",
        call=record,
        verdict=v.en if ctx.lang == "en" else v.zh,
        caller=record.caller if unmasked else redact.mask_phone(record.caller),
        can_unmask=ctx.user.can_unmask and not unmasked,
        unmasked=unmasked,
        purpose=ctx.session.purpose,
        **call_parts(ctx, record, unmasked),
    )


async def call_page(ctx: SignedIn) -> Response:
    return await _call_view(ctx, call_id_of(ctx), unmasked=False)


async def unmask_call(ctx: SignedIn) -> Response:
    """Show the call with personal data (auditors allowed to); the unmasking is logged."""
    if not ctx.user.can_unmask:
        raise Forbidden(ctx.t("audit.may_not_unmask"))
    return await _call_view(ctx, call_id_of(ctx), unmasked=True)


async def export_call(ctx: SignedIn) -> Response:
    """The call as a JSON file: its record, the metric verdict and the legs' SHA-256 (the
    caller's number masked unless the auditor may unmask); logged as an export."""
    call_id = call_id_of(ctx)
    record = record_of(ctx, call_id)
    audit.record(ctx, "export", call_id)
    doc = to_doc(record)
    if not ctx.user.can_unmask:
        doc["caller"] = redact.mask_phone(record.caller)
        doc["callback_number"] = redact.mask_phone(record.callback_number)
    v = verdict(record)
    body = {
        "call": doc,
        "verdict": {"zh": list(v.zh), "en": list(v.en)},
        "recordings": [
            {"leg": r.leg.value, "duration_ms": r.duration_ms, "sha256": r.sha256}
            for r in ctx.app.history.recordings(call_id)
        ],
        "exported_by": ctx.user.username,
        "purpose": ctx.session.purpose,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="call-{call_id}.json"'},
    )
