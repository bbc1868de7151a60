"""``hotline controller``, ``hotline calls``, ``hotline agents list``, ``hotline agent ...``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import signal
import sys
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aredis

from hotline.ami.client import AMIClient
from hotline.center.config import Center, CenterError, load_center
from hotline.cli.common import CLIError
from hotline.cli.table import table
from hotline.commands import bus
from hotline.commands.plan import AGENT_VERBS, Command, Verb
from hotline.controller.core import Controller
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.metrics.timefmt import parse_local
from hotline.pbx import runner
from hotline.pbx.install import read_flow
from hotline.stores import redis_server
from hotline.stores.docs import call_doc
from hotline.stores.history import History
from hotline.stores.live import LiveStore

SHANGHAI = ZoneInfo("Asia/Shanghai")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("controller", help="follow every call and agent (runs until Ctrl-C)")
    p.add_argument("-v", "--verbose", action="store_true")

    p = sub.add_parser("calls", help="calls: in progress and history")
    ps = p.add_subparsers(dest="calls_command", required=True)
    lst = ps.add_parser("list", help="recent calls, newest last")
    lst.add_argument("--since", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai); default: today")
    lst.add_argument("--format", choices=["table", "json"], default="table")
    show = ps.add_parser("show", help="one call, every field")
    show.add_argument("call_id")

    p = sub.add_parser("agents", help="agents as the controller sees them now")
    ps = p.add_subparsers(dest="agents_command", required=True)
    ps.add_parser("list").add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser(
        "agent", help="log an agent in or out, pause or unpause (via the controller)"
    )
    p.add_argument("verb", choices=[v.value for v in AGENT_VERBS])
    p.add_argument("agent", help="extension or name (config/center.yaml)")
    p.add_argument("--queue")
    p.add_argument("--reason", help="a pause reason code (config/center.yaml)")
    p.add_argument("--as", dest="actor", default="", help="who asks (default: the agent)")
    p.add_argument("--supervisor", action="store_true", help="a supervisor's forced action")


def read_center(settings: Settings) -> Center:
    flow, _ = read_flow(settings.flow)
    try:
        return load_center(settings.center.read_text(encoding="utf-8"), set(flow.queues))
    except OSError as exc:
        raise CLIError(f"cannot read {settings.center}: {exc.strerror}") from None
    except CenterError as exc:
        raise CLIError(f"{settings.center} is invalid:\n{exc}") from None


def _redis(settings: Settings) -> aredis.Redis:
    # blocking stream reads wait up to 5 s: the socket timeout must be longer
    return aredis.Redis.from_url(
        redis_server.url(settings), socket_timeout=30, socket_connect_timeout=5
    )


async def _run_controller(settings: Settings, center: Center) -> None:
    redis = _redis(settings)
    history = History.open(settings.db)
    controller = Controller(
        settings, center, client=AMIClient(runner.endpoint(settings)), redis=redis, history=history
    )
    task = asyncio.create_task(controller.run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    history.close()
    await redis.aclose()


def run_controller(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    center = read_center(settings)
    redis_server.start(settings)
    asyncio.run(_run_controller(settings, center))
    return 0


def local_when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%m-%d %H:%M:%S")


def since_ms(text: str | None) -> int:
    if not text:
        day = dt.datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(day.timestamp() * 1000)
    try:
        return parse_local(text, "Asia/Shanghai")
    except ValueError:
        raise CLIError(f"--since {text!r}: write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def run_calls(settings: Settings, args: argparse.Namespace) -> int:
    history = History.open(settings.db)
    try:
        if args.calls_command == "show":
            record = history.call(args.call_id)
            live = asyncio.run(_live_calls(settings)) if record is None else {}
            doc = call_doc(record) if record is not None else live.get(args.call_id)
            if doc is None:
                raise CLIError(f"no call {args.call_id!r}")
            print(json.dumps(doc, ensure_ascii=False, indent=2))
            return 0
        docs = [call_doc(r) for r in history.calls(since=since_ms(args.since))]
        docs += sorted(asyncio.run(_live_calls(settings)).values(), key=lambda d: d["call_id"])
    finally:
        history.close()
    if args.format == "json":
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    rows = []
    for d in docs:
        wait = (d["t_answer"] - d["t_q"]) / 1000 if d["t_answer"] and d["t_q"] else None
        rows.append([
            d["call_id"], local_when(d["t_arrival"] or d["t_q"]), d["caller"], d["queue"],
            f"{wait:.1f}" if wait is not None else "-", d["agent"] or "-",
            d["end_reason"] or "in progress", d["ivr_path"],
        ])  # fmt: skip
    headers = ["call", "arrived", "caller", "queue", "wait", "agent", "end", "path"]
    print(table(headers, rows, right={4}, limit=60))
    return 0


async def _live_calls(settings: Settings) -> dict[str, dict[str, Any]]:
    redis = _redis(settings)
    try:
        return (await LiveStore(redis).snapshot()).calls
    finally:
        await redis.aclose()


def run_agents(settings: Settings, args: argparse.Namespace) -> int:
    async def load() -> dict[str, dict[str, Any]]:
        redis = _redis(settings)
        try:
            return (await LiveStore(redis).snapshot()).agents
        finally:
            await redis.aclose()

    agents = asyncio.run(load())
    if args.format == "json":
        print(json.dumps(agents, ensure_ascii=False, indent=2))
        return 0
    now = wall_ms()
    rows = []
    for name, a in sorted(agents.items()):
        reasons = {m["reason"] for m in a["memberships"] if m["paused"] and m["reason"]}
        seconds = max(0, (now - a["since"]) // 1000) if a.get("since") else 0
        rows.append([
            name, a["status"], f"{seconds // 60}:{seconds % 60:02d}",
            ",".join(sorted(reasons)) or "-", ",".join(a["queues"]),
        ])  # fmt: skip
    print(table(["agent", "status", "for", "reason", "queues"], rows, right={2}))
    return 0


def run_agent(settings: Settings, args: argparse.Namespace) -> int:
    center = read_center(settings)
    agent = center.agent(args.agent)
    command = Command(
        id=uuid.uuid4().hex,
        verb=Verb(args.verb),
        agent=args.agent,
        actor=args.actor or (agent.name if agent else args.agent),
        queue=args.queue,
        reason=args.reason,
        supervisor=args.supervisor,
        issued_at=wall_ms(),
    )
    return send_command(settings, command)


def send_command(settings: Settings, command: Command) -> int:
    """Send ``command`` to the running controller; print its reply; 0 if it was carried out."""

    async def go() -> bus.Reply:
        redis = _redis(settings)
        try:
            return await bus.send(redis, command)
        finally:
            await redis.aclose()

    try:
        reply = asyncio.run(go())
    except bus.NoController as exc:
        raise CLIError(str(exc)) from None
    print(reply.message, file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1
