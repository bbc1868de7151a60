"""Catalogue the legs of ended calls and queue their speech-to-text jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from hotline.pbx.instance import MOUNT_POINT
from hotline.recordings.catalogue import RecordingError, describe, host_path, leg_paths
from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg, Recording
from hotline.stores import streams
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.keys import KEYS

if TYPE_CHECKING:
    from hotline.controller.core import Controller

log = logging.getLogger(__name__)
SETTLE_S = 0.5  # a file whose size did not change for this long is closed
GIVE_UP_S = 30.0


@dataclass(frozen=True, slots=True)
class Ended:
    call_id: str
    prefix: str  # as the PBX wrote it (HotlineRecording)


async def _settled(paths: list[str]) -> dict[str, int]:
    """Sizes of the files that exist, once none of them grew for SETTLE_S."""

    def sizes() -> dict[str, int]:
        out = {}
        for p in paths:
            with contextlib.suppress(FileNotFoundError):
                out[p] = os.stat(p).st_size
        return out

    before = sizes()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GIVE_UP_S
    while True:
        await asyncio.sleep(SETTLE_S)
        now = sizes()
        if (now == before and now) or loop.time() > deadline:
            return now
        before = now


async def catalogue(controller: Controller, ended: Ended) -> list[Recording]:
    prefix = host_path(ended.prefix, MOUNT_POINT, controller.settings.pbx_dir)
    legs = leg_paths(prefix)
    present = await _settled([str(p) for p in legs.values()])
    return await catalogue_legs(
        controller, ended.call_id, {leg: path for leg, path in legs.items() if str(path) in present}
    )


async def catalogue_legs(
    controller: Controller, call_id: str, legs: Mapping[Leg, Path]
) -> list[Recording]:
    """Describe closed legs, store them in the catalogue, queue their speech-to-text jobs.

    Stored first, queued after: a failure between the two leaves a catalogued leg without
    a job, which the catalogue marks (``t_queued`` unset) and the sweep queues later; never
    a job for a leg the catalogue does not know.
    """
    found = []
    for leg, path in legs.items():
        try:
            found.append(await asyncio.to_thread(describe, call_id, leg, path))
        except RecordingError as exc:
            log.error("recording of %s not catalogued: %s", call_id, exc)
    refused = []
    if found:
        now = controller.clock()
        refused = await asyncio.to_thread(controller.history.save_recordings, found, now)
    if refused:
        await asyncio.to_thread(_alert, controller, refused)
        changed = {(m.call_id, m.leg) for m in refused}
        found = [rec for rec in found if (rec.call_id, rec.leg) not in changed]
    done = await asyncio.to_thread(controller.history.queued_legs, call_id)
    jobs = [r for r in found if r.leg is not Leg.MIXED and r.duration_ms > 0 and r.leg not in done]
    await queue_jobs(controller, jobs)  # once each, however often this is tried
    return found


async def queue_jobs(controller: Controller, recordings: list[Recording]) -> None:
    """Put the legs' speech-to-text jobs in the stream, and say so in the catalogue (a leg
    whose job did not get there is queued by the sweep once Redis answers again)."""
    for rec in recordings:
        job = {"call_id": rec.call_id, "leg": rec.leg.value, "path": rec.path,
               "sha256": rec.sha256, "duration_ms": rec.duration_ms}  # fmt: skip
        await controller.redis.xadd(KEYS.stt_jobs, streams.fields(job))
        await asyncio.to_thread(controller.history.mark_queued, [rec], controller.clock())


def _alert(controller: Controller, refused: list[Mismatch]) -> None:
    """A catalogued leg whose bytes changed: an integrity alert, and no new STT job."""
    alerts = IntegrityAlerts.open(controller.history.file)
    try:
        for m in refused:
            log.error("recording %s/%s changed since it was catalogued", m.call_id, m.leg.value)
            alerts.add(m, by="controller", at=controller.clock())
    finally:
        alerts.close()


async def _catalogue_safely(controller: Controller, ended: Ended, gate: asyncio.Semaphore) -> None:
    """Three tries; after them (or a crash) the sweep (:mod:`.sweep`) finds the legs."""
    try:
        async with gate:
            for attempt in range(3):
                try:
                    await catalogue(controller, ended)
                    return
                except (OSError, RedisError, sqlite3.Error) as exc:
                    log.error(
                        "cataloguing %s failed (%s), attempt %d", ended.call_id, exc, attempt + 1
                    )
                    await asyncio.sleep(1.0 + attempt * 2)
    finally:
        controller.cataloguing.discard(ended.call_id)


async def serve_recordings(controller: Controller) -> None:
    """Catalogue calls as they end, four at a time (each waits for its files to close)."""
    gate = asyncio.Semaphore(4)
    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            ended = await controller.recordings.get()
            task = asyncio.create_task(_catalogue_safely(controller, ended, gate))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
