"""``hotline metrics params`` and the callbacks: changes recorded with who, when and why.

    hotline metrics params show [--db PATH] [--format table|json]
    hotline metrics params set threshold_s 20 --by 张三 --why "市局口径：20秒" [--db PATH]
    hotline metrics callbacks [--open] [--from D --to D] [--db PATH]
    hotline metrics callback-done CALL_ID --by 王芳 [--db PATH]
    hotline metrics rollup build [--threshold 15 ...] | refresh [--db PATH]

A parameter change takes effect when it is recorded, never earlier, and cannot be edited or
deleted afterwards; reports state what was in force for their window.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hotline.cli.common import DB_HELP, CLIError, db_path, parse_when, print_json
from hotline.cli.metrics_load import params_given, recorded_changes
from hotline.core.localtime import TZ_NAME
from hotline.core.records import Precision
from hotline.core.termtable import aligned_rows
from hotline.host.clock import wall_ms as now_ms
from hotline.host.settings import Database, Settings
from hotline.metrics.changes import PARAMS, param_change, params_at
from hotline.metrics.formulas import REVISION
from hotline.metrics.params import MetricsError
from hotline.metrics.timefmt import clock
from hotline.stores.history import History
from hotline.stores.metrics import MetricsStore

__all__ = ["add_parsers", "run"]


def add_parsers(ps: Any) -> None:
    p = ps.add_parser("params", help="the parameters in force, and who changed them when")
    pp = p.add_subparsers(dest="params_command", required=True)
    show = pp.add_parser("show", help="in force now, and every recorded change")
    show.add_argument("--db", help=DB_HELP)
    show.add_argument("--format", choices=["table", "json"], default="table")
    s = pp.add_parser("set", help="change a parameter from now on (recorded: who, when, why)")
    s.add_argument("name", choices=sorted(PARAMS))
    s.add_argument("value", help="seconds (threshold_s, short_abandon_s) or days")
    s.add_argument("--by", required=True, help="who decides the change")
    s.add_argument("--why", required=True, help="why (a decision, a regulation)")
    s.add_argument("--db", help=DB_HELP)

    c = ps.add_parser("callbacks", help="callbacks requested, done or open")
    c.add_argument("--open", action="store_true", help="only those not done yet")
    c.add_argument("--from", dest="since", help="requested from YYYY-MM-DD (Shanghai)")
    c.add_argument("--to", dest="until", help="requested up to YYYY-MM-DD (included)")
    c.add_argument("--db", help=DB_HELP)
    d = ps.add_parser("callback-done", help="mark a callback done (who called back)")
    d.add_argument("call_id")
    d.add_argument("--by", required=True, help="the agent who called back")
    d.add_argument("--db", help=DB_HELP)

    r = ps.add_parser("rollup", help="build or refresh the rollup reports read (fast months)")
    r.add_argument("rollup_command", choices=["build", "refresh"])
    r.add_argument("--db", help=DB_HELP)
    r.add_argument("--threshold", help="T in seconds (default: recorded in force now)")
    r.add_argument("--short-abandon", help="S in seconds (default: recorded in force now)")
    r.add_argument("--repeat-days", type=int, help="N days (default: recorded in force now)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    path = db_path(settings, args.db)
    if args.metrics_command == "params":
        return _set(path, args) if args.params_command == "set" else _show(path, args)
    if args.metrics_command == "callbacks":
        return _callbacks(path, args)
    if args.metrics_command == "rollup":
        return _rollup(path, args)
    return _done(path, args)


def _rollup(path: Database, args: argparse.Namespace) -> int:
    from hotline.stores.rollup import Rollup  # numpy: only when a rollup is built

    params = params_given(args, params_at(recorded_changes(path), now_ms()))
    rollup = Rollup.open(path)
    try:
        start = time.monotonic()
        if args.rollup_command == "build":
            rows = rollup.build(params, now=now_ms())
        else:
            rows = rollup.refresh()
    finally:
        rollup.close()
    print(
        f"rollup {args.rollup_command}: {rows} rows in {time.monotonic() - start:.1f} s "
        f"(T = {params.threshold_s} s, S = {params.short_abandon_s} s, N = {params.repeat_days})"
    )
    return 0


def _show(path: Database, args: argparse.Namespace) -> int:
    changes = recorded_changes(path)
    now = params_at(changes, now_ms())
    tz = TZ_NAME
    if args.format == "json":
        doc = {
            "in_force": now.as_dict(),
            "revision": REVISION,
            "changes": [
                {"at": clock(c.t, Precision.MILLISECOND, tz), "at_ms": c.t, "kind": c.kind.value,
                 "name": c.name, "value": c.value, "previous": c.previous,
                 "revision": c.revision, "by": c.by, "why": c.why, "text": c.text()}
                for c in changes
            ],
        }  # fmt: skip
        print_json(doc)
        return 0
    print(
        f"in force: T = {now.threshold_s} s, S = {now.short_abandon_s} s, "
        f"N = {now.repeat_days} days, formulas revision {REVISION}"
    )
    for c in changes:
        at = clock(c.t, Precision.MILLISECOND, tz)
        print(f"  {at}  {c.text()}  by {c.by}: {c.why}")
    return 0


def _set(path: Database, args: argparse.Namespace) -> int:
    changes = recorded_changes(path)
    at = max([now_ms(), *(c.t for c in changes)])
    change = param_change(
        params_at(changes, at), args.name, args.value, by=args.by, why=args.why, at=at,
        revision=REVISION,
    )  # fmt: skip
    store = MetricsStore.open(path)
    try:
        store.record(change)
    finally:
        store.close()
    when = clock(change.t, Precision.MILLISECOND, TZ_NAME)
    print(f"recorded at {when}: {change.text()} by {change.by} ({change.why})")
    return 0


def _callbacks(path: Database, args: argparse.Namespace) -> int:
    since = parse_when(args.since) if args.since else 0
    until = parse_when(args.until, end=True) if args.until else 2**62
    history = History.open(path)
    try:
        rows = history.callbacks(since=since, until=until)
    finally:
        history.close()
    shown = [r for r in rows if not args.open or r["status"] == "open"]
    for line in aligned_rows([_callback_row(r) for r in shown]):
        print(line)
    print(f"{len(shown)} callbacks ({sum(r['status'] == 'open' for r in rows)} open)")
    return 0


def _callback_row(r: dict[str, Any]) -> list[str]:
    """A callback as cells, aligned by display width (queue names from an imported
    queue_log may be Chinese; whoever called back usually is)."""
    asked = clock(r["t_requested"], Precision.MILLISECOND, TZ_NAME)
    if r["t_done"] is None:
        return [r["call_id"], r["queue"], f"requested {asked}", r["status"]]
    done = clock(r["t_done"], Precision.MILLISECOND, TZ_NAME)
    return [r["call_id"], r["queue"], f"requested {asked}", f"done {done} by {r['done_by']}"]


def _done(path: Database, args: argparse.Namespace) -> int:
    if not args.by.strip():
        raise MetricsError("say who called back (--by NAME)")
    history = History.open(path)
    try:
        done = history.complete_callback(args.call_id, at=now_ms(), by=args.by.strip())
    finally:
        history.close()
    if not done:
        raise CLIError(f"no open callback for call {args.call_id!r}")
    print(f"callback {args.call_id} done by {args.by.strip()}")
    return 0
