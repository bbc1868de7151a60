"""Recordings in the browser: an opaque id per (session, call, leg), an access check and a
SHA-256 check before the first byte, HTTP Range for seeking.

    media_id = grant(ctx, call_id, Leg.CALLER)     # when the call page is shown
    <audio src="/media/{media_id}">                 # GET /media/{id}, with or without Range

The id is random and lives in this process only, for IDLE_MS; it is good for the session
that was shown the page and nobody else. The file's path comes from the catalogue
(the history's recordings table), never from the request; its bytes must still hash to
the SHA-256 taken when it was catalogued, or nothing is served. The first request of a
grant hashes the whole file and is written to the access log as a playback (the page view
was logged already); the player's further range requests check the catalogued size.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import PlainTextResponse, Response, StreamingResponse

from hotline.recordings import integrity
from hotline.recordings.leg import Leg, Recording
from hotline.stores.integrity import IntegrityAlerts
from hotline.web import audit
from hotline.web.context import SignedIn
from hotline.web.errors import IntegrityFailure, NotFound
from hotline.web.ranges import Unsatisfiable, parse_range

IDLE_MS = 2 * 3600_000
MAX_GRANTS = 50_000
CHUNK = 64 * 1024


@dataclass
class Grant:
    username: str
    call_id: str
    leg: Leg
    purpose: str
    t_granted: int
    played: bool = False


def grant(ctx: SignedIn, call_id: str, leg: Leg) -> str:
    now = ctx.app.clock()
    grants = ctx.app.media
    if len(grants) > MAX_GRANTS:
        for key in [k for k, g in grants.items() if now - g.t_granted > IDLE_MS]:
            del grants[key]
    media_id = secrets.token_urlsafe(18)
    grants[media_id] = Grant(ctx.user.username, call_id, leg, ctx.session.purpose, now)
    return media_id


def verified(recording: Recording, alerts: Callable[[integrity.Mismatch], None]) -> Path:
    """The leg's file, once its bytes hash to the catalogue's SHA-256
    (:func:`hotline.recordings.integrity.verify`, the check the STT worker and
    ``hotline play`` make); a mismatch goes to ``alerts`` first, as theirs do."""
    try:
        integrity.verify(recording)
    except integrity.MismatchError as exc:
        alerts(exc.mismatch)
        if exc.mismatch.reason == "missing":
            raise NotFound("the recording's file is missing") from None
        raise IntegrityFailure(
            f"recording {recording.call_id}/{recording.leg.value} fails its SHA-256 check: "
            "it was changed after it was catalogued"
        ) from None
    return Path(recording.path)


def _alert(ctx: SignedIn, mismatch: integrity.Mismatch) -> None:
    """An integrity alert (the table the STT worker and ``hotline play`` write), by who asked."""
    alerts = IntegrityAlerts.open(ctx.app.settings.db)
    try:
        alerts.add(mismatch, by=f"web:{ctx.user.username}", at=ctx.app.clock())
    finally:
        alerts.close()


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, start, os.SEEK_SET)
        while length > 0:
            data = os.read(fd, min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data
    finally:
        os.close(fd)


async def serve(ctx: SignedIn) -> Response:
    media_id = ctx.request.path_params.get("media_id", "")
    g: Grant | None = ctx.app.media.get(media_id)
    now = ctx.app.clock()
    if g is None or g.username != ctx.user.username or now - g.t_granted > IDLE_MS:
        # an id of someone else's session answers as one that never existed
        raise NotFound("no such recording (open the call page again)")
    recording = next((r for r in ctx.app.history.recordings(g.call_id) if r.leg is g.leg), None)
    if recording is None:
        raise NotFound("no such recording")
    if not g.played:
        # the whole file is hashed once per grant (a page view); the player's further
        # range requests find it at its catalogued size
        verified(recording, lambda m: _alert(ctx, m))
        audit.record(
            ctx,
            "play",
            f"{g.call_id}/{g.leg.value}",
            purpose=g.purpose,
            detail=f"sha256 {recording.sha256[:16]}… verified",
        )
        g.played = True
    path = Path(recording.path)
    try:
        size = path.stat().st_size
    except OSError:
        raise NotFound("the recording's file is missing") from None
    if size != recording.size:
        g.played = False  # hash it again next time: it changed under the player
        raise IntegrityFailure(f"recording {g.call_id}/{g.leg.value} changed size")
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
        "Content-Disposition": "inline",
    }
    try:
        span = parse_range(ctx.request.headers.get("range"), size)
    except Unsatisfiable as exc:
        return PlainTextResponse(
            str(exc), 416, headers={**headers, "Content-Range": f"bytes */{size}"}
        )
    start, end = span if span is not None else (0, size - 1)
    length = max(0, end - start + 1)
    headers["Content-Length"] = str(length)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        _chunks(path, start, length), status, headers=headers, media_type="audio/wav"
    )
