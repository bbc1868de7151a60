"""``hotline alerts list|show|ack|close|reopen`` and ``hotline notice on|off``.

Reading goes to the history (every alert version is stored there); handling an alert or
switching the announcement goes through the running controller, which journals who did it.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from hotline.cli.common import CLIError, local_when, print_json, since_ms
from hotline.cli.live import send_command
from hotline.commands.plan import Command, Verb
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.stores.history import History

STATES = ("open", "acknowledged", "closed")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("alerts", help="the watchdog's alerts: list, show, acknowledge, close")
    p.set_defaults(handler=run_alerts)
    ps = p.add_subparsers(dest="alerts_command", required=True)
    lst = ps.add_parser("list", help="alerts raised since a day (default: today)")
    lst.add_argument("--since", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai); default: today")
    lst.add_argument("--state", choices=[*STATES, "all"], default="all")
    lst.add_argument("--agent")
    lst.add_argument("--format", choices=["table", "json"], default="table")
    show = ps.add_parser("show", help="one alert: evidence, cost, lifecycle, escalation")
    show.add_argument("alert")
    for verb, text in ((Verb.ACKNOWLEDGE, "acknowledge (with a comment)"),
                       (Verb.CLOSE, "close (with a comment)"),
                       (Verb.REOPEN, "reopen a closed alert")):  # fmt: skip
        q = ps.add_parser(verb.value, help=text)
        q.add_argument("alert")
        q.add_argument("--comment", "-m", required=True, help="why (kept in the journal)")
        q.add_argument("--as", dest="actor", required=True, help="who (a supervisor)")

    p = sub.add_parser("notice", help="switch the IVR announcement on or off (supervisors)")
    p.set_defaults(handler=run_notice)
    p.add_argument("switch", choices=["on", "off"])
    p.add_argument("name", nargs="?", default="", help="an announcement of the flow")
    p.add_argument("--as", dest="actor", required=True, help="who (a supervisor)")


def _row(a: dict[str, Any]) -> list[str]:
    cost = a.get("cost") or {}
    missed = len(cost.get("calls") or ())
    value = a["value"] // 1000 if a.get("unit") == "ms" else a.get("value")
    unit = "s" if a.get("unit") == "ms" else ""
    return [
        local_when(a["t_raised"]), a["severity"], a["state"], a["agent"],
        a.get("label", a["rule"]), f"{value}{unit}", f"{missed} missed", a["id"],
    ]  # fmt: skip


def run_alerts(settings: Settings, args: argparse.Namespace) -> int:
    if args.alerts_command not in ("list", "show"):
        command = Command(
            id=uuid.uuid4().hex, verb=Verb(args.alerts_command), agent="", actor=args.actor,
            supervisor=True, issued_at=wall_ms(), alert=args.alert, comment=args.comment,
        )  # fmt: skip
        return send_command(settings, command)
    history = History.open(settings.db)
    try:
        if args.alerts_command == "show":
            doc = history.alert(args.alert)
            if doc is None:
                raise CLIError(f"no alert {args.alert!r}")
            doc["escalation"] = history.escalations(alert=args.alert)
            print_json(doc)
            return 0
        state = None if args.state == "all" else args.state
        docs = history.alerts(args.agent, since=since_ms(args.since), state=state)
    finally:
        history.close()
    if args.format == "json":
        print_json(docs)
        return 0
    headers = ["raised", "severity", "state", "agent", "rule", "value", "cost", "id"]
    print(table(headers, [_row(doc) for doc in docs], right={5}))
    return 0


def run_notice(settings: Settings, args: argparse.Namespace) -> int:
    if args.switch == "on" and not args.name:
        raise CLIError("notice on: name the announcement (see the flow's announcements:)")
    command = Command(
        id=uuid.uuid4().hex, verb=Verb.NOTICE, agent="", actor=args.actor, supervisor=True,
        issued_at=wall_ms(), notice=args.name if args.switch == "on" else "",
    )  # fmt: skip
    return send_command(settings, command)
