"""``hotline run`` (what ``make run`` runs): everything, until Ctrl-C.

Redis, the IVR flow and its prompts, the bundled Asterisk, then the controller and (unless
``--no-sim``) simulated traffic as child processes with their logs under RUN_DIR/logs.
Ctrl-C or SIGTERM stops all of it in reverse order.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.stores import redis_server
from hotline.web.admin import first_admin

__all__ = ["add_parsers", "run_all"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("run", help="start everything and run until Ctrl-C")
    p.set_defaults(handler=run_all)
    p.add_argument("--once", action="store_true", help="start, report, stop (for tests)")
    p.add_argument("--no-sim", action="store_true", help="no simulated traffic")
    p.add_argument("--rate", type=float, default=6.0, help="simulated calls per minute")
    p.add_argument("--agents", type=int, default=6, help="simulated agents")
    p.add_argument("--stt-engine", choices=["vosk", "whisper"],
                   help="the STT worker's engine (default: HOTLINE_STT_ENGINE)")  # fmt: skip
    p.add_argument("--web-host", default="127.0.0.1", help="the web app's address")
    p.add_argument("--web-port", type=int, default=8345, help="the web app's port")


def _child(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stopper(proc: subprocess.Popen[bytes]) -> Callable[[], object]:
    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    return stop


def run_all(settings: Settings, args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    started: list[tuple[str, Callable[[], object]]] = []
    logs = settings.run_dir / "logs"
    try:
        rs = redis_server.start(settings)
        if not settings.redis_url:
            started.append(("redis", lambda: redis_server.stop(settings)))
        print(f"redis       {rs.url}  (log {settings.redis_dir}/redis.log)")
        if settings.pbx == "bundled":
            installed = install.install(settings, settings.flow)
            print(f"ivr         {installed.flow.name} ({settings.flow})")
            st = pbx.start(settings)
            started.append(("asterisk", lambda: pbx.stop(settings)))
            print(f"asterisk    {st.version}, pid {st.pid}")
            print(f"            logs and queue_log in {settings.pbx_dir}/log")
        print(f"ami         {settings.ami_host}:{settings.ami_port} (user {settings.ami_user})")
        controller = _child(["controller"], logs / "controller.log")
        started.append(("controller", _stopper(controller)))
        print(f"controller  pid {controller.pid}, log {logs}/controller.log")
        print(f"history     {settings.db}")
        engine = args.stt_engine or settings.stt_engine
        stt = _child(["stt", "worker", "--engine", engine], logs / "stt.log")
        started.append(("stt worker", _stopper(stt)))
        print(f"stt worker  pid {stt.pid}, {engine}, log {logs}/stt.log")
        if not args.no_sim:
            time.sleep(1.0)  # let the controller see the agents log in
            sim = _child(
                [
                    "sim",
                    "--calls",
                    "100000",
                    "--rate",
                    str(args.rate),
                    "--agents",
                    str(args.agents),
                ],
                logs / "sim.log",
            )
            started.append(("simulated traffic", _stopper(sim)))
            print(f"traffic     {args.rate} calls/min, {args.agents} agents (log {logs}/sim.log)")
        admin = first_admin(settings.db, wall_ms)
        web = _child(
            ["web", "--host", args.web_host, "--port", str(args.web_port)], logs / "web.log"
        )
        started.append(("web", _stopper(web)))
        print(f"web         http://{args.web_host}:{args.web_port}/  (log {logs}/web.log)")
        if admin is not None:
            print(f"            first login: {admin[0]} / {admin[1]}  (shown once; stored hashed)")
            print(
                "            more accounts: hotline users add NAME --role supervisor|agent|auditor"
            )
        print("see it:     hotline calls list · hotline agents list · hotline stt status")
        print("running; Ctrl-C stops everything", flush=True)
        if args.once:
            stop.set()
        stt_told = False
        while not stop.wait(1.0):
            if controller.poll() is not None:
                print(f"the controller exited ({controller.returncode}); see its log", flush=True)
                return 1
            if stt.poll() is not None and not stt_told:  # calls go on; legs stay queued
                print(f"the stt worker exited ({stt.returncode}); see {logs}/stt.log", flush=True)
                stt_told = True
    finally:
        for name, halt in reversed(started):
            print(f"stopping {name}", flush=True)
            halt()
    return 0
