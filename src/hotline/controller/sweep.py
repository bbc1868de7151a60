"""Find recorded legs that were never catalogued, and catalogue them.

The recorder catalogues a call's legs when AMI says it ended. A controller killed between
the hang-up and the catalogue, a Redis or SQLite outage longer than its three tries, or a
call that ended while the controller was away (known afterwards from queue_log alone)
leaves WAV files that could never be played, transcribed or disposed of. The sweep runs
at start and every :data:`EVERY_S`: it lists the day folders the dialplan writes to
(``recordings/YYYY/MM/DD``, UTC), and for each call not in progress whose files have been
quiet for :data:`QUIET_S` it catalogues the legs the catalogue lacks (queueing their
speech-to-text jobs) and links the call's record to them; and it queues the jobs of legs
catalogued while Redis was away (the catalogue says which: ``t_queued``). A leg whose WAV
header a killed PBX never finished gets its sizes first (:func:`finish_header`).

A leg is named by the caller channel's ``${UNIQUEID}``, which is the call id: no lookup is
needed to tell whose it is. In a centre on several PBXs each PBX's recordings directory has
its own sweep, and its file names are qualified with that PBX's namespace
(:mod:`hotline.calls.namespace`: ``pbx2:<uid>``) before the catalogue and the history see
them; only the default PBX's sweep queues the jobs Redis missed (the catalogue is one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Protocol

from redis.exceptions import RedisError

from hotline.calls.namespace import Namespace
from hotline.pbx.instance import MOUNT_POINT
from hotline.recordings.catalogue import finish_header
from hotline.recordings.leg import Leg, Recording
from hotline.stores import dialect as db

log = logging.getLogger(__name__)
EVERY_S = 30.0
QUIET_S = 10.0  # MixMonitor closes the files at hang-up; one untouched this long is closed
DAYS_AT_START = 7  # day folders swept at start (a controller away for days)
DAYS = 2  # day folders swept after that: today and yesterday (a call across midnight UTC)

UNQUALIFIED = Namespace("")  # the default PBX's files: their names are the call ids
_SUFFIXES = ((Leg.CALLER, "-rx.wav"), (Leg.AGENT, "-tx.wav"), (Leg.MIXED, ".wav"))


@dataclass(frozen=True, slots=True)
class Found:
    """One call's legs in a day folder."""

    call_id: str
    prefix: Path  # on this host: <folder>/<call_id>
    legs: dict[Leg, Path] = field(default_factory=dict)


def group_legs(folder: Path, names: Iterable[str]) -> list[Found]:
    """The calls whose legs are among ``names`` (file names in ``folder``), by call id.

    Anything else in the folder (a partial copy, a stray file) is left alone.
    """
    calls: dict[str, Found] = {}
    for name in sorted(names):
        leg, suffix = next(((g, x) for g, x in _SUFFIXES if name.endswith(x)), (None, ""))
        call_id = name[: -len(suffix)] if suffix else ""
        if leg is None or not call_id:
            continue
        found = calls.setdefault(call_id, Found(call_id, folder / call_id))
        found.legs[leg] = folder / name
    return list(calls.values())


def day_folders(root: Path, now_ms: int, days: int) -> list[Path]:
    """The folders the dialplan writes to (``%Y/%m/%d`` of EPOCH in UTC), newest first."""
    today = datetime.fromtimestamp(now_ms / 1000, UTC).date()
    return [root / (today - timedelta(days=n)).strftime("%Y/%m/%d") for n in range(days)]


def pbx_prefix(prefix: Path, instance: Path) -> str:
    """The prefix as the PBX wrote it (HotlineRecording): ``/srv/hotline/...``."""
    try:
        return str(PurePosixPath(MOUNT_POINT) / prefix.relative_to(instance).as_posix())
    except ValueError:
        return str(prefix)  # an external Asterisk writing where we read it directly


def _listing(folder: Path) -> list[str]:
    """File names in ``folder`` ([] if it does not exist)."""
    try:
        with os.scandir(folder) as it:
            return [e.name for e in it if e.is_file()]
    except FileNotFoundError:
        return []


class Legs(Protocol):
    """What the sweep asks of the recorder (:class:`hotline.controller.recorder.Recorder`)."""

    def in_hand(self, call_id: str) -> bool: ...
    async def catalogue_legs(self, call_id: str, legs: Mapping[Leg, Path]) -> list[Recording]: ...
    async def queue_jobs(self, recordings: list[Recording]) -> None: ...


