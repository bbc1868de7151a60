"""``hotline qa forms|sample|score|appeal|report``: reviews of calls by the centre's forms."""

from __future__ import annotations

import argparse
from typing import Any

from hotline.cli.common import CLIError
from hotline.host.settings import Settings

__all__ = ["add_parsers", "run"]


def add_parsers(ps: Any) -> None:
    """The review commands under ``hotline qa``."""


def run(settings: Settings, args: argparse.Namespace) -> int:
    raise CLIError(f"unknown qa command {args.qa_command!r}", 2)
