"""``hotline init DIR``: a site's editable flow, centre file and PBX templates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hotline.cli.common import CLIError
from hotline.host.settings import Settings
from hotline.host.sitedir import ENV_FILE, Outcome, init_site

__all__ = ["add_parsers", "run_init"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "init", help="write a site's own flow, centre file and PBX templates into DIR"
    )
    p.set_defaults(handler=run_init)
    p.add_argument("dir", type=Path, help="the site directory (made if missing)")


def run_init(settings: Settings, args: argparse.Namespace) -> int:
    try:
        done = init_site(args.dir)
    except OSError as exc:
        raise CLIError(f"cannot write the site into {args.dir}: {exc.strerror}") from None
    for item in done:
        print(f"{item.outcome.value:<20} {item.path}")
    written = sum(item.outcome is Outcome.WRITTEN for item in done)
    site = args.dir.resolve()
    print(
        f"{written} files written. Edit them, then run hotline with HOTLINE_SITE={site} "
        f"(set in {site / ENV_FILE})."
    )
    return 0
