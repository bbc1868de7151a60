"""``hotline metrics``: explain one call, report the figures, import an Asterisk queue_log,
set the parameters (recorded with who and when), mark callbacks done.

    hotline metrics explain CALL_ID [--db PATH] [--threshold 15] [--short-abandon 0]
    hotline metrics report --from 2026-11-01 --to 2026-11-30
                           [--by queue|agent|team|15min|hour|day|month]
                           [--threshold 15] [--short-abandon 0] [--repeat-days 7]
                           [--format table|csv|json] [--chart DIR] [--db PATH]
    hotline metrics import-queue-log FILE [FILE ...] [--db PATH]
    hotline metrics params show | set NAME VALUE --by WHO --why TEXT
    hotline metrics callbacks [--open] | callback-done CALL_ID --by WHO

Dates are Asia/Shanghai: ``--from D --to D`` covers whole days, both included; a time
(``2026-11-24T10:00``) is exact, ``--to`` excluded. ``--db`` defaults to ``HOTLINE_DB``.
Without ``--threshold``/``--short-abandon``/``--repeat-days`` the parameters are those
recorded in force (``metrics params``). The figures are defined in :mod:`hotline.metrics`
(docs/metrics.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hotline.cli import metrics_chart, metrics_params
from hotline.cli.common import (
    DB_HELP,
    CLIError,
    center_file,
    db_path,
    failures,
    parse_when,
    print_json,
)
from hotline.cli.metrics_import import run_import
from hotline.cli.metrics_load import load_report, params_of, recorded_changes
from hotline.core.localtime import DAY_MS
from hotline.host.clock import wall_ms
from hotline.host.settings import Database, Settings
from hotline.ivr.loader import FlowError, load_flow
from hotline.metrics import GroupBy, MetricsError, verdict, version
from hotline.metrics.agenttime import AgentData, call_acw
from hotline.metrics.changes import params_at
from hotline.metrics.render import to_csv, to_json, to_table
from hotline.recall.figures import Figures, figures
from hotline.recall.rules import RecallRules
from hotline.stores import dialect as db
from hotline.stores.history import History, HistoryError
from hotline.stores.recall import RecallStore
from hotline.stores.schema import SchemaError

__all__ = ["add_parsers", "run_metrics"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("metrics", help="the 15-second rate and every hotline KPI, per call")
    p.set_defaults(handler=run_metrics)
    ps = p.add_subparsers(dest="metrics_command", required=True)

    e = ps.add_parser("explain", help="in which populations one call counts, and why")
    e.add_argument("call_id")
    _common(e)
    e.add_argument("--format", choices=["text", "json"], default="text")

    r = ps.add_parser("report", help="the figures per queue, agent, team or interval")
    r.add_argument("--from", dest="since", required=True, help="YYYY-MM-DD[THH:MM] (Shanghai)")
    r.add_argument("--to", dest="until", required=True, help="YYYY-MM-DD (included) or a time")
    r.add_argument("--by", choices=[g.value for g in GroupBy], default="queue")
    r.add_argument("--pbx", metavar="NAME", help="only the calls of this PBX (HOTLINE_PBXS)")
    _common(r)
    r.add_argument("--repeat-days", type=int, help="repeat-caller window (days)")
    r.add_argument("--format", choices=["table", "csv", "json"], default="table")
    r.add_argument("--chart", type=Path, metavar="DIR", help="write SVG (and PNG) charts here")

    i = ps.add_parser("import-queue-log", help="call records from an Asterisk queue_log")
    i.add_argument("files", nargs="+", type=Path, metavar="FILE", help="oldest first")
    i.add_argument("--db", help=DB_HELP)

    metrics_params.add_parsers(ps)  # params, callbacks, callback-done, rollup


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=DB_HELP)
    p.add_argument("--threshold", help="T in seconds (default: recorded in force, 15)")
    p.add_argument("--short-abandon", help="S in seconds (default: recorded in force, 0)")


def run_metrics(settings: Settings, args: argparse.Namespace) -> int:
    with failures(MetricsError, HistoryError, SchemaError, *db.DatabaseError, OSError):
        if args.metrics_command == "explain":
            return _explain(settings, args)
        if args.metrics_command == "report":
            return _report(settings, args)
        if args.metrics_command == "import-queue-log":
            return run_import(settings, args)
        return metrics_params.run(settings, args)


def _labels(settings: Settings) -> dict[str, str]:
    """Queue name → the label the centre uses (from the flow); none if it cannot be read."""
    try:
        flow = load_flow(settings.flow.read_text(encoding="utf-8"), str(settings.flow))
    except (FlowError, OSError, UnicodeDecodeError):
        return {}
    return {name: spec.label for name, spec in flow.queues.items()}


def _explain(settings: Settings, args: argparse.Namespace) -> int:
    path = db_path(settings, args.db)
    changes = recorded_changes(path)
    history = History.open(path)
    try:
        record = history.call(args.call_id)
        journal = []
        if record is not None and record.agent and record.talk_end is not None:
            journal = history.journal(
                agent=record.agent, since=record.talk_end - DAY_MS, until=record.talk_end + DAY_MS
            )
    finally:
        history.close()
    if record is None:
        raise CLIError(f"no call {args.call_id!r} in {path}")
    at = record.t_q if record.t_q is not None else (record.t_request or record.t_end or 0)
    params, _ = params_of(args, params_at(changes, at))
    acw = call_acw(AgentData(journal=tuple(journal))).get(record.call_id)
    v = verdict(record, params=params, labels=_labels(settings), acw_ms=acw)
    pbx = record.pbx or settings.pbx_name
    pops = sorted((p.value for p in v.populations), key=_order)
    if args.format == "json":
        doc = {
            "call_id": v.call_id,
            "pbx": pbx,
            "populations": pops,
            "excluded": v.excluded.value if v.excluded else None,
            "t_interval_ms": v.t_interval,
            "queue": v.queue,
            "agent": v.agent,
            "wait_ms": v.wait_ms,
            "nav_wait_ms": v.nav_wait_ms,
            "talk_ms": v.talk_ms,
            "acw_ms": acw,
            "lost_by": v.lost_by,
            "precision": v.precision.value,
            "formula_version": version(params).as_dict(),
            "en": list(v.en),
            "zh": list(v.zh),
        }
        print_json(doc)
        return 0
    print(f"PBX {pbx} / 交换机 {pbx}")
    print("\n".join(v.en))
    print()
    print("\n".join(v.zh))
    print()
    shown = ", ".join(pops) if pops else f"none ({v.excluded.value if v.excluded else '?'})"
    print(
        f"populations: {shown}  (T = {params.threshold_s} s, S = {params.short_abandon_s} s; "
        f"formula version {version(params).id})"
    )
    return 0


def _recall(settings: Settings, path: Database, since: int, until: int) -> Figures:
    """The recall figures of the tasks first missed in [since, until), as of now (the
    list brought up to date first; the centre's rules if its file can be read)."""
    try:
        rules = center_file(settings.center).recall
    except CLIError:
        rules = RecallRules()
    now = wall_ms()
    store = RecallStore.synced(path, rules, now)
    try:
        return figures(store.tasks(None, since=since, until=until), now)
    finally:
        store.close()


def _order(name: str) -> int:
    order = ["R", "A", "A15", "Ab", "Ab15", "AbS", "L"]
    base = name.removeprefix("nav.")
    return order.index(base) + (10 if name.startswith("nav.") else 0) if base in order else 99


def _report(settings: Settings, args: argparse.Namespace) -> int:
    since = parse_when(args.since)
    until = parse_when(args.until, end=True)
    if until <= since:
        raise CLIError(f"--to {args.until} is not after --from {args.since}")
    if args.repeat_days is not None and args.repeat_days < 1:
        raise CLIError(f"--repeat-days {args.repeat_days}: use 1 or more")
    names = [link.name for link in settings.pbx_links]
    if args.pbx is not None and args.pbx not in names:
        raise CLIError(f"--pbx {args.pbx!r}: this centre's PBXs are {', '.join(names)}")
    report = load_report(settings, args, since, until, GroupBy(args.by))
    recalled = _recall(settings, db_path(settings, args.db), since, until)
    if args.format == "json":  # the recall figures beside the call figures
        doc = json.loads(to_json(report))
        doc["recall"] = recalled.as_dict()
        print_json(doc)
    else:
        sys.stdout.write((to_table if args.format == "table" else to_csv)(report))
    if args.format == "table":
        print()
        print(recalled.line())
    if args.chart is not None:
        for line in metrics_chart.write_charts(settings, args, report, since, until):
            print(line, file=sys.stderr)
    return 0
