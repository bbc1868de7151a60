"""``hotline controller``: follow every call and agent over AMI until Ctrl-C (what ``hotline
run`` starts as a child), keeping the live state in Redis and the records in the history."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from hotline.ami.client import AMIClient, Endpoint
from hotline.center.config import Center
from hotline.cli.common import read_center
from hotline.cli.live import connect
from hotline.controller.core import Controller
from hotline.host.settings import Settings
from hotline.pbx import runner
from hotline.stores import redis_server
from hotline.stores.history import History

__all__ = ["add_parsers", "run_controller"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("controller", help="follow every call and agent (runs until Ctrl-C)")
    p.set_defaults(handler=run_controller)
    p.add_argument("-v", "--verbose", action="store_true")


async def _run_controller(settings: Settings, center: Center) -> None:
    redis = connect(settings)
    history = History.open(settings.db)
    others = {
        link.name: AMIClient(
            Endpoint(link.ami_host, link.ami_port, link.ami_user, link.ami_secret or "")
        )
        for link in settings.other_pbxs
    }  # each PBX of HOTLINE_PBXS beside the default one
    controller = Controller(
        settings, center, client=AMIClient(runner.endpoint(settings)), redis=redis,
        history=history, others=others,
    )  # fmt: skip
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
