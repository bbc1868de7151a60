"""Benchmark: the controller path on real AMI traffic: parse, reducers, Redis, SQLite.

Usage (records the capture first if ``bench/.data/capture-<N>.raw`` is missing; see
capture.py)::

    .venv/bin/python bench/controller.py      # --reps 3 --latency-reps 3 --batches 72,1000
    .venv/bin/python bench/controller.py --profile 72   # cProfile one full run instead

The capture's bytes go through :class:`hotline.ami.protocol.Protocol` in 256 KiB reads (the
client's ``READ_SIZE``); every event it yields (what ``AMIClient`` hands its subscribers:
replies and the unsolicited QueueStatus lists are not events) goes to ``Controller.apply``,
and ``Controller.flush()`` writes the pending changes to a real Redis (a private
redis-server on a Unix socket, our own configuration: AOF, ``appendfsync everysec``) and a
real SQLite history (WAL, ``synchronous=NORMAL``) in a temporary directory. The controller is
built as ``hotline controller`` builds it, with an ``AMIClient`` that is never started.

Throughput, flat out, a flush every N events (``--batches``), one stage at a time
(interleaved repetitions; a fresh controller, an empty Redis and a new SQLite file each run):

* ``parse``: the protocol alone (the peer run);
* ``reducers``: + ``Controller.apply``; what is pending is dropped every N events;
* ``redis``: + ``flush()`` with the history part (ended calls, agent journal) dropped
  first, so only the live store (and the remembered memberships) is written;
* ``full``: + the whole ``flush()``: SQLite through ``asyncio.to_thread``, then Redis.

Latency, event to Redis publish: for every event that changed something, the time from when
its bytes were handed to the parser to when the flush holding its change returned. Measured
flat out (the first ``--latency-messages``) with a flush every N events in the reader's
task; flat out with the live controller's 50 ms flusher as a task beside the reader (as
``Controller._flusher``), the reader yielding only between reads, then also every 64 events;
and paced at Asterisk's observed rate (``--rate`` events/s, ``--paced-events``: one event a
read, handed over when due).

The process (and so the SQLite worker thread) is pinned to one CPU (``--cpu``, default the
last); redis-server to the others. Bounded: about 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import enum
import hashlib
import importlib.metadata
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aredis
from redis.utils import HIREDIS_AVAILABLE

import hotline.ami.protocol
import hotline.calls.state
import hotline.controller.core
from capture import TERMINATOR, ensure_capture, prefix
from hotline.ami.client import READ_SIZE, AMIClient, Endpoint
from hotline.ami.message import Message, MessageKind
from hotline.ami.protocol import Protocol
from hotline.center.config import Center, load_center
from hotline.controller.core import Controller
from hotline.controller.outbox import Pending
from hotline.core.records import AgentChange
from hotline.host.settings import Settings
from hotline.stores import redis_server
from hotline.stores.history import History

EVENT = MessageKind.EVENT
FLUSH_EVERY = 0.05  # s: Controller's default flush_every
YIELD = 64  # events: the "reader yields" variant (a remedy, see the docs)
OBSERVED_RATE = 1_430.0  # events/s Asterisk produced at 10.8 calls/s (issue 5, docs/platform.md)


class Stage(enum.Enum):
    PARSE = "parse"
    REDUCERS = "reducers"
    REDIS = "redis"
    FULL = "full"


# -- the environment: a private Redis, a temporary directory, one CPU ------------------------


@dataclass
class Bed:
    """What every run shares: the settings, the center, the Redis server and a client."""

    settings: Settings
    center: Center
    redis_pid: int
    tmp: Path
    runs: int = 0
    redis: aredis.Redis = field(init=False)
    """A client for the running event loop: see :meth:`connect`."""

    def connect(self) -> aredis.Redis:
        # as ``hotline controller`` connects (controller_cli._redis)
        self.redis = aredis.Redis.from_url(redis_server.url(self.settings), socket_timeout=30)
        return self.redis

    def controller(self, cls: type[Controller] = Controller) -> tuple[Controller, History]:
        self.runs += 1
        db = self.tmp / f"history-{self.runs}.sqlite3"
        history = History.open(db)
        # never started: nothing connects to Asterisk
        client = AMIClient(Endpoint("127.0.0.1", 5038, "bench", "unused"))
        return cls(self.settings, self.center, client=client, redis=self.redis,
                   history=history), history  # fmt: skip

    async def reset(self, history: History | None) -> None:
        """Drop one run's SQLite file and empty Redis for the next."""
        if history is not None:
            path = Path(history.connection.execute("PRAGMA database_list").fetchone()[2])
            history.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        await self.redis.flushdb()

    def redis_cpu(self) -> float:
        """CPU seconds redis-server has used (user + system)."""
        stat = Path(f"/proc/{self.redis_pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def bed(cpu: int) -> Iterator[Bed]:
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    settings = Settings.from_env({"HOTLINE_RUN_DIR": str(tmp)})
    status = redis_server.start(settings)
    try:
        assert status.pid is not None
        others = os.sched_getaffinity(0) - {cpu}
        if others:
            os.sched_setaffinity(status.pid, others)
        os.sched_setaffinity(0, {cpu})  # threads started from now on (to_thread) inherit it
        center = load_center(settings.center.read_text(encoding="utf-8"))
        yield Bed(settings, center, status.pid, tmp)
    finally:
        redis_server.stop(settings)
        shutil.rmtree(tmp, ignore_errors=True)


# -- the replay ------------------------------------------------------------------------------


class Traced(Controller):
    """The controller, noting whether the last ``apply`` changed anything (for latency)."""

    touched = False

    def _calls(self, effects: list[hotline.calls.state.Effect]) -> None:
        if effects:
            self.touched = True
        super()._calls(effects)

    def _queue_changed(self, name: str) -> None:
        self.touched = True
        super()._queue_changed(name)

    def _journal(self, changes: list[AgentChange]) -> None:
        if changes:
            self.touched = True
        super()._journal(changes)


@dataclass
class Run:
    stage: Stage
    batch: str
    events: int = 0
    messages: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    """CPU seconds of this process, all threads (the SQLite worker included)."""
    main_cpu: float = 0.0
    """CPU seconds of the event loop's thread alone."""
    redis_cpu: float = 0.0
    flush_times: list[float] = field(default_factory=list)
    """Seconds each ``flush()`` took, from its call to its return."""
    reads_during_flush: list[int] = field(default_factory=list)
    """Reads the reader parsed and applied while each flush was in flight (flusher task)."""
    latencies: list[float] = field(default_factory=list)
    """Seconds, one per event that changed something."""

    @property
    def rate(self) -> float:
        return self.events / self.wall

    @property
    def flushes(self) -> int:
        return len(self.flush_times)


@contextmanager
def clocks(bed: Bed, run: Run) -> Iterator[None]:
    redis0, cpu0, main0 = bed.redis_cpu(), time.process_time(), time.thread_time()
    t0 = time.perf_counter()
    yield
    run.wall = time.perf_counter() - t0
    run.cpu = time.process_time() - cpu0
    run.main_cpu = time.thread_time() - main0
    run.redis_cpu = bed.redis_cpu() - redis0


def chunks(data: bytes, size: int = READ_SIZE) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def flush_for(stage: Stage, controller: Controller) -> None:
    if stage is Stage.REDUCERS:
        controller.outbox.pending = Pending()
    elif stage is Stage.REDIS:
        # the live store (and the remembered memberships) only: no history to write
        controller.outbox.pending.ended = {}
        controller.outbox.pending.journal = []
        await controller.flush()
    else:
        await controller.flush()


async def throughput(bed: Bed, stage: Stage, reads: list[bytes], batch: int) -> Run:
    """Flat out: read, parse, apply, and flush every ``batch`` events (plain Controller)."""
    run = Run(stage, str(batch))
    protocol = Protocol()
    if stage is Stage.PARSE:
        with clocks(bed, run):
            for data in reads:
                run.messages += len(protocol.receive_data(data))
        await bed.reset(None)
        return run
    controller, history = bed.controller()
    await controller.live.apply([])  # reads the sequence counter, as the first flush would
    apply = controller.apply
    flush_times = run.flush_times
    events = messages = since = 0
    with clocks(bed, run):
        for data in reads:
            for item in protocol.receive_data(data):
                messages += 1
                if type(item) is Message and item.kind is EVENT:
                    apply(item)
                    events += 1
                    since += 1
                    if since == batch:
                        t = time.perf_counter()
                        await flush_for(stage, controller)
                        flush_times.append(time.perf_counter() - t)
                        since = 0
        if controller.outbox.pending:
            t = time.perf_counter()
            await flush_for(stage, controller)
            flush_times.append(time.perf_counter() - t)
    run.events, run.messages = events, messages
    await bed.reset(history)
    return run


async def latency(
    bed: Bed,
    reads: list[tuple[int, bytes]],
    *,
    batch: int = 0,
    rate: float = 0.0,
    yield_every: int = 0,
) -> Run:
    """The full path, with each changing event's hand-off to publish time.

    ``batch`` > 0: flush every ``batch`` events, flat out, in the reader's task. Otherwise a
    flusher task beside the reader flushes every 50 ms as the live controller does, and
    ``reads`` (events in it, bytes) are handed over flat out (``rate`` 0) or each when its
    events are due at ``rate`` events/s. The reader yields to the loop before each read (as
    awaiting a socket does) and, with ``yield_every``, also after every that many events.
    """
    run = Run(Stage.FULL, f"every {batch} events" if batch else "50 ms flusher")
    controller, history = bed.controller(Traced)
    assert isinstance(controller, Traced)
    await controller.live.apply([])
    protocol = Protocol()
    handed: list[float] = []  # per changing event: when its bytes reached the parser
    published = 0  # handed[:published] have been flushed
    reads_done = 0

    async def flush() -> None:
        nonlocal published
        mark, before = len(handed), reads_done  # flush() swaps pending before its first await
        t = time.perf_counter()
        await controller.flush()
        done = time.perf_counter()
        run.flush_times.append(done - t)
        run.reads_during_flush.append(reads_done - before)
        run.latencies.extend([done - h for h in handed[published:mark]])
        published = mark

    async def feed(data: bytes) -> None:
        nonlocal reads_done
        now = time.perf_counter()  # all of a read is handed over at once
        since = 0
        for item in protocol.receive_data(data):
            run.messages += 1
            if type(item) is Message and item.kind is EVENT:
                controller.touched = False
                controller.apply(item)
                if controller.touched:
                    handed.append(now)
                run.events += 1
                since += 1
                if batch and run.events % batch == 0:
                    await flush()
                elif yield_every and since % yield_every == 0:
                    await asyncio.sleep(0)
        reads_done += 1

    reading = True

    async def flusher() -> None:
        while reading:
            await asyncio.sleep(FLUSH_EVERY)
            if controller.outbox.pending:
                await flush()

    with clocks(bed, run):
        task = None if batch else asyncio.create_task(flusher())
        t0, due = time.perf_counter(), 0
        for count, data in reads:
            if rate:
                due += count
                wait = t0 + due / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            elif task is not None:
                await asyncio.sleep(0)
            await feed(data)
        reading = False
        if task is not None:
            await task
        if controller.outbox.pending:
            await flush()
    assert published == len(handed) == len(run.latencies)
    await bed.reset(history)
    return run


def paced_reads(data: bytes, events: int, per_read: int = 1) -> list[tuple[int, bytes]]:
    """The first ``events`` events' bytes (with whatever precedes each), ``per_read`` events a
    read: what a reader gets when Asterisk sends them one by one."""
    offsets = [
        item.offset
        for item in Protocol().receive_data(data)
        if type(item) is Message and item.kind is EVENT
    ][:events]
    out: list[tuple[int, bytes]] = []
    pos = 0
    for i in range(per_read - 1, len(offsets), per_read):
        end = data.index(TERMINATOR, offsets[i]) + len(TERMINATOR)
        out.append((per_read, data[pos:end]))
        pos = end
    return out


# -- report ----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float], p: float) -> str:
    return f"{pct(values, p) * 1e3:.1f}" if values else "–"


def throughput_table(runs: dict[tuple[Stage, str], list[Run]], parse_rate: float) -> list[str]:
    lines = [
        "| stage | flush every | events/s (median) | range | µs/event | vs parse only "
        "| CPU µs/event: process (event loop thread) | redis-server CPU µs/event "
        "| flushes | flush ms p50 / p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (stage, batch), reps in runs.items():
        rates = [r.rate for r in reps]
        rate = median(rates)
        ev = reps[0].events
        cpu = median([r.cpu for r in reps]) / ev * 1e6
        main = median([r.main_cpu for r in reps]) / ev * 1e6
        rcpu = median([r.redis_cpu for r in reps]) / ev * 1e6
        times = [t for r in reps for t in r.flush_times] if stage.value in ("redis", "full") else []
        flushes = f"{reps[0].flushes:,}" if stage is not Stage.PARSE else "–"
        lines.append(
            f"| {stage.value} | {batch} | {rate:,.0f} | {min(rates):,.0f}–{max(rates):,.0f} "
            f"| {1e6 / rate:.1f} | {rate / parse_rate:.2f}× | {cpu:.1f} ({main:.1f}) "
            f"| {rcpu:.1f} | {flushes} | {ms(times, 50)} / {ms(times, 99)} |"
        )
    return lines


def latency_table(runs: dict[str, list[Run]]) -> list[str]:
    lines = [
        "| replay | flush | events/s | changing events | p50 ms | p90 ms | p99 ms | max ms "
        "| flush ms p50 / p99 | reads applied during a flush (median) | process CPU "
        "(of one core) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, reps in runs.items():
        # percentiles: the median over repetitions of each run's own percentile
        cols = [median([pct(r.latencies, p) * 1e3 for r in reps]) for p in (50, 90, 99)]
        worst = max(max(r.latencies) for r in reps) * 1e3
        rate = median([r.rate for r in reps])
        busy = median([r.cpu / r.wall for r in reps])
        times = [t for r in reps for t in r.flush_times]
        during = [n for r in reps for n in r.reads_during_flush]
        lines.append(
            f"| {name.split('|')[0]} | {reps[0].batch} | {rate:,.0f} | {len(reps[0].latencies):,} "
            f"| {cols[0]:.1f} | {cols[1]:.1f} | {cols[2]:.1f} | {worst:.1f} "
            f"| {ms(times, 50)} / {ms(times, 99)} | {median(during):.0f} | {busy:.0%} |"
        )
    return lines


def environment(bed: Bed, cpu: int) -> list[str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    info = redis_server.status(bed.settings)
    sources = ", ".join(
        f"{Path(path).name} {hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]}"
        for path in (hotline.ami.protocol.__file__, hotline.controller.core.__file__)
    )
    redis_cpus = sorted(os.sched_getaffinity(bed.redis_pid))
    return [
        f"machine: {os.cpu_count()} CPUs ({model}), load {os.getloadavg()[0]:.2f}; "
        f"Python {platform.python_version()}; Redis {info.version} (unix socket), "
        f"redis-py {importlib.metadata.version('redis')} (hiredis parser: "
        f"{'yes' if HIREDIS_AVAILABLE else 'no'}); "
        f"SQLite {sqlite3.sqlite_version}",
        f"this process pinned to CPU {cpu}; redis-server to CPUs {redis_cpus}",
        f"sources: {sources}",
    ]


# -- main ------------------------------------------------------------------------------------


async def measure(bed: Bed, data: bytes, args: argparse.Namespace) -> None:
    reads = chunks(data)
    batches: list[int] = args.batches
    plan: list[tuple[Stage, int]] = [(Stage.PARSE, 0), (Stage.REDUCERS, batches[0])]
    plan += [(stage, b) for stage in (Stage.REDIS, Stage.FULL) for b in batches]
    runs: dict[tuple[Stage, str], list[Run]] = {}
    bed.connect()
    # warm-up: one untimed full run (imports, caches, Redis and SQLite files)
    await throughput(bed, Stage.FULL, reads, batches[0])
    for rep in range(args.reps):
        for stage, batch in plan:
            run = await throughput(bed, stage, reads, batch)
            key = (stage, "–" if stage in (Stage.PARSE, Stage.REDUCERS) else str(batch))
            runs.setdefault(key, []).append(run)
            print(
                f"  rep {rep + 1}/{args.reps} {stage.value:8} {batch:5}: {run.wall:.2f} s, "
                f"{run.messages:,} messages, {run.flushes} flushes",
                file=sys.stderr,
            )
    # the parse-only run yields no events: rate it by the events the same bytes hold
    events = runs[(Stage.REDUCERS, "–")][0].events
    for run in runs[(Stage.PARSE, "–")]:
        run.events = events
    parse_rate = median([r.rate for r in runs[(Stage.PARSE, "–")]])
    messages = runs[(Stage.PARSE, "–")][0].messages

    lat: dict[str, list[Run]] = {}
    # latency flat out needs no whole capture: its first --latency-messages messages
    head = [(0, d) for d in chunks(prefix(data, args.latency_messages))]
    paced = paced_reads(data, args.paced_events)
    cases: list[tuple[str, list[tuple[int, bytes]], dict[str, Any]]] = [
        *[("flat out, 256 KiB reads", head, {"batch": b}) for b in batches],
        ("flat out, 256 KiB reads", head, {}),
        (f"flat out, 256 KiB reads, reader yields every {YIELD} events", head,
         {"yield_every": YIELD}),
        (f"paced {args.rate:,.0f} events/s, one event a read (first {len(paced):,})", paced,
         {"rate": args.rate}),
    ]  # fmt: skip
    for rep in range(args.latency_reps):
        for name, source, options in cases:
            run = await latency(bed, source, **options)
            lat.setdefault(f"{name}|{run.batch}", []).append(run)
        print(f"  latency rep {rep + 1}/{args.latency_reps} done", file=sys.stderr)

    print("\n".join(environment(bed, args.cpu)))
    print(f"\n## throughput: {events:,} events ({messages:,} messages), median of {args.reps}\n")
    print("\n".join(throughput_table(runs, parse_rate)))
    print(f"\nparse only: {parse_rate * messages / events:,.0f} messages/s")
    print(
        f"\n## event → Redis publish latency (median of {args.latency_reps}; flat out: "
        f"the first {args.latency_messages:,} messages)\n"
    )
    print("\n".join(latency_table(lat)))
    await bed.redis.aclose()


async def profile(bed: Bed, data: bytes, batch: int) -> None:
    reads = chunks(data)
    bed.connect()
    await throughput(bed, Stage.FULL, reads, batch)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    run = await throughput(bed, Stage.FULL, reads, batch)
    profiler.disable()
    await bed.redis.aclose()
    print(f"full run, flush every {batch}: {run.rate:,.0f} events/s under cProfile")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(50)
    print(out.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="capture size (target)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency-reps", type=int, default=3)
    parser.add_argument(
        "--batches",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[72, 1000],
        help="flush every N events (72: 50 ms at 1,430 events/s)",
    )
    parser.add_argument("--rate", type=float, default=OBSERVED_RATE, help="paced events/s")
    parser.add_argument("--paced-events", type=int, default=7_150, help="5 s at 1,430/s")
    parser.add_argument("--latency-messages", type=int, default=50_000, help="flat out")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile a full run instead")
    args = parser.parse_args(argv)

    started = time.monotonic()
    data = ensure_capture(args.messages).read_bytes()
    with bed(args.cpu) as b:
        if args.profile:
            asyncio.run(profile(b, data, args.profile))
        else:
            asyncio.run(measure(b, data, args))
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
