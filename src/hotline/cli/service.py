"""``hotline systemd`` and ``hotline logrotate``: a non-container install's service units
and log rotation, written for this site.

    hotline systemd [--out /etc/systemd/system] [--env-file SITE/hotline.env] [--user root]
    hotline logrotate [--out /etc/logrotate.d/hotline]

The units run what ``hotline run`` starts (Redis, Asterisk, the controller, the STT worker,
the web app) with this hotline's Python, restarted on failure, logging to the journal, each
reading the site's ``hotline.env`` (``hotline init DIR`` wrote it). Then::

    systemctl daemon-reload && systemctl enable --now hotline.target
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hotline.cli.common import CLIError
from hotline.host import units
from hotline.host.settings import Settings
from hotline.host.sitedir import ENV_FILE

__all__ = ["add_parsers", "exec_argv", "run_logrotate", "run_systemd"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("systemd", help="write systemd units for this site (non-container)")
    p.set_defaults(handler=run_systemd)
    p.add_argument("--out", type=Path, default=Path("/etc/systemd/system"),
                   help="where to write them (/etc/systemd/system)")  # fmt: skip
    p.add_argument("--env-file", type=Path,
                   help=f"their EnvironmentFile (default: $HOTLINE_SITE/{ENV_FILE})")  # fmt: skip
    p.add_argument("--user", default="root", help="the user the services run as (root)")
    r = sub.add_parser("logrotate", help="write the logrotate configuration for this site")
    r.set_defaults(handler=run_logrotate)
    r.add_argument("--out", type=Path, default=Path("/etc/logrotate.d/hotline"),
                   help="the file to write (/etc/logrotate.d/hotline)")  # fmt: skip


def exec_argv() -> list[str]:
    """How a unit runs this hotline: this Python, ``-m hotline`` (a venv's, or the system's)."""
    return [sys.executable, "-m", "hotline"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o644)  # what systemd and logrotate expect of their configuration
    tmp.replace(path)
    print(f"wrote {path}")


def run_systemd(settings: Settings, args: argparse.Namespace) -> int:
    env_file = args.env_file
    if env_file is None:
        if settings.site is None:
            raise CLIError(
                "no site: run `hotline init DIR` and set HOTLINE_SITE=DIR, or give --env-file",
                2,
            )
        env_file = settings.site / ENV_FILE
    env_file = env_file.resolve()
    if not env_file.is_file():
        raise CLIError(f"{env_file} does not exist: `hotline init DIR` writes it", 2)
    try:
        written = units.units(exec_argv(), env_file, args.user)
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    for name, text in written.items():
        _write(args.out / name, text)
    print("then: systemctl daemon-reload && systemctl enable --now hotline.target")
    print("      journalctl -u 'hotline-*' -f   # their logs")
    return 0


def run_logrotate(settings: Settings, args: argparse.Namespace) -> int:
    _write(args.out, units.logrotate(exec_argv(), settings.run_dir.resolve()))
    return 0