class InProgress(Protocol):
    """The calls in progress (:class:`hotline.calls.state.Calls`): their files are open."""

    def __contains__(self, call_id: object) -> bool: ...


class SweptHistory(Protocol):
    """The history's catalogue and calls (:class:`hotline.stores.history.History`)."""

    def recordings(self, call_id: str) -> list[Recording]: ...
    def link_recording(self, call_id: str, prefix: str) -> int | None: ...
    def unqueued(self, limit: int = ...) -> list[Recording]: ...


class Sweep:
    """The sweep and its memory: calls already catalogued and linked (skipped next time).

    ``recorder`` catalogues the legs found and queues their jobs; ``calls``: the calls in
    progress, left alone; ``history``: what the catalogue has, and the calls' records to
    link; ``pbx_dir``: the PBX instance, whose ``spool/recordings`` is swept (or ``root``);
    ``clock``: milliseconds (which day folders). Another PBX's sweep: its ``root`` (its
    recordings directory as this host reaches it), its ``namespace`` (the call ids of its
    files) and ``queue_late=False`` (the default PBX's sweep queues the late jobs).
    """

    def __init__(
        self,
        recorder: Legs,
        calls: InProgress,
        history: SweptHistory,
        pbx_dir: Path,
        clock: Callable[[], int],
        *,
        root: Path | None = None,
        namespace: Namespace = UNQUALIFIED,
        queue_late: bool = True,
    ) -> None:
        self.recorder = recorder
        self.calls = calls
        self.history = history
        self.pbx_dir = pbx_dir
        self.clock = clock
        self.root = root if root is not None else pbx_dir / "spool" / "recordings"
        self.namespace = namespace
        self.queue_late = queue_late
        self.done: set[str] = set()
        self.waiting = False  # the last sweep left files that were not quiet yet

    async def once(self, days: int) -> None:
        """Sweep the last ``days`` day folders; ``self.waiting`` tells afterwards whether
        something is to be looked at again soon (files still being written, no record)."""
        history = self.history
        self.waiting = False
        quiet_before = time.time() - QUIET_S  # file times are the host's
        for folder in day_folders(self.root, self.clock(), days):
            names = await asyncio.to_thread(_listing, folder)
            for found in group_legs(folder, names):
                call_id = self.namespace.call_id(found.call_id)
                if call_id in self.done or call_id in self.calls:
                    continue
                if self.recorder.in_hand(call_id):
                    continue  # the recorder has it in hand
                mtimes = await asyncio.to_thread(_mtimes, found.legs.values())
                if not mtimes or max(mtimes) > quiet_before:
                    self.waiting |= bool(mtimes)
                    continue  # still being written (or gone meanwhile)
                have = {r.leg for r in await asyncio.to_thread(history.recordings, call_id)}
                missing = {leg: path for leg, path in found.legs.items() if leg not in have}
                if missing:
                    for path in missing.values():
                        if await asyncio.to_thread(finish_header, path):
                            log.warning("sweep: %s had an unfinished WAV header: fixed", path)
                    added = await self.recorder.catalogue_legs(call_id, missing)
                    log.info("sweep: catalogued %d legs of %s", len(added), call_id)
                prefix = pbx_prefix(found.prefix, self.pbx_dir)
                linked = await asyncio.to_thread(history.link_recording, call_id, prefix)
                if linked is None:
                    self.waiting = True  # no record yet (queue_log may bring it): look again
                    continue
                self.done.add(call_id)
        if not self.queue_late:
            return
        # legs catalogued while Redis was away: their jobs now
        late = await asyncio.to_thread(history.unqueued)
        if late:
            log.info("sweep: queueing %d legs whose jobs never reached Redis", len(late))
            await self.recorder.queue_jobs(late)

    async def serve(self, ready: asyncio.Event) -> None:
        """Sweep once ``ready`` (the calls in progress are known: their files are left
        alone) a week of folders, then every EVERY_S two; sooner, once they are quiet, when
        a sweep left files that were still being written."""
        days = DAYS_AT_START
        await ready.wait()
        while True:
            try:
                await self.once(days)
                days = DAYS
            except (OSError, RedisError, *db.DatabaseError) as exc:
                log.error("recording sweep failed (%s): again in %.0f s", exc, QUIET_S)
                self.waiting = True  # Redis or the disk is back soon: look again then
            await asyncio.sleep(QUIET_S if self.waiting else EVERY_S)


def _mtimes(paths: Iterable[Path]) -> list[float]:
    out = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            out.append(path.stat().st_mtime)
    return out
