"""``hotline redis start|stop|status``: the private Redis hotline runs unless
``HOTLINE_REDIS_URL`` names another (then ``stop`` leaves it alone). ``status`` exits 0
running, 3 stopped, as ``hotline pbx status`` does."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from hotline.host.settings import Settings
from hotline.stores import redis_server

__all__ = ["add_parsers", "run_redis"]

EXIT_RUNNING, EXIT_STOPPED = 0, 3


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("redis", help="the private Redis (unless HOTLINE_REDIS_URL is set)")
    p.set_defaults(handler=run_redis)
    p.add_argument("redis_command", choices=["start", "stop", "status"])
    p.add_argument(
        "--foreground",
        action="store_true",
        help="start: run redis-server in the foreground, logging to stdout (systemd)",
    )


def run_redis(settings: Settings, args: argparse.Namespace) -> int:
    if args.redis_command == "start" and args.foreground:
        argv = redis_server.foreground(settings)
        sys.stdout.flush()
        try:
            os.execvp(argv[0], argv)  # the service manager's main process from here on
        except FileNotFoundError:
            raise redis_server.RedisError("redis-server is not installed") from None
    if args.redis_command == "start":
        st = redis_server.start(settings)
        print(f"running: {st.url} (pid {st.pid}, redis {st.version})")
    elif args.redis_command == "stop":
        print("stopped" if redis_server.stop(settings) else "was not running (or is external)")
    else:
        st = redis_server.status(settings)
        print(
            f"running: {st.url} (pid {st.pid}, redis {st.version})"
            if st.running
            else f"stopped: {st.url}"
        )
        return EXIT_RUNNING if st.running else EXIT_STOPPED
    return 0
