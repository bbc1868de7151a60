"""``hotline pbx build|start|stop|status|cli|reload``: the bundled Asterisk.

``status`` exits as an LSB init script does: 0 running, 3 stopped, 4 starting or not
responding.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx

__all__ = ["EXIT_RUNNING", "EXIT_STOPPED", "EXIT_UNKNOWN", "add_parsers", "run_pbx"]

# `hotline pbx status` exit codes follow the LSB init-script convention
EXIT_RUNNING, EXIT_STOPPED, EXIT_UNKNOWN = 0, 3, 4


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("pbx", help="the bundled Asterisk")
    p.set_defaults(handler=run_pbx)
    ps = p.add_subparsers(dest="pbx_command", required=True)
    ps.add_parser("build", help="build (or reuse) the Asterisk rootfs (mmdebstrap, Debian sid)")
    s = ps.add_parser("start", help="start Asterisk and wait until it is fully booted")
    s.add_argument(
        "--foreground",
        action="store_true",
        help="run Asterisk in the foreground, its console on stdout (systemd)",
    )
    ps.add_parser("stop", help="shut Asterisk down")
    ps.add_parser("status", help="exit 0 running, 3 stopped, 4 starting/not responding")
    c = ps.add_parser("cli", help="run an Asterisk CLI command, e.g. `queue show`")
    c.add_argument("words", nargs="+")
    r = ps.add_parser("reload", help="re-render the configuration and reload over AMI")
    r.add_argument("module", nargs="?")


def _install_missing_flow(settings: Settings) -> None:
    """A PBX without a flow answers no citizen: give it the configured one."""
    if not install.is_installed(settings):
        done = install.install(settings, settings.flow)
        print(f"installed the flow {settings.flow} ({len(done.prompts)} prompts)")


def run_pbx(settings: Settings, args: argparse.Namespace) -> int:
    if args.pbx_command == "build":
        print(f"Asterisk rootfs: {pbx.build_rootfs(settings)}")
    elif args.pbx_command == "start":
        if settings.pbx == "bundled":  # (an external one is refused by start)
            pbx.check_rootfs(settings.rootfs)  # before the flow's install needs its users
            _install_missing_flow(settings)
        if args.foreground:
            sys.stdout.flush()
            return pbx.run_foreground(settings)
        print(pbx.start(settings).describe(settings))
    elif args.pbx_command == "stop":
        print("stopped" if pbx.stop(settings) else "was not running")
    elif args.pbx_command == "status":
        status = pbx.status(settings)
        print(status.describe(settings))
        return {
            pbx.PBXState.RUNNING: EXIT_RUNNING,
            pbx.PBXState.STOPPED: EXIT_STOPPED,
        }.get(status.state, EXIT_UNKNOWN)
    elif args.pbx_command == "cli":
        sys.stdout.write(pbx.cli(settings, " ".join(args.words)))
    elif args.pbx_command == "reload":
        if pbx.status(settings).state is pbx.PBXState.RUNNING:
            _install_missing_flow(settings)
        print(pbx.reload(settings, args.module))
    return 0
