"""``hotline calls list|show``: calls in progress (the controller's, in Redis) and finished
(the history), in a table or as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from redis.exceptions import RedisError

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

    def events(sid: str) -> list[dict[str, Any]]:
        found = history.twilio_events(sid) if sid else []
        return [{"kind": e.kind, "at": e.at_ms, "fields": dict(e.fields)} for e in found]

    record = history.call(call_id)
    if record is None:
        alone = events(call_id)
        if alone:
            return {"twilio_sid": call_id, "twilio_events": alone}
    if record is not None:
        doc: dict[str, Any] | None = call_doc(record)
    else:
        try:
            doc = snapshot(settings).calls.get(call_id)
        except RedisError:
            raise CLIError(
                f"no call {call_id!r} in the history, and the calls in progress are "
                "unknown: Redis does not answer"
            ) from None
    if doc is None:
        raise CLIError(f"no call {call_id!r} (a call id, or a Twilio CallSid)")
    if doc.get("twilio_sid"):
        doc["twilio_events"] = events(doc["twilio_sid"])
    return doc


HEADERS = ["call", "arrived", "caller", "queue", "wait", "agent", "end", "path"]


def _row(d: dict[str, Any]) -> list[str]:
    wait = (d["t_answer"] - d["t_q"]) / 1000 if d["t_answer"] and d["t_q"] else None
    return [
        d["call_id"], local_when(d["t_arrival"] or d["t_q"]), d["caller"], d["queue"],
        f"{wait:.1f}" if wait is not None else "-", d["agent"] or "-",
        d["end_reason"] or "in progress", d["ivr_path"],
    ]  # fmt: skip
