"""``hotline recall list|show|dial|done|report``: the citizens owed a call back.

Each command first brings the list up to date with the calls that ended since the last
sync (:meth:`hotline.stores.recall.RecallStore.sync`), so it is right whether or not a
controller runs. Numbers are masked unless ``--unmask`` (the agent dialling needs it).
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from hotline.casework import preview
from hotline.cli.common import (
    CLIError,
    local_when,
    parse_when,
    print_json,
    read_center,
)
from hotline.cli.live import send_command
from hotline.commands.plan import Command, Verb
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Database, Settings
from hotline.recall.figures import VERDICTS, Figures, figures, group, verdict
from hotline.recall.rules import RecallRules
from hotline.recall.tasks import State, Task
from hotline.stores.history import History
from hotline.stores.orders import OrderStore
from hotline.stores.recall import RecallError, RecallStore
from hotline.transcripts.redact import mask_phone

STATES = ("open", "done", "expired")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("recall", help="missed callers to call back: list, show, dial, report")
    p.set_defaults(handler=run_recall)
    ps = p.add_subparsers(dest="recall_command", required=True)
    lst = ps.add_parser("list", help="recall tasks, soonest deadline first")
    lst.add_argument("--state", choices=[*STATES, "all"], default="open")
    lst.add_argument("--unmask", action="store_true", help="show the numbers whole")
    lst.add_argument("--format", choices=["table", "json"], default="table")
    show = ps.add_parser("show", help="one task: its missed calls and attempts")
    show.add_argument("task", type=int)
    show.add_argument("--unmask", action="store_true")
    dial = ps.add_parser("dial", help="call the citizen back: the agent's phone rings first")
    dial.add_argument("task", type=int)
    dial.add_argument("--agent", required=True, help="the agent's extension (or name)")
    dial.add_argument("--as", dest="actor", help="who asks (default: the agent)")
    done = ps.add_parser("done", help="mark a task done by hand (the citizen was reached)")
    done.add_argument("task", type=int)
    done.add_argument("--as", dest="actor", required=True, help="who (the agent)")
    rep = ps.add_parser("report", help="recall figures by queue, day or team")
    rep.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD (first day)")
    rep.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (last day)")
    rep.add_argument("--by", choices=["queue", "day", "team"], default="queue")
    rep.add_argument("--explain", action="store_true", help="every task and its verdict")
    rep.add_argument("--format", choices=["table", "json"], default="table")


def synced(settings: Settings, rules: RecallRules, now: int) -> RecallStore:
    """The recall store, up to date with the history."""
    return RecallStore.synced(settings.db, rules, now)


def run_recall(settings: Settings, args: argparse.Namespace) -> int:
    if args.recall_command == "dial":  # the controller checks the task and dials
        command = Command(
            id=uuid.uuid4().hex, verb=Verb.RECALL, agent=args.agent,
            actor=args.actor or args.agent, issued_at=wall_ms(), task=str(args.task),
        )  # fmt: skip
        return send_command(settings, command)
    center = read_center(settings)
    now = wall_ms()
    store = synced(settings, center.recall, now)
    try:
        if args.recall_command == "list":
            return _list(store, args, now)
        if args.recall_command == "show":
            return _show(store, settings.db, args, now)
        if args.recall_command == "done":
            try:
                task = store.close_by_hand(args.task, by=args.actor, at=now)
            except RecallError as exc:
                raise CLIError(str(exc)) from None
            print(f"recall task {task.id}: done by {args.actor}")
            return 0
        team_of = {a.name: a.team for a in center.agents.values()}
        return _report(store, args, now, team_of)
    finally:
        store.close()


def _number(task: Task, unmask: bool) -> str:
    return task.number if unmask else mask_phone(task.number)


def _doc(task: Task, now: int, unmask: bool) -> dict[str, Any]:
    return {
        "id": task.id,
        "number": _number(task, unmask),
        "origin": task.origin.value,
        "queue": task.queue,
        "t_first": task.t_first,
        "deadline": task.deadline,
        "state": task.state.value,
        "outcome": task.outcome.value if task.outcome else None,
        "attempts": task.attempts,
        "t_next": task.t_next,
        "t_closed": task.t_closed,
        "closed_by": task.closed_by,
        "calls": list(task.calls),
        "verdict": verdict(task, now),
    }


def _list(store: RecallStore, args: argparse.Namespace, now: int) -> int:
    state = None if args.state == "all" else State(args.state)
    tasks = sorted(store.tasks(state), key=lambda t: (t.deadline, t.id))
    if args.format == "json":
        print_json([_doc(t, now, args.unmask) for t in tasks])
        return 0
    rows = [
        [str(t.id), _number(t, args.unmask), t.queue or "-", local_when(t.t_first),
         local_when(t.deadline), str(len(t.calls)), str(t.attempts), t.state.value,
         t.outcome.value if t.outcome else "-"]
        for t in tasks
    ]  # fmt: skip
    head = ["task", "number", "queue", "missed", "deadline", "calls", "tries", "state", "why"]
    print(table(head, rows) if rows else "no recall tasks")
    return 0


def _show(store: RecallStore, db: Database, args: argparse.Namespace, now: int) -> int:
    """The task, its attempts, and what the agent sees before calling: the citizen's
    earlier calls and open work orders (preview dialling)."""
    task = store.task(args.task)
    if task is None:
        raise CLIError(f"no recall task {args.task}")
    doc = _doc(task, now, args.unmask)
    doc["attempts_made"] = [
        {"n": a.n, "agent": a.agent, "t_start": a.t_start, "t_end": a.t_end,
         "outcome": a.outcome.value, "cause": a.cause, "call_id": a.call_id}
        for a in store.attempts(task.id)
    ]  # fmt: skip
    history, orders = History.open(db), OrderStore.open(db)
    try:
        doc |= preview.as_dict(preview.preview(task, history, orders, now=now))
    finally:
        history.close()
        orders.close()
    print_json(doc)
    return 0


def _figure_row(name: str, f: Figures) -> list[str]:
    return [name, str(f.tasks), *(str(f.counts[v]) for v in VERDICTS), *f.shown(),
            str(f.never_reached)]  # fmt: skip


def _report(store: RecallStore, args: argparse.Namespace, now: int, team_of: dict[str, str]) -> int:
    since, until = parse_when(args.start), parse_when(args.end, end=True)
    if until <= since:
        raise CLIError("--to is before --from", 2)
    tasks = store.tasks(None, since=since, until=until)
    groups = group(tasks, args.by, now, team_of)
    total = figures(tasks, now)
    if args.format == "json":
        doc: dict[str, Any] = {
            "from": args.start, "to": args.end, "by": args.by, "total": total.as_dict(),
            "groups": {k: f.as_dict() for k, f in groups.items()},
        }  # fmt: skip
        if args.explain:
            doc["tasks"] = [_doc(t, now, False) for t in tasks]
        print_json(doc)
        return 0
    head = [args.by, "tasks", *VERDICTS, "in time", "tries", "median", "never"]
    rows = [_figure_row(k, f) for k, f in groups.items()] + [_figure_row("total", total)]
    print(table(head, rows))
    print("in time = in_time / (tasks - got_through - pending)")
    if args.explain:
        print(table(["task", "number", "missed", "deadline", "closed", "verdict"],
                    [[str(t.id), mask_phone(t.number), local_when(t.t_first),
                      local_when(t.deadline), local_when(t.t_closed), verdict(t, now)]
                     for t in tasks]))  # fmt: skip
    return 0
