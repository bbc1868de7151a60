"""``hotline agents audit`` and ``hotline agents report``: the watchdog over past data.

    hotline agents audit --queue-log /var/log/asterisk/queue_log [--config center.yaml]
                         [--format table|json] [--until 2026-11-24]
    hotline agents report --date 2026-11-23 [--team team-a] [--shift day]
                          [--format table|csv|json] [--db hotline.sqlite3 | --queue-log FILE]

The audit runs the live rules (:mod:`hotline.watchdog`) over an Asterisk queue_log alone, so
months from before hotline was installed can be examined; rotated files are given oldest
first (``--queue-log queue_log.1 --queue-log queue_log``). Lines that cannot be read are
reported with the output, never fatal. The report reads the history database (the journal
and calls the controller stored) or a queue_log.

Part of the ``agents`` command (:mod:`hotline.cli.agents` adds these parsers and routes
here). Failures are CLIErrors: exit 1 a file or the history, 2 the command line or the
configuration (the centre file included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hotline.center.config import Center
from hotline.cli.common import DB_HELP, ZONE, CLIError, center_file, db_path, moment, print_json
from hotline.core.localtime import DAY_MS
from hotline.core.records import AgentChange, CallRecord
from hotline.host.settings import Database, Settings
from hotline.watchdog import Watchdog, replay, shift_report
from hotline.watchdog.audit import Loaded, audit_lines, load_lines
from hotline.watchdog.render import (
    alerts_table,
    audit_doc,
    audit_footer,
    report_csv,
    report_doc,
    report_table,
)
from hotline.watchdog.shifts import Shifts

__all__ = ["add_parsers", "run_audit", "run_report"]


def add_parsers(actions: Any) -> None:
    """Add ``audit`` and ``report`` to the ``agents`` command's ACTIONS."""
    a = actions.add_parser(
        "audit", help="run the busy-abuse rules over a queue_log (alerts with cost and evidence)"
    )
    a.add_argument(
        "--queue-log", type=Path, action="append", required=True, metavar="FILE",
        help="an Asterisk queue_log; repeat for rotated files, oldest first",
    )  # fmt: skip
    a.add_argument("--config", type=Path, help="the centre (default: HOTLINE_CENTER)")
    a.add_argument("--format", choices=["table", "json"], default="table")
    a.add_argument("--until", help="run the clock on to YYYY-MM-DD[THH:MM] (default: last line)")
    r = actions.add_parser("report", help="per agent: time logged in, ready, talk, pauses, 示忙率")
    r.add_argument("--date", required=True, help="YYYY-MM-DD (Asia/Shanghai)")
    r.add_argument("--team")
    r.add_argument("--shift", help="only this shift of the team (needs --team)")
    r.add_argument("--format", choices=["table", "csv", "json"], default="table")
    source = r.add_mutually_exclusive_group()
    source.add_argument("--db", help=DB_HELP)
    source.add_argument(
        "--queue-log", type=Path, action="append", metavar="FILE",
        help="read a queue_log instead of the history (repeat for rotated files)",
    )  # fmt: skip
    r.add_argument("--config", type=Path, help="the centre (default: HOTLINE_CENTER)")


def _lines(paths: Sequence[Path]) -> Iterator[str]:
    for path in paths:
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                yield from lines
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}") from None


def _read(paths: Sequence[Path]) -> Loaded:
    # one build across the rotated files, so a call cut by a rotation is one call
    return load_lines(_lines(paths))


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    center = center_file(args.config or settings.center, code=2)
    until = moment(args.until, "--until", 2) if args.until else None
    loaded = _read(args.queue_log)
    audit = audit_lines(loaded, Watchdog(center.watchdog, center, tz=ZONE), until=until)
    if args.format == "json":
        print_json(audit_doc(audit, ZONE))
    else:
        print(alerts_table(audit.alerts, ZONE))
        print()
        print("\n".join(audit_footer(audit)))
    return 0


def _span(center: Center, args: argparse.Namespace) -> tuple[int, int]:
    start = moment(args.date, "--date", 2)
    end = start + DAY_MS
    if not args.shift:
        return start, end
    team = center.teams.get(args.team or "")
    if team is None:
        raise CLIError("--shift needs --team (one of " + ", ".join(center.teams) + ")", 2)
    for window in Shifts(team.shifts, ZONE).between(start, end - 1):
        if window.name == args.shift and start <= window.start < end:
            return window.start, window.end
    raise CLIError(f"team {args.team!r} has no shift {args.shift!r} on {args.date}", 2)


def _history(path: Database, start: int, end: int) -> tuple[list[AgentChange], list[CallRecord]]:
    # the stores only for the report (audit reads a queue_log and needs none)
    from hotline.stores import dialect as db
    from hotline.stores.history import History, HistoryError

    if isinstance(path, Path) and not path.exists():
        raise CLIError(f"no history at {path} (give --db, or --queue-log to read a queue_log)")
    try:
        history = History.open(path)
    except (HistoryError, OSError, *db.DatabaseError) as exc:
        raise CLIError(f"cannot open the history {path}: {exc}") from None
    try:
        return history.journal(since=start - DAY_MS, until=end), history.calls(
            since=start - DAY_MS, until=end
        )
    except db.DatabaseError as exc:
        raise CLIError(f"cannot read the history {path}: {exc}") from None
    finally:
        history.close()


def run_report(settings: Settings, args: argparse.Namespace) -> int:
    problems = 0
    center = center_file(args.config or settings.center, code=2)
    if args.team is not None and args.team not in center.teams:
        raise CLIError(f"unknown team {args.team!r} (one of {', '.join(center.teams)})", 2)
    start, end = _span(center, args)
    if args.queue_log:
        loaded = _read(args.queue_log)
        journal, calls = list(loaded.built.agent_changes), list(loaded.built.calls)
        problems = len(loaded.problems)
    else:
        journal, calls = _history(db_path(settings, args.db), start, end)
    # the same span from either source: from a day before (the state at the start, pauses
    # running into the day) to the end
    journal = [c for c in journal if start - DAY_MS <= c.t < end]
    calls = [r for r in calls if r.t_q is not None and start - DAY_MS <= r.t_q < end]
    # a day that is over is judged to its end (a pause into the night still counts); one
    # going on, up to now or its last entry, not up to a time that has not come
    now = _now_ms()
    until = end if now >= end else max(min(now, end), max((c.t for c in journal), default=start))
    alerts = replay(Watchdog(center.watchdog, center, tz=ZONE), journal, calls, until=until)
    rows = shift_report(journal, center, start=start, end=end, team=args.team, alerts=alerts)
    if args.format == "json":
        doc = {"start": start, "end": end, "team": args.team, "shift": args.shift,
               "agents": [report_doc(r) for r in rows]}  # fmt: skip
        print_json(doc)
    elif args.format == "csv":
        sys.stdout.write(report_csv(rows))
    else:
        title = f"{args.date} {args.team or 'all teams'}" + (f" {args.shift}" if args.shift else "")
        print(report_table(rows, ZONE, title))
        if problems:
            print(f"({problems} queue_log lines not understood, left out)")
    return 0


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
