"""``hotline ami``: record raw AMI traffic, dump a capture as JSON lines, send one action."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from hotline.ami.client import AMIClient
from hotline.ami.dump import dump_messages, message_record
from hotline.ami.errors import AMIError, ProtocolError
from hotline.cli.common import CLIError, print_json
from hotline.host.settings import Settings
from hotline.pbx import runner


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("ami", help="talk to Asterisk's manager interface")
    p.set_defaults(handler=run)
    ps = p.add_subparsers(dest="ami_command", required=True)
    r = ps.add_parser("record", help="capture raw AMI traffic into FILE until Ctrl-C")
    r.add_argument("file", type=Path)
    r.add_argument("--seconds", type=float, help="stop after this many seconds")
    d = ps.add_parser("dump", help="parse a capture offline; one JSON object per message")
    d.add_argument("file", type=Path)
    d.add_argument("--format", choices=["jsonl"], default="jsonl")
    a = ps.add_parser("action", help="send one action, e.g. `QueueStatus Queue=labour`")
    a.add_argument("name")
    a.add_argument("headers", nargs="*", metavar="Key=Value")


async def _record(settings: Settings, path: Path, seconds: float | None) -> int:
    client = AMIClient(runner.endpoint(settings))
    written = 0
    with path.open("wb") as out:

        def save(data: bytes) -> None:
            nonlocal written
            out.write(data)
            written += len(data)

        client.tap = save
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await client.connect()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        client.tap = None
        await client.close()
    return written


async def _action(settings: Settings, name: str, pairs: list[tuple[str, str]]) -> None:
    async with runner.session(settings) as client:
        reply = await client.action(name, pairs, check=False)
    print_json(message_record(reply))


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.ami_command == "dump":
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            raise CLIError(f"cannot read {args.file}: {exc.strerror}") from None
        try:
            for obj in dump_messages(data):
                sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        except ProtocolError as exc:
            raise CLIError(f"{args.file}: protocol error at byte {exc.offset}: {exc}") from None
        return 0
    try:
        if args.ami_command == "record":
            size = asyncio.run(_record(settings, args.file, args.seconds))
            print(f"{size} bytes written to {args.file}", file=sys.stderr)
        else:
            pairs = []
            for item in args.headers:
                key, sep, value = item.partition("=")
                if not sep:
                    raise CLIError(f"{item!r}: headers are Key=Value")
                pairs.append((key, value))
            asyncio.run(_action(settings, args.name, pairs))
    except AMIError as exc:
        raise CLIError(str(exc)) from None
    return 0
