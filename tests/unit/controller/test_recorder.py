"""The recorder: an ended call's legs catalogued once and their jobs queued once, what a
failure leaves for the sweep, and a leg whose bytes changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from hotline.controller.recorder import Ended, Recorder
from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stt.jobs import Job
from hotline.stt.stream import MemoryJobs
from tests.unit.test_recordings import wav

from .parts import Clock

T = 1_796_169_600_000  # 2026-12-02 00:00:00 UTC
DAY = "spool/recordings/2026/12/02"


def recorded(pbx_dir: Path, call_id: str, seconds: float = 0.5) -> str:
    """The call's three legs written as MixMonitor leaves them; its prefix as the PBX has it."""
    folder = pbx_dir / DAY
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("-rx.wav", "-tx.wav", ".wav"):
        wav(folder / f"{call_id}{suffix}", seconds)
    return f"/srv/hotline/{DAY}/{call_id}"


def recorder_on(history: History, pbx_dir: Path, jobs: MemoryJobs | None = None) -> Recorder:
    return Recorder(history, jobs or MemoryJobs(), pbx_dir, Clock(T), settle_s=0.01)


async def served(recorder: Recorder, *ended: tuple[str, str]) -> None:
    """Run the recorder until it has catalogued each call as it ends, one after the other."""
    task = asyncio.create_task(recorder.serve())
    for call_id, prefix in ended:
        recorder.call_ended(call_id, prefix)
        assert recorder.in_hand(call_id)  # the sweep keeps off it
        async with asyncio.timeout(5):
            while recorder.in_hand(call_id):
                await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_an_ended_call_is_catalogued_once_and_its_legs_queued_once(
    history: History, tmp_path: Path
) -> None:
    jobs = MemoryJobs()
    recorder = recorder_on(history, tmp_path, jobs)
    prefix = recorded(tmp_path, "1796.7")
    asyncio.run(served(recorder, ("1796.7", prefix), ("1796.7", prefix)))  # told twice
    assert sorted(r.leg.value for r in history.recordings("1796.7")) == ["mixed", "rx", "tx"]
    rx = tmp_path / DAY / "1796.7-rx.wav"
    [caller] = [r for r in history.recordings("1796.7") if r.leg is Leg.CALLER]
    assert jobs.jobs[0] == Job("1796.7", Leg.CALLER, str(rx), caller.sha256, 500)
    assert [(j.call_id, j.leg) for j in jobs.jobs] == [("1796.7", Leg.CALLER),
                                                       ("1796.7", Leg.AGENT)]  # fmt: skip
    assert history.unqueued() == []  # the catalogue knows the jobs are in the stream


def test_a_leg_with_no_sound_and_the_mixed_leg_get_no_job(history: History, tmp_path: Path) -> None:
    jobs = MemoryJobs()
    recorder = recorder_on(history, tmp_path, jobs)
    prefix = recorded(tmp_path, "1796.8", seconds=0)
    (tmp_path / DAY / "1796.8-tx.wav").unlink()  # the caller hung up in the IVR: no agent leg
    asyncio.run(recorder.catalogue_call(Ended("1796.8", prefix)))
    assert sorted(r.leg.value for r in history.recordings("1796.8")) == ["mixed", "rx"]
    assert jobs.jobs == []


def test_a_leg_whose_job_did_not_reach_redis_is_left_for_the_sweep(
    history: History, tmp_path: Path
) -> None:
    jobs = MemoryJobs(down=True)
    recorder = recorder_on(history, tmp_path, jobs)
    prefix = recorded(tmp_path, "1796.9")
    with pytest.raises(RedisError):
        asyncio.run(recorder.catalogue_call(Ended("1796.9", prefix)))
    assert len(history.recordings("1796.9")) == 3  # catalogued: stored before queued
    assert [r.leg for r in history.unqueued()] == [Leg.CALLER, Leg.AGENT]
    jobs.down = False
    asyncio.run(recorder.catalogue_call(Ended("1796.9", prefix)))  # tried again
    assert [j.leg for j in jobs.jobs] == [Leg.CALLER, Leg.AGENT]
    assert history.unqueued() == []


def test_a_leg_whose_bytes_changed_is_an_integrity_alert_and_no_new_job(
    history: History, tmp_path: Path
) -> None:
    jobs = MemoryJobs()
    recorder = recorder_on(history, tmp_path, jobs)
    prefix = recorded(tmp_path, "1796.10")
    asyncio.run(recorder.catalogue_call(Ended("1796.10", prefix)))
    first = {r.leg: r.sha256 for r in history.recordings("1796.10")}
    wav(tmp_path / DAY / "1796.10-rx.wav", 0.7)  # rewritten after cataloguing
    found = asyncio.run(recorder.catalogue_call(Ended("1796.10", prefix)))
    assert Leg.CALLER not in {r.leg for r in found}
    assert {r.leg: r.sha256 for r in history.recordings("1796.10")} == first
    assert len(jobs.jobs) == 2  # the first time's, none for the changed leg
    alerts = IntegrityAlerts.open(history.file)
    try:
        [alert] = alerts.recent()
    finally:
        alerts.close()
    assert (alert.mismatch.call_id, alert.mismatch.leg, alert.raised_by, alert.t_raised) == (
        "1796.10", Leg.CALLER, "controller", T)  # fmt: skip
