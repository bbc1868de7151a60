"""The ``hotline`` command: the operator's entry to every part of the system.

Settings are built once here from the environment and passed down.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hotline.cli import (
    access,
    agents,
    alerts,
    ami,
    audit,
    backup,
    calls,
    controller,
    db,
    init,
    ivr,
    kamailio,
    kb,
    metrics,
    orders,
    pbx,
    qa,
    recall,
    redact,
    redis,
    retention,
    run,
    service,
    sim,
    stt,
    supervise,
    transcripts,
    transfer,
    users,
    web,
)
from hotline.cli.common import CLIError, failures, report
from hotline.host.settings import ConfigError, Settings
from hotline.ivr.loader import FlowError
from hotline.pbx.errors import PBXError
from hotline.recordings.errors import RecordingError
from hotline.stores.redis_server import RedisError

GROUPS = (
    init,  # init DIR: a site's own copies of the bundled files
    db,  # db migrate: SQLite to PostgreSQL
    pbx,  # pbx start|stop|status|cli|reload
    kamailio,  # kamailio render|start|stop|status: in front of several PBXs
    redis,  # redis start|stop|status
    run,  # run: everything until Ctrl-C
    service,  # systemd, logrotate: a non-container install's units and log rotation
    sim,  # sim: simulated traffic
    ami,  # ami record|dump|action
    ivr,  # ivr check|render|apply|routes|twiml, prompts build
    controller,  # controller
    calls,  # calls list|show
    agents,  # agents list|audit|report, agent VERB
    metrics,  # metrics explain|report|import-queue-log|params|callbacks|callback-done|rollup
    alerts,  # alerts list|show|acknowledge|close|reopen, notice on|off
    recall,  # recall list|show|dial|done|report: missed callers to call back
    supervise,  # supervise listen|whisper|barge CALL_OR_AGENT --from EXT --as USER
    transfer,  # transfer CALL --to QUEUE|EXT|DEPT [--attended|--conference] --as USER
    transcripts,  # transcripts search|show
    qa,  # qa flag|forms|sample|score|appeal|report: quality inspection (质检)
    orders,  # orders create|dispatch|sign|reply|return|finish|review|visit|show|list|report
    kb,  # kb add|edit|show|search|propose|link|conflicts: the knowledge base (知识库)
    access,  # access list|verify
    retention,  # retention plan|run|hold|release|holds|disposals|verify
    stt,  # transcribe, play, stt worker|status|listen
    web,  # web
    users,  # users add|passwd|scope|grant-unmask|revoke-unmask|disable|enable|list
    audit,  # audit anchor|verify
    backup,  # backup DIR, restore DIR
    redact,  # redact
)
"""The command groups, in the order ``hotline --help`` lists them. Each module adds its
commands with ``add_parsers(sub)``, each command naming its handler
(``set_defaults(handler=...)``): ``handler(settings, args)`` returns the exit code."""

FAILURES: tuple[type[Exception], ...] = (PBXError, RedisError, FlowError, RecordingError)
"""What the layers below raise when a command fails for a reason the operator can act on
(not a bug): reported as a CLIError (exit 1)."""

UMASK = 0o027  # what hotline writes (history, recordings' copies, logs, run files): not others'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(UMASK)
    try:
        with failures(ConfigError, code=2), failures(*FAILURES):
            code: int = args.handler(Settings.from_env(), args)
            return code
    except CLIError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
