"""``hotline kamailio render|start|stop|status``: Kamailio in front of several PBXs.

``status`` exits as an LSB init script does: 0 running, 3 stopped, 4 not responding.
"""

from __future__ import annotations

import argparse
from typing import Any

from hotline.host.settings import Settings
from hotline.pbx import kamailio_run

__all__ = ["add_parsers", "run_kamailio"]

EXIT_RUNNING, EXIT_STOPPED, EXIT_UNKNOWN = 0, 3, 4


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "kamailio", help="Kamailio: agents' registrar and the dispatcher over several PBXs"
    )
    p.set_defaults(handler=run_kamailio)
    ps = p.add_subparsers(dest="kamailio_command", required=True)
    ps.add_parser("render", help="write kamailio.cfg and dispatcher.list, checked by kamailio -c")
    ps.add_parser("start", help="render, start Kamailio, wait for its control socket")
    ps.add_parser("stop", help="stop Kamailio")
    ps.add_parser("status", help="each PBX up or down; exit 0 running, 3 stopped, 4 not responding")


def run_kamailio(settings: Settings, args: argparse.Namespace) -> int:
    if args.kamailio_command == "render":
        print(kamailio_run.render(settings))
    elif args.kamailio_command == "start":
        print(kamailio_run.start(settings).describe())
    elif args.kamailio_command == "stop":
        print("stopped" if kamailio_run.stop(settings) else "was not running")
    elif args.kamailio_command == "status":
        status = kamailio_run.status(settings)
        print(status.describe())
        return {
            kamailio_run.KamailioState.RUNNING: EXIT_RUNNING,
            kamailio_run.KamailioState.STOPPED: EXIT_STOPPED,
        }.get(status.state, EXIT_UNKNOWN)
    return 0
