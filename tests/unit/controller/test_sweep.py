"""The recording sweep: legs on disk the catalogue lacks are catalogued (a header a killed
PBX left unfinished, finished first) and linked to their call; what is in progress, in the
recorder's hands or still being written is left alone; jobs Redis missed are queued."""

from __future__ import annotations

import asyncio
import os
import struct
import time
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from hotline.calls.namespace import Namespace
from hotline.controller.recorder import Recorder
from hotline.controller.sweep import Sweep
from hotline.core.records import CallRecord
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stt.stream import MemoryJobs
from tests.unit.test_recordings import wav

from .parts import Clock

T = 1_796_169_600_000 + 3_600_000  # 2026-12-02 01:00:00 UTC
DAY = "spool/recordings/2026/12/02"
PREFIX = f"/srv/hotline/{DAY}"


def unfinished(path: Path, seconds: float) -> Path:
    """A leg as MixMonitor leaves it when Asterisk is killed: RIFF and data sizes 0."""
    head = (
        b"RIFF" + struct.pack("<I", 0) + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 0)
    )  # fmt: skip
    path.write_bytes(head + b"\x01\x00" * int(seconds * 8000))
    return path


def on_disk(pbx_dir: Path, call_id: str, *, quiet: bool = True, killed: bool = False) -> None:
    """The call's legs in today's folder; ``quiet``: untouched for a minute."""
    folder = pbx_dir / DAY
    folder.mkdir(parents=True, exist_ok=True)
    rx = folder / f"{call_id}-rx.wav"
    unfinished(rx, 1.0) if killed else wav(rx, 1.0)
    paths = [rx, wav(folder / f"{call_id}-tx.wav", 0.5), wav(folder / f"{call_id}.wav", 1.0)]
    if quiet:
        for path in paths:
            then = time.time() - 60
            os.utime(path, (then, then))


class Parts:
    def __init__(self, history: History, pbx_dir: Path) -> None:
        self.jobs = MemoryJobs()
        self.recorder = Recorder(history, self.jobs, pbx_dir, Clock(T), settle_s=0.01)
        self.calls: set[str] = set()
        self.sweep = Sweep(self.recorder, self.calls, history, pbx_dir, Clock(T))

    def once(self) -> None:
        asyncio.run(self.sweep.once(days=2))

    def queued(self) -> list[tuple[str, Leg]]:
        return [(j.call_id, j.leg) for j in self.jobs.jobs]


def test_legs_the_catalogue_lacks_are_catalogued_their_header_finished_and_linked(
    history: History, tmp_path: Path
) -> None:
    """The PBX was killed mid-call, the controller with it: the legs are all on disk."""
    parts = Parts(history, tmp_path)
    history.save_calls([CallRecord(call_id="1796.7")])  # from queue_log, no recording
    on_disk(tmp_path, "1796.7", killed=True)
    parts.once()
    legs = {r.leg: r for r in history.recordings("1796.7")}
    assert set(legs) == {Leg.CALLER, Leg.AGENT, Leg.MIXED}
    assert legs[Leg.CALLER].duration_ms == 1000  # its header was finished first
    record = history.call("1796.7")
    assert record is not None
    assert record.recording == f"{PREFIX}/1796.7"  # as the PBX wrote it
    assert parts.queued() == [("1796.7", Leg.CALLER), ("1796.7", Leg.AGENT)]
    assert not parts.sweep.waiting
    parts.once()  # done: not looked at again
    assert parts.queued() == [("1796.7", Leg.CALLER), ("1796.7", Leg.AGENT)]


def test_a_call_without_a_record_yet_is_linked_once_queue_log_brings_it(
    history: History, tmp_path: Path
) -> None:
    parts = Parts(history, tmp_path)
    on_disk(tmp_path, "1796.8")
    parts.once()
    assert len(history.recordings("1796.8")) == 3  # catalogued already
    assert parts.sweep.waiting  # but looked at again soon
    history.save_calls([CallRecord(call_id="1796.8")])
    parts.once()
    record = history.call("1796.8")
    assert record is not None
    assert record.recording == f"{PREFIX}/1796.8"
    assert len(history.recordings("1796.8")) == 3  # each leg catalogued once
    assert parts.queued() == [("1796.8", Leg.CALLER), ("1796.8", Leg.AGENT)]  # queued once
    assert not parts.sweep.waiting


