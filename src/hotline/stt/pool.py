"""``hotline stt worker [--processes N]``: N worker processes, each with its own model.

One process runs the worker in place. More are spawned (each loads its model once: Vosk's
Model is not shared across processes) and supervised: one that dies is started again, so
a crash costs at most its current job's time (the job is taken over by XAUTOCLAIM). A
missing or broken model stops everything with the engine's message: no job is consumed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import redis

from hotline.host.settings import Settings
from hotline.recordings.errors import ModelError
from hotline.stores import redis_server
from hotline.stt.engine import EngineKind
from hotline.stt.engines import open_engine
from hotline.stt.worker import Options, Worker

log = logging.getLogger(__name__)
EXIT_MODEL = 3  # a child could not load its model: do not restart it


@dataclass(frozen=True, slots=True)
class Plan:
    kind: EngineKind
    options: Options
    threads: int = 0  # per process for whisper; 0: the engine's default


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():  # a second signal: do not wait for the current job
            raise SystemExit(128 + signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def serve(settings: Settings, plan: Plan, stop: threading.Event | None = None) -> int:
    """One worker in this process until a signal (or STOP); ModelError if no model."""
    if stop is None:
        stop = threading.Event()
        _on_signals(stop)
    engine = open_engine(plan.kind, settings, threads=plan.threads)
    client = redis.Redis.from_url(redis_server.url(settings), socket_timeout=30,
                                  socket_connect_timeout=5)  # fmt: skip
    worker = Worker.open(settings, engine, client, consumer_name(), plan.options)
    log.info("stt worker %s: %s (%s, %s)", worker.queue.consumer, engine.name, engine.model,
             engine.language)  # fmt: skip
    source = f"legs from {settings.stt_url}" if settings.stt_source == "http" else "local legs"
    print(f"stt worker pid {os.getpid()}: {engine.name} {engine.model} ({engine.language}), "
          f"{source}", flush=True)  # fmt: skip
    try:
        worker.run(stop)
    finally:
        worker.close()
        client.close()
    return 0


def _child(settings: Settings, plan: Plan) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        serve(settings, plan)
    except ModelError as exc:
        log.error("%s", exc)
        raise SystemExit(EXIT_MODEL) from None


def run_pool(settings: Settings, plan: Plan, processes: int) -> int:
    """Supervise PROCESSES workers until SIGINT/SIGTERM; 1 for a model error."""
    if processes <= 1:
        serve(settings, plan)
        return 0
    stop = threading.Event()
    _on_signals(stop)
    ctx = multiprocessing.get_context("spawn")
    children: list[BaseProcess] = []

    def spawn() -> BaseProcess:
        child = ctx.Process(target=_child, args=(settings, plan), name="stt-worker")
        child.start()
        return child

    children = [spawn() for _ in range(processes)]
    status = 0
    try:
        while not stop.wait(1.0):
            for i, child in enumerate(children):
                if child.is_alive():
                    continue
                if child.exitcode == EXIT_MODEL:
                    print("hotline: stt worker: no usable model (see the message above)")
                    status = 1
                    stop.set()
                    break
                log.warning("stt worker pid %s exited (%s): starting another", child.pid,
                            child.exitcode)  # fmt: skip
                children[i] = spawn()
    finally:
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
                child.join()
    return status
