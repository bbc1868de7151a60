"""Catalogue the legs of ended calls and queue their speech-to-text jobs.

When a call with a recording ends, the controller hands it to the :class:`Recorder`
(:meth:`Recorder.call_ended`); :meth:`Recorder.serve` waits for the call's files to close
(MixMonitor closes them at hang-up), describes each leg, stores it in the catalogue and
queues a job per leg to transcribe. What it could not finish (three failed tries, a
controller killed meanwhile) the sweep (:mod:`.sweep`) finds later on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from redis.exceptions import RedisError

from hotline.pbx.instance import MOUNT_POINT
from hotline.recordings.catalogue import RecordingError, describe, host_path, leg_paths
from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg, Recording
from hotline.stores import dialect as db
from hotline.stores.integrity import IntegrityAlerts
from hotline.stt.jobs import Job

log = logging.getLogger(__name__)
SETTLE_S = 0.5  # a file whose size did not change for this long is closed
GIVE_UP_S = 30.0
TRIES = 3
AT_ONCE = 4  # calls catalogued at the same time (each waits for its files to close)


class Catalogue(Protocol):
    """The recordings' catalogue in the history (:class:`hotline.stores.history.History`)."""

    @property
    def file(self) -> str: ...  # where the integrity alerts are kept too

    def save_recordings(self, recordings: Iterable[Recording], at: int) -> list[Mismatch]: ...
    def queued_legs(self, call_id: str) -> set[Leg]: ...
    def mark_queued(self, recordings: Iterable[Recording], at: int) -> None: ...


class Jobs(Protocol):
    """Where speech-to-text jobs go (:class:`hotline.stt.stream.JobStream`)."""

    async def add(self, job: Job) -> None: ...


@dataclass(frozen=True, slots=True)
class Ended:
    call_id: str
    prefix: str  # as the PBX wrote it (HotlineRecording)


async def _settled(paths: list[str], settle_s: float) -> dict[str, int]:
    """Sizes of the files that exist, once none of them grew for ``settle_s``."""

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
        await asyncio.sleep(settle_s)
        now = sizes()
        if (now == before and now) or loop.time() > deadline:
            return now
        before = now


class Recorder:
    """The ended calls waiting to be catalogued, and those being catalogued.

    ``catalogue``: the history's recordings; ``jobs``: the speech-to-text job stream;
    ``pbx_dir``: the PBX instance, where its ``/srv/hotline/...`` paths are on this host;
    ``clock``: milliseconds (the catalogue's times).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        jobs: Jobs,
        pbx_dir: Path,
        clock: Callable[[], int],
        *,
        settle_s: float = SETTLE_S,
    ) -> None:
        self.catalogue = catalogue
        self.jobs = jobs
        self.pbx_dir = pbx_dir
        self.clock = clock
        self.settle_s = settle_s
        self.ended: asyncio.Queue[Ended] = asyncio.Queue()
        self.cataloguing: set[str] = set()  # ended calls whose legs are in hand

    def call_ended(self, call_id: str, prefix: str) -> None:
        """A call recorded under ``prefix`` (as the PBX wrote it) ended: catalogue its legs."""
        self.cataloguing.add(call_id)
        self.ended.put_nowait(Ended(call_id, prefix))

    def in_hand(self, call_id: str) -> bool:
        """Whether the call's legs are still to be catalogued here (the sweep keeps off)."""
        return call_id in self.cataloguing

    async def catalogue_call(self, ended: Ended) -> list[Recording]:
        """Catalogue the legs of an ended call once their files are closed."""
        prefix = host_path(ended.prefix, MOUNT_POINT, self.pbx_dir)
        legs = leg_paths(prefix)
        present = await _settled([str(p) for p in legs.values()], self.settle_s)
        return await self.catalogue_legs(
            ended.call_id, {leg: path for leg, path in legs.items() if str(path) in present}
        )

    async def catalogue_legs(self, call_id: str, legs: Mapping[Leg, Path]) -> list[Recording]:
        """Describe closed legs, store them in the catalogue, queue their speech-to-text jobs.

        Stored first, queued after: a failure between the two leaves a catalogued leg
        without a job, which the catalogue marks (``t_queued`` unset) and the sweep queues
        later; never a job for a leg the catalogue does not know.
        """
        found = []
        for leg, path in legs.items():
            try:
                found.append(await asyncio.to_thread(describe, call_id, leg, path))
            except RecordingError as exc:
                log.error("recording of %s not catalogued: %s", call_id, exc)
        refused = []
        if found:
            now = self.clock()
            refused = await asyncio.to_thread(self.catalogue.save_recordings, found, now)
        if refused:
            await asyncio.to_thread(self._alert, refused)
            changed = {(m.call_id, m.leg) for m in refused}
            found = [rec for rec in found if (rec.call_id, rec.leg) not in changed]
        done = await asyncio.to_thread(self.catalogue.queued_legs, call_id)
        jobs = [
            r for r in found if r.leg is not Leg.MIXED and r.duration_ms > 0 and r.leg not in done
        ]
        await self.queue_jobs(jobs)  # once each, however often this is tried
        return found

    async def queue_jobs(self, recordings: list[Recording]) -> None:
        """Put the legs' speech-to-text jobs in the stream, and say so in the catalogue (a
        leg whose job did not get there is queued by the sweep once Redis answers again)."""
        for rec in recordings:
            await self.jobs.add(Job(rec.call_id, rec.leg, rec.path, rec.sha256, rec.duration_ms))
            await asyncio.to_thread(self.catalogue.mark_queued, [rec], self.clock())

    def _alert(self, refused: list[Mismatch]) -> None:
        """A catalogued leg whose bytes changed: an integrity alert, and no new STT job."""
        alerts = IntegrityAlerts.open(self.catalogue.file)
        try:
            for m in refused:
                log.error("recording %s/%s changed since it was catalogued", m.call_id, m.leg.value)
                alerts.add(m, by="controller", at=self.clock())
        finally:
            alerts.close()

    async def _catalogue_safely(self, ended: Ended, gate: asyncio.Semaphore) -> None:
        """Three tries; after them (or a crash) the sweep (:mod:`.sweep`) finds the legs."""
        try:
            async with gate:
                for attempt in range(TRIES):
                    try:
                        await self.catalogue_call(ended)
                        return
                    except (OSError, RedisError, *db.DatabaseError) as exc:
                        log.error(
                            "cataloguing %s failed (%s), attempt %d",
                            ended.call_id, exc, attempt + 1,
                        )  # fmt: skip
                        await asyncio.sleep(1.0 + attempt * 2)
        finally:
            self.cataloguing.discard(ended.call_id)

    async def serve(self) -> None:
        """Catalogue calls as they end, four at a time (each waits for its files to close)."""
        gate = asyncio.Semaphore(AT_ONCE)
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                ended = await self.ended.get()
                task = asyncio.create_task(self._catalogue_safely(ended, gate))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)


class Recorders:
    """The recorder of the PBX a call is on, by the call's id (each PBX's paths are under
    its own instance on this host): for a component that hands on the legs of calls on
    any PBX (the recaller's attempts)."""

    def __init__(self, recorder_of: Callable[[str], Recorder]) -> None:
        self.recorder_of = recorder_of

    def call_ended(self, call_id: str, prefix: str) -> None:
        self.recorder_of(call_id).call_ended(call_id, prefix)
