"""The centre's side of a speech-to-text worker on another host (``HOTLINE_STT_SOURCE=http``
on the worker; :mod:`hotline.stt.centre` is the other end and describes the wire).

    GET  /stt/legs/{call_id}/{leg}   the catalogued leg's bytes, streamed, with its SHA-256
    POST /stt/transcripts            a transcript, written through the transcript store
    POST /stt/alerts                 an integrity mismatch the worker found

Each request carries the workers' token (``HOTLINE_STT_TOKEN``), compared in constant
time: none → 401, a wrong one (or a browser's session instead) → 403. The leg's file is
the catalogue's (the history's recordings table), found by call id and leg; nothing of the
request becomes a path. Every fetch is in the access log (a recording is personal data),
before the first byte: a fetch that cannot be logged is not served. The worker checks the
SHA-256; the centre does not read each file twice.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessEntry
from hotline.stores.dialect import DatabaseError
from hotline.stores.integrity import IntegrityAlerts
from hotline.stt.centre import REASON_HEADER, SHA_HEADER, WORKER_HEADER
from hotline.stt.legs import flag_stored
from hotline.transcripts.wire import SHA256, WireError, from_doc
from hotline.web import audit
from hotline.web.context import Ctx
from hotline.web.errors import BadRequest, Conflict, Forbidden, Unauthorized, Unavailable
from hotline.web.guard import bearer_ok
from hotline.web.qa_scoring import qa_store

CHUNK = 64 * 1024
BODY_LIMIT = 16 * 1024 * 1024  # a transcript of hours, with every word's times
ROLE = "stt-worker"
_NAME = re.compile(r"[A-Za-z0-9._:@-]{1,80}")
LEGS = {leg.value: leg for leg in (Leg.CALLER, Leg.AGENT)}


def worker_of(ctx: Ctx) -> str:
    """The worker's name once its token is the centre's (raises 401/403 otherwise)."""
    if ctx.session is not None:
        raise Forbidden("the worker endpoints take a worker's token, not a session")
    given = ctx.request.headers.get("authorization", "")
    if not given:
        raise Unauthorized("a worker's token is needed: Authorization: Bearer <HOTLINE_STT_TOKEN>")
    token = ctx.app.settings.stt_token
    if not token:
        raise Forbidden("this centre serves no remote worker: HOTLINE_STT_TOKEN is not set")
    if not bearer_ok(ctx.request, token):
        raise Forbidden("wrong worker token")
    name = ctx.request.headers.get(WORKER_HEADER, "")
    return name if _NAME.fullmatch(name) else "unnamed"


def _log_fetch(ctx: Ctx, worker: str, target: str, detail: dict[str, Any]) -> None:
    entry = AccessEntry(
        t=ctx.app.clock(), user=f"{ROLE}:{worker}", role=ROLE, action="fetch", target=target,
        purpose="transcription",
        detail=json.dumps({"via": "stt", **detail}, ensure_ascii=False, sort_keys=True),
    )  # fmt: skip
    audit.append(ctx, entry, "leg not served")


def _alert(ctx: Ctx, mismatch: Mismatch, by: str) -> None:
    alerts = IntegrityAlerts.open(ctx.app.settings.db)
    try:
        alerts.add(mismatch, by=by, at=ctx.app.clock())
    finally:
        alerts.close()


def _no_leg(message: str, reason: str) -> Response:
    return PlainTextResponse(message, 404, headers={REASON_HEADER: reason})


def _chunks(fd: int) -> Iterator[bytes]:
    try:
        while data := os.read(fd, CHUNK):
            yield data
    finally:
        os.close(fd)


async def fetch_leg(ctx: Ctx) -> Response:
    """The leg's bytes as catalogued (its SHA-256 in a header, for the worker to check)."""
    worker = worker_of(ctx)
    call_id = ctx.request.path_params.get("call_id", "")
    leg = LEGS.get(ctx.request.path_params.get("leg", ""))
    if leg is None:
        return _no_leg("the leg is rx (the caller) or tx (the agent)", "not_catalogued")
    target = f"{call_id}/{leg.value}"
    rec = next((r for r in ctx.app.history.recordings(call_id) if r.leg is leg), None)
    if rec is None:
        return _no_leg(f"call {call_id} has no catalogued {leg.value} leg", "not_catalogued")
    try:
        fd = os.open(rec.path, os.O_RDONLY)
    except OSError as exc:
        _alert(ctx, Mismatch(call_id, leg, rec.path, rec.sha256, "", "missing"), f"{ROLE}:{worker}")
        return _no_leg(f"the recording of {target} is gone: {exc.strerror}", "missing")
    try:
        size = os.fstat(fd).st_size
        _log_fetch(ctx, worker, target, {"bytes": size, "sha256": rec.sha256})
    except BaseException:
        os.close(fd)
        raise
    headers = {"Content-Length": str(size), SHA_HEADER: rec.sha256, "Cache-Control": "no-store"}
    return StreamingResponse(_chunks(fd), 200, headers=headers, media_type="audio/wav")


async def put_transcript(ctx: Ctx) -> Response:
    """Store a worker's transcript: only of a catalogued leg, made from its catalogued
    bytes (409 otherwise); then the call's QA flags once its last leg is in."""
    worker_of(ctx)
    try:
        transcript = from_doc(await ctx.json(BODY_LIMIT))
    except WireError as exc:
        raise BadRequest(f"not a transcript: {exc}") from None
    t = transcript
    rec = next((r for r in ctx.app.history.recordings(t.call_id) if r.leg is t.leg), None)
    if rec is None:
        raise Conflict(f"call {t.call_id} has no catalogued {t.leg.value} leg")
    if rec.sha256 != t.audio_sha256:
        raise Conflict(f"the transcript of {t.call_id}/{t.leg.value} was made from other bytes "
                       "than the catalogued leg's")  # fmt: skip
    try:
        ctx.app.transcripts.save(t)
    except DatabaseError as exc:
        raise Unavailable(f"the transcript store cannot be written: {exc}") from None
    flags = flag_stored(ctx.app.history, ctx.app.transcripts, qa_store(ctx), ctx.app.center,
                        t.call_id)  # fmt: skip
    return JSONResponse({"saved": f"{t.call_id}/{t.leg.value}", "flags": flags})


async def put_alert(ctx: Ctx) -> Response:
    """Store the integrity mismatch a worker found in a leg it fetched."""
    worker = worker_of(ctx)
    doc = await ctx.json(BODY_LIMIT)
    leg = LEGS.get(str(doc.get("leg", "")))
    call_id, expected, actual = (str(doc.get(k, "")) for k in ("call_id", "expected", "actual"))
    if leg is None or not call_id or len(call_id) > 200:
        raise BadRequest("an alert names a call_id and its leg (rx or tx)")
    if not all(SHA256.fullmatch(h) or h == "" for h in (expected, actual)):
        raise BadRequest("expected and actual are SHA-256 digests (64 hex digits)")
    rec = next((r for r in ctx.app.history.recordings(call_id) if r.leg is leg), None)
    path = rec.path if rec is not None else ""
    _alert(ctx, Mismatch(call_id, leg, path, expected, actual, "integrity"), f"{ROLE}:{worker}")
    return JSONResponse({"alert": f"{call_id}/{leg.value}"})
