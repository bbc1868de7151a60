"""``hotline calls list|show``: calls in progress (the controller's, in Redis) and finished
(the history), in a table or as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from hotline.cli.common import CLIError, local_when, print_json, since_ms
from hotline.cli.live import snapshot
from hotline.core.termtable import table
from hotline.host.settings import Settings
from hotline.stores.docs import call_doc
from hotline.stores.history import History

__all__ = ["add_parsers", "run_calls"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("calls", help="calls: in progress and history")
    p.set_defaults(handler=run_calls)
    ps = p.add_subparsers(dest="calls_command", required=True)
    lst = ps.add_parser("list", help="recent calls, newest last")
    lst.add_argument("--since", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai); default: today")
    lst.add_argument("--format", choices=["table", "json"], default="table")
    show = ps.add_parser(
        "show", help="one call, every field (and its Twilio events); or a Twilio CallSid"
    )
    show.add_argument("call_id")


def run_calls(settings: Settings, args: argparse.Namespace) -> int:
    history = History.open(settings.db)
    try:
        if args.calls_command == "show":
            print_json(_show(settings, history, args.call_id))
            return 0
        docs = [call_doc(r) for r in history.calls(since=since_ms(args.since))]
        docs += sorted(snapshot(settings).calls.values(), key=lambda d: d["call_id"])
    finally:
        history.close()
    if args.format == "json":
        print_json(docs)
        return 0
    print(table(HEADERS, [_row(d) for d in docs], right={4}, limit=60))
    return 0


def _show(settings: Settings, history: History, call_id: str) -> dict[str, Any]:
    """One call by its id, with its Twilio events when Twilio's IVR handed it over; or a
    Twilio call by its CallSid (one that never reached the PBX: hung up in the menus)."""
    record = history.call(call_id)
    live = snapshot(settings).calls if record is None else {}
    doc = call_doc(record) if record is not None else live.get(call_id)
    sid = doc.get("twilio_sid", "") if doc is not None else call_id
    events = [
        {"kind": e.kind, "at": e.at_ms, "fields": dict(e.fields)}
        for e in (history.twilio_events(sid) if sid else [])
    ]
    if doc is None:
        if not events:
            raise CLIError(f"no call {call_id!r} (a call id, or a Twilio CallSid)")
        doc = {"twilio_sid": sid}
    if events or doc.get("twilio_sid"):
        doc["twilio_events"] = events
    return doc


HEADERS = ["call", "arrived", "caller", "queue", "wait", "agent", "end", "path"]


def _row(d: dict[str, Any]) -> list[str]:
    wait = (d["t_answer"] - d["t_q"]) / 1000 if d["t_answer"] and d["t_q"] else None
    return [
        d["call_id"], local_when(d["t_arrival"] or d["t_q"]), d["caller"], d["queue"],
        f"{wait:.1f}" if wait is not None else "-", d["agent"] or "-",
        d["end_reason"] or "in progress", d["ivr_path"],
    ]  # fmt: skip
