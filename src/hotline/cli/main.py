"""The ``hotline`` command: the operator's entry to every part of the system.

Settings are built once here from the environment and passed down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from collections.abc import Callable, Sequence

from hotline.ami.errors import AMIError
from hotline.cli import access as access_cli
from hotline.cli import agents as agents_cli
from hotline.cli import alerts as alerts_cli
from hotline.cli import ami as ami_cli
from hotline.cli import audit as audit_cli
from hotline.cli import calls as calls_cli
from hotline.cli import controller as controller_cli
from hotline.cli import ivr as ivr_cli
from hotline.cli import metrics as metrics_cli
from hotline.cli import redact as redact_cli
from hotline.cli import retention as retention_cli
from hotline.cli import stt as stt_cli
from hotline.cli import transcripts as transcripts_cli
from hotline.cli import users as users_cli
from hotline.cli import web as web_cli
from hotline.cli.common import CLIError, failures, report
from hotline.cli.run import run_all
from hotline.host.settings import ConfigError, Settings
from hotline.ivr.loader import FlowError
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.pbx.errors import PBXError
from hotline.recordings.errors import RecordingError
from hotline.sim.plan import plan_traffic
from hotline.sim.runner import SimStats, play
from hotline.stores import redis_server
from hotline.stores.redis_server import RedisError

# `hotline pbx status` exit codes follow the LSB init-script convention
EXIT_RUNNING, EXIT_STOPPED, EXIT_UNKNOWN = 0, 3, 4


def _pbx(settings: Settings, args: argparse.Namespace) -> int:
    if args.pbx_command == "start":
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
        print(pbx.reload(settings, args.module))
    return 0


def _redis(settings: Settings, args: argparse.Namespace) -> int:
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


def _sim(settings: Settings, args: argparse.Namespace) -> int:
    """Simulated citizens and agents against the running PBX."""
    flow, _ = install.read_flow(settings.flow)
    traffic = plan_traffic(
        flow, random.Random(args.seed), calls=args.calls, rate=args.rate, agents=args.agents
    )

    async def go() -> SimStats:
        async with pbx.session(settings) as client:
            return await play(client, flow, traffic)

    print(
        f"simulating {args.calls} calls at {args.rate}/min with {args.agents} agents "
        f"(seed {args.seed})",
        flush=True,
    )
    try:
        stats = asyncio.run(go())
    except AMIError as exc:
        raise PBXError(f"simulation stopped: {exc}") from exc
    print(f"placed {stats.placed} calls ({stats.failed} failed), {stats.pauses} pauses")
    return 0 if stats.failed == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pbx", help="the bundled Asterisk")
    ps = p.add_subparsers(dest="pbx_command", required=True)
    ps.add_parser("start", help="start Asterisk and wait until it is fully booted")
    ps.add_parser("stop", help="shut Asterisk down")
    ps.add_parser("status", help="exit 0 running, 3 stopped, 4 starting/not responding")
    c = ps.add_parser("cli", help="run an Asterisk CLI command, e.g. `queue show`")
    c.add_argument("words", nargs="+")
    r = ps.add_parser("reload", help="re-render the configuration and reload over AMI")
    r.add_argument("module", nargs="?")

    p = sub.add_parser("redis", help="the private Redis (unless HOTLINE_REDIS_URL is set)")
    p.add_argument("redis_command", choices=["start", "stop", "status"])

    p = sub.add_parser("run", help="start everything and run until Ctrl-C")
    p.add_argument("--once", action="store_true", help="start, report, stop (for tests)")
    p.add_argument("--no-sim", action="store_true", help="no simulated traffic")
    p.add_argument("--rate", type=float, default=6.0, help="simulated calls per minute")
    p.add_argument("--agents", type=int, default=6, help="simulated agents")
    p.add_argument("--stt-engine", choices=["vosk", "whisper"],
                   help="the STT worker's engine (default: HOTLINE_STT_ENGINE)")  # fmt: skip
    p.add_argument("--web-host", default="127.0.0.1", help="the web app's address")
    p.add_argument("--web-port", type=int, default=8345, help="the web app's port")

    p = sub.add_parser("sim", help="simulated citizens and agents (needs the running PBX)")
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--rate", type=float, default=6.0, help="calls per minute")
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--seed", type=int, default=12345)

    ami_cli.add_parser(sub)
    ivr_cli.add_parsers(sub)
    controller_cli.add_parsers(sub)
    calls_cli.add_parsers(sub)
    agents_cli.add_parsers(sub)  # agents, agent
    metrics_cli.add_parsers(sub)
    alerts_cli.add_parsers(sub)
    transcripts_cli.add_parsers(sub)
    access_cli.add_parsers(sub)
    retention_cli.add_parsers(sub)
    stt_cli.add_parsers(sub)  # transcribe, play, stt
    web_cli.add_parsers(sub)
    users_cli.add_parsers(sub)
    audit_cli.add_parsers(sub)
    redact_cli.add_parsers(sub)
    return parser


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "pbx": _pbx,
    "redis": _redis,
    "run": run_all,
    "sim": _sim,
    "ami": ami_cli.run,
    "ivr": ivr_cli.run_ivr,
    "prompts": ivr_cli.run_prompts,
    "controller": controller_cli.run_controller,
    "calls": calls_cli.run_calls,
    "agents": agents_cli.run_agents,
    "agent": agents_cli.run_agent,
    "metrics": metrics_cli.run_metrics,
    "alerts": alerts_cli.run_alerts,
    "notice": alerts_cli.run_notice,
    "transcripts": transcripts_cli.run_transcripts,
    "access": access_cli.run_access,
    "retention": retention_cli.run_retention,
    "transcribe": stt_cli.run_transcribe,
    "play": stt_cli.run_play,
    "stt": stt_cli.run_stt,
    "web": web_cli.run_web,
    "users": users_cli.run_users,
    "audit": audit_cli.run_audit,
    "redact": redact_cli.run_redact,
}


FAILURES: tuple[type[Exception], ...] = (PBXError, RedisError, FlowError, RecordingError)
"""What the layers below raise when a command fails for a reason the operator can act on
(not a bug): reported as a CLIError (exit 1)."""

UMASK = 0o027  # what hotline writes (history, recordings' copies, logs, run files): not others'


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(UMASK)
    try:
        with failures(ConfigError, code=2), failures(*FAILURES):
            return HANDLERS[args.command](Settings.from_env(), args)
    except CLIError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