def test_calls_in_progress_in_hand_or_still_written_are_left_alone(
    history: History, tmp_path: Path
) -> None:
    parts = Parts(history, tmp_path)
    history.save_calls([CallRecord(call_id=c) for c in ("1796.1", "1796.2", "1796.3")])
    on_disk(tmp_path, "1796.1")
    parts.calls.add("1796.1")  # still talking
    on_disk(tmp_path, "1796.2")
    parts.recorder.cataloguing.add("1796.2")  # ended just now: the recorder has it
    on_disk(tmp_path, "1796.3", quiet=False)  # ended a moment ago, files just closed
    parts.once()
    assert [history.recordings(c) for c in ("1796.1", "1796.2", "1796.3")] == [[], [], []]
    assert parts.queued() == []
    assert parts.sweep.waiting  # 1796.3 is looked at again once quiet


def test_jobs_that_never_reached_redis_are_queued_once_it_answers(
    history: History, tmp_path: Path
) -> None:
    parts = Parts(history, tmp_path)
    history.save_calls([CallRecord(call_id="1796.9")])
    on_disk(tmp_path, "1796.9")
    parts.jobs.down = True
    with pytest.raises(RedisError):  # the serving loop logs it and sweeps again soon
        parts.once()
    assert len(history.recordings("1796.9")) == 3  # catalogued, its jobs not queued
    parts.jobs.down = False
    parts.once()
    parts.once()
    assert parts.queued() == [("1796.9", Leg.CALLER), ("1796.9", Leg.AGENT)]
    assert history.unqueued() == []


def test_the_sweep_waits_until_the_calls_in_progress_are_known(
    history: History, tmp_path: Path
) -> None:
    """Before the first resync a call still talking looks like one that ended."""
    parts = Parts(history, tmp_path)
    history.save_calls([CallRecord(call_id="1796.4")])
    on_disk(tmp_path, "1796.4")

    async def run() -> None:
        ready = asyncio.Event()
        task = asyncio.create_task(parts.sweep.serve(ready))
        await asyncio.sleep(0.1)
        assert history.recordings("1796.4") == []
        ready.set()
        async with asyncio.timeout(5):
            while "1796.4" not in parts.sweep.done:
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert len(history.recordings("1796.4")) == 3


def test_another_pbxs_recordings_are_swept_under_its_calls_ids(
    history: History, tmp_path: Path
) -> None:
    """PBX 2 writes ``<uid>-rx.wav`` into its own spool; its call is ``pbx2:<uid>``."""
    pbx2 = tmp_path / "pbx2"
    jobs = MemoryJobs()
    recorder = Recorder(history, jobs, pbx2, Clock(T), settle_s=0.01)
    sweep = Sweep(recorder, set(), history, pbx2, Clock(T), root=pbx2 / "spool" / "recordings",
                  namespace=Namespace("pbx2", qualified=True), queue_late=False)  # fmt: skip
    history.save_calls([CallRecord(call_id="1796.7"), CallRecord(call_id="pbx2:1796.7")])
    on_disk(pbx2, "1796.7")
    history.save_recordings(  # a leg of pbx1's 1796.7 whose job never reached Redis
        [describe("1796.7", Leg.CALLER, wav(tmp_path / "pbx1-rx.wav", 1.0))], T
    )
    asyncio.run(sweep.once(days=2))
    assert {r.leg for r in history.recordings("pbx2:1796.7")} == set(Leg)
    assert all(r.path.startswith(str(pbx2 / DAY)) for r in history.recordings("pbx2:1796.7"))
    assert [r.leg for r in history.recordings("1796.7")] == [Leg.CALLER]  # pbx1's: untouched
    two = history.call("pbx2:1796.7")
    assert two is not None
    assert two.recording == f"{PREFIX}/1796.7"  # as pbx2 wrote it
    one = history.call("1796.7")
    assert one is not None
    assert one.recording == ""
    # its legs' jobs are queued; pbx1's late job is left to the default PBX's sweep
    assert [(j.call_id, j.leg) for j in jobs.jobs] == [
        ("pbx2:1796.7", Leg.CALLER), ("pbx2:1796.7", Leg.AGENT),
    ]  # fmt: skip
    assert sweep.done == {"pbx2:1796.7"}
