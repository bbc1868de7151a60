"""``hotline ivr`` and ``hotline prompts``: check, render and apply an IVR flow."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.cli.common import CLIError
from hotline.core.termtable import aligned_rows
from hotline.host.settings import Settings
from hotline.ivr import twiml
from hotline.ivr.loader import FlowError
from hotline.ivr.model import Flow, Route, routes
from hotline.ivr.prompts import PromptError
from hotline.pbx import install
from hotline.pbx.voice import audio_stats


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("ivr", help="IVR flows: check, render, apply")
    p.set_defaults(handler=run_ivr)
    ps = p.add_subparsers(dest="ivr_command", required=True)
    c = ps.add_parser("check", help="validate a flow; exit 1 naming every bad node")
    c.add_argument("flow", type=Path)
    r = ps.add_parser("render", help="write the Asterisk files of a flow into DIR")
    r.add_argument("flow", type=Path)
    r.add_argument("--out", type=Path, required=True)
    a = ps.add_parser("apply", help="install a flow into the running PBX and reload")
    a.add_argument("flow", type=Path, nargs="?")
    ps.add_parser("routes", help="list every way through the menus").add_argument("flow", type=Path)
    t = ps.add_parser("twiml", help="print the TwiML of a menu node (or 'entry')")
    t.add_argument("flow", type=Path)
    t.add_argument("node")
    t.add_argument("--lang", default=None, help="language (default: the flow's first)")

    p = sub.add_parser("prompts", help="IVR prompts (espeak-ng, or recorded)")
    p.set_defaults(handler=run_prompts)
    ps = p.add_subparsers(dest="prompts_command", required=True)
    b = ps.add_parser("build", help="render the flow's prompts into the PBX instance")
    b.add_argument("flow", type=Path, nargs="?")


def _flow(settings: Settings, path: Path | None) -> Path:
    return path if path is not None else settings.flow


def run_ivr(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.ivr_command == "check":
            flow, _ = install.read_flow(args.flow)
            n = sum(1 for _ in routes(flow))
            print(
                f"{args.flow}: ok: {len(flow.menus)} menus, {len(flow.queues)} queues, "
                f"{n} routes, {len(flow.prompts)} prompts in {', '.join(flow.languages)}"
            )
        elif args.ivr_command == "render":
            flow, text = install.read_flow(args.flow)
            for path in install.write_files(install.render_files(flow, text), args.out):
                print(path)
        elif args.ivr_command == "routes":
            flow, _ = install.read_flow(args.flow)
            for line in _route_lines(routes(flow)):
                print(line)
        elif args.ivr_command == "twiml":
            flow, _ = install.read_flow(args.flow)
            print(_twiml(flow, args.node, args.lang or flow.default_language))
        else:
            done = install.apply(settings, _flow(settings, args.flow))
            print(
                f"applied '{done.flow.name}': {len(done.files)} files, {len(done.prompts)} prompts"
            )
    except FlowError as exc:
        print(f"{args.flow}: invalid flow:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except PromptError as exc:
        raise CLIError(str(exc)) from None
    return 0


def _route_lines(found: Iterable[Route]) -> list[str]:
    """Digits, language, queue, tag: aligned by display width, at least as wide as the
    columns always were (16 and 12, a space after each; two after the language)."""
    rows = [[" ".join(d or "(none)" for d in r.digits), r.language, r.queue, r.tag] for r in found]
    return aligned_rows(rows, minimum=(15, 0, 11))


def _twiml(flow: Flow, node: str, language: str) -> str:
    if language not in flow.languages:
        raise CLIError(f"language {language!r} is not one of {', '.join(flow.languages)}")
    try:
        if node == "entry":
            return twiml.render_entry(flow, now=dt.datetime.now(ZoneInfo(flow.hours.timezone)))
        return twiml.render_node(flow, node, language=language)
    except twiml.TwimlError as exc:
        raise CLIError(f"{node!r}: {exc} (menus: {', '.join(flow.menus)})") from None


def run_prompts(settings: Settings, args: argparse.Namespace) -> int:
    path = _flow(settings, args.flow)
    try:
        flow, _ = install.read_flow(path)
        built = install.build_flow_prompts(settings, flow, path)
    except FlowError as exc:
        raise CLIError(f"{path}: invalid flow:\n{exc}") from None
    except PromptError as exc:
        raise CLIError(str(exc)) from None
    rows = [[f"{b.prompt.language}/{b.prompt.name}", b.source, audio_stats(b.path).describe()]
            for b in built]  # fmt: skip
    for line in aligned_rows(rows, gap=" ", minimum=(21, 11)):  # the widths it always had
        print(line)
    return 0
