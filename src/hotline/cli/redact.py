"""``hotline redact``: mask personal numbers in text read from standard input.

    hotline redact < export.txt > export-masked.txt
    echo "我的手机是一三八 一二三四 五六七八" | hotline redact --format json

The same masking as transcripts get (hotline.transcripts.redact): for operators masking an
export, and for measuring it. ``--format json`` prints one object per input line with the
masked text and the spans (offsets in the input line) and kinds of what was masked.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hotline.host.settings import Settings
from hotline.transcripts import redact

__all__ = ["add_parsers", "run_redact"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("redact", help="mask personal numbers in standard input")
    p.set_defaults(handler=run_redact)
    p.add_argument("--format", choices=["text", "json"], default="text")


def run_redact(settings: Settings, args: argparse.Namespace) -> int:
    for line in sys.stdin:
        text = line.rstrip("\n")
        masked = redact.mask(text)
        if args.format == "json":
            spans = [
                {"kind": p.kind.value, "start": p.start, "end": p.end} for p in redact.find(text)
            ]
            print(json.dumps({"text": masked, "spans": spans}, ensure_ascii=False))
        else:
            print(masked)
    return 0
