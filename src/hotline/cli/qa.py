"""``hotline qa flag``: the automatic flag rules over a call's turns; the review commands
(``forms``, ``sample``, ``score``, ``appeal``, ``report``) are :mod:`hotline.cli.qa_review`.

    hotline qa flag TURNS.json [--format table|json] [--center center.yaml]
    hotline qa flag --call CALL_ID --purpose 质检2026-48 [--unmask] [--db PATH]

TURNS.json is a JSON list of turns (``speaker`` caller|agent, ``start`` and ``end`` in
seconds, ``text``, optional ``energy`` in dB: :mod:`hotline.qa.turnfile`), so the rules
can be run and measured without a call. ``--call`` reads the stored transcript's turns
from the history instead; that is a look at a citizen's words, so it goes into the access
log with its ``--purpose``, and personal numbers in the evidence are masked unless
``--unmask`` (logged too); each turn's loudness is measured in the call's recorded legs
when they are on this host (for ``raised_voice``). The rules and thresholds are the
centre file's ``qa:`` section (``HOTLINE_CENTER`` or ``--center``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hotline.cli import qa_review
from hotline.cli.common import (
    DB_HELP,
    CLIError,
    center_file,
    db_path,
    failures,
    log_read,
    print_json,
)
from hotline.core.termtable import table
from hotline.host.settings import Settings
from hotline.qa.flags import Flag, FlagConfig, QaTurn, flag
from hotline.qa.turnfile import TurnsError, parse_turns
from hotline.stores.access import AccessError
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.stt.flagging import stored_turns
from hotline.transcripts import redact, turns

__all__ = ["add_parsers", "flag_rows", "run_qa"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("qa", help="quality inspection: flags, forms, sampling, scores")
    p.set_defaults(handler=run_qa)
    ps = p.add_subparsers(dest="qa_command", required=True)

    f = ps.add_parser("flag", help="run the flag rules over a call's turns")
    f.add_argument("turns", nargs="?", help="a JSON list of turns (- for stdin)")
    f.add_argument("--call", help="a stored call's transcript instead of a file")
    f.add_argument("--purpose", help="with --call: why you look (logged)")
    f.add_argument("--unmask", action="store_true", help="with --call: personal numbers shown")
    f.add_argument("--format", choices=["table", "json"], default="table")
    f.add_argument("--center", type=Path, help="the centre file (default: HOTLINE_CENTER)")
    f.add_argument("--db", help=DB_HELP)
    qa_review.add_parsers(ps)


def run_qa(settings: Settings, args: argparse.Namespace) -> int:
    if args.qa_command == "flag":
        return _flag(settings, args)
    return qa_review.run(settings, args)


def flags_config(settings: Settings, path: Path | None) -> FlagConfig:
    return center_file(path or settings.center, code=2).qa.flags


def _read_turns(name: str) -> list[QaTurn]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot read {name}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CLIError(f"{name} is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"{name} is not JSON: {exc}") from None
    try:
        return parse_turns(doc)
    except TurnsError as exc:
        raise CLIError(f"{name} has bad turns:\n{exc}") from None


def _stored_turns(settings: Settings, args: argparse.Namespace) -> list[QaTurn]:
    if not (args.purpose or "").strip():
        raise CLIError("say why you look (--purpose CASE): it goes into the access log", 2)
    db = db_path(settings, args.db)
    store = TranscriptStore.open(db)
    history = History.open(db)
    try:
        legs = store.get(args.call)
        merged = stored_turns(history, args.call, legs)
    finally:
        store.close()
        history.close()
    with failures(AccessError):
        detail = {"legs": [t.leg.value for t in legs], "found": bool(legs)}
        log_read(db, "qa-flag", args.call, args.purpose, detail)
        if args.unmask:
            log_read(db, "unmask", args.call, args.purpose, detail)
    if not legs:
        raise CLIError(f"no transcript of call {args.call!r} in {db}")
    return merged


def flag_rows(found: list[Flag]) -> list[list[str]]:
    """Each flag as table cells: rule, item, who (市民/坐席), when, words, detail."""
    rows = []
    for f in found:
        e = f.evidence
        who = turns.label(e.speaker) if e.speaker is not None else "-"
        at = f"{turns.clock(e.start_ms)}-{turns.clock(e.end_ms)}"
        rows.append([f.rule.value, f.item or "-", who, at, e.text or "-", f.detail])
    return rows


def _flag(settings: Settings, args: argparse.Namespace) -> int:
    if (args.turns is None) == (args.call is None):
        raise CLIError("give a turns file or --call CALL_ID (one of them)", 2)
    cfg = flags_config(settings, args.center)
    given = _stored_turns(settings, args) if args.call else _read_turns(args.turns)
    found = flag(given, cfg)
    docs = [f.doc() for f in found]
    if args.call and not args.unmask:
        for doc in docs:
            doc["text"] = redact.mask(str(doc["text"]))
            doc["detail"] = redact.mask(str(doc["detail"]))
    if args.format == "json":
        print_json({"turns": len(given), "flags": docs})
        return 0
    print(f"{len(given)} turns, {len(found)} flags")
    if found:
        rows = flag_rows(found)
        for row, doc in zip(rows, docs, strict=True):
            row[4], row[5] = str(doc["text"]) or "-", str(doc["detail"])
        print(table(["rule", "item", "who", "when", "words", "detail"], rows, limit=60))
    return 0
