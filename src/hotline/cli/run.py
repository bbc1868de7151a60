"""``hotline run`` (what ``make run`` runs): everything, until Ctrl-C.

Redis, the IVR flow and its prompts, the bundled Asterisk, then the controller and (unless
``--no-sim``) simulated traffic as child processes with their logs under RUN_DIR/logs.
Ctrl-C, SIGTERM or SIGHUP stops all of it in reverse order.

Stopping never depends on the terminal or a pipe. ``make run | tee run.log`` and Ctrl-C:
the terminal's SIGINT reaches the whole foreground group, tee dies with it, and every line
printed while stopping meets a closed pipe (EPIPE). So output that cannot be written is
dropped (stdout goes to /dev/null from then on), each step of the stop runs whatever the
previous one did, and the children run in sessions of their own: the terminal's signals
reach ``hotline run`` only, which stops them in order (and the kernel stops them, with
SIGTERM, if ``hotline run`` itself is killed).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.pbx.errors import PBXError
from hotline.stores import redis_server
from hotline.stores.redis_server import RedisError
from hotline.web.admin import first_admin

__all__ = ["STOP_SIGNALS", "add_parsers", "run_all", "say"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, a service manager's stop, the terminal hanging up: each stops everything."""


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


def say(line: str) -> None:
    """Print LINE; if stdout is gone (a pipe whose reader died: EPIPE; a terminal that hung
    up: EIO), send the rest of the output to /dev/null instead of failing."""
    try:
        print(line, flush=True)
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError) and exc.errno not in (errno.EPIPE, errno.EIO):
            raise
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _own_session_dying_with_us() -> None:  # in the child, between fork and exec
    os.setsid()  # the terminal's Ctrl-C and hangup reach `hotline run`, not the child
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)  # and a `hotline run` killed takes it along


def _child(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_own_session_dying_with_us,  # no threads run here yet
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
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    started: list[tuple[str, Callable[[], object]]] = []
    try:
        return _run(settings, args, stop, started)
    except KeyboardInterrupt:  # a stop signal arrived while things were starting
        return 0
    finally:
        _stop_all(started)


def _stop_all(started: list[tuple[str, Callable[[], object]]]) -> None:
    """Stop in reverse order; a step that fails is reported and the next one runs."""
    for name, halt in reversed(started):
        say(f"stopping {name}")
        try:
            halt()
        except (PBXError, RedisError, OSError, subprocess.SubprocessError) as exc:
            with contextlib.suppress(OSError):
                print(f"hotline run: stopping {name} failed: {exc}", file=sys.stderr)


def _run(
    settings: Settings,
    args: argparse.Namespace,
    stop: threading.Event,
    started: list[tuple[str, Callable[[], object]]],
) -> int:
    def step(line: str) -> None:
        say(line)
        if stop.is_set():
            raise KeyboardInterrupt

    logs = settings.run_dir / "logs"
    rs = redis_server.start(settings)
    if not settings.redis_url:
        started.append(("redis", lambda: redis_server.stop(settings)))
    step(f"redis       {rs.url}  (log {settings.redis_dir}/redis.log)")
    if settings.pbx == "bundled":
        installed = install.install(settings, settings.flow)
        step(f"ivr         {installed.flow.name} ({settings.flow})")
        st = pbx.start(settings)
        started.append(("asterisk", lambda: pbx.stop(settings)))
        say(f"asterisk    {st.version}, pid {st.pid}")
        step(f"            logs and queue_log in {settings.pbx_dir}/log")
    say(f"ami         {settings.ami_host}:{settings.ami_port} (user {settings.ami_user})")
    controller = _child(["controller"], logs / "controller.log")
    started.append(("controller", _stopper(controller)))
    say(f"controller  pid {controller.pid}, log {logs}/controller.log")
    step(f"history     {settings.db}")
    engine = args.stt_engine or settings.stt_engine
    stt = _child(["stt", "worker", "--engine", engine], logs / "stt.log")
    started.append(("stt worker", _stopper(stt)))
    step(f"stt worker  pid {stt.pid}, {engine}, log {logs}/stt.log")
    if not args.no_sim:
        if stop.wait(1.0):  # let the controller see the agents log in
            raise KeyboardInterrupt
        sim = _child(
            ["sim", "--calls", "100000", "--rate", str(args.rate), "--agents", str(args.agents)],
            logs / "sim.log",
        )
        started.append(("simulated traffic", _stopper(sim)))
        step(f"traffic     {args.rate} calls/min, {args.agents} agents (log {logs}/sim.log)")
    admin = first_admin(settings.db, wall_ms)
    web = _child(["web", "--host", args.web_host, "--port", str(args.web_port)], logs / "web.log")
    started.append(("web", _stopper(web)))
    say(f"web         http://{args.web_host}:{args.web_port}/  (log {logs}/web.log)")
    if admin is not None:
        say(f"            first login: {admin[0]} / {admin[1]}  (shown once; stored hashed)")
        say("            more accounts: hotline users add NAME --role supervisor|agent|auditor")
    say("see it:     hotline calls list · hotline agents list · hotline stt status")
    say("running; Ctrl-C stops everything")
    if args.once:
        stop.set()
    stt_told = False
    while not stop.wait(1.0):
        if controller.poll() is not None:
            say(f"the controller exited ({controller.returncode}); see its log")
            return 1
        if stt.poll() is not None and not stt_told:  # calls go on; legs stay queued
            say(f"the stt worker exited ({stt.returncode}); see {logs}/stt.log")
            stt_told = True
    return 0
