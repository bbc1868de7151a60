"""``hotline metrics``: explain one call, report the figures, import an Asterisk queue_log.

    hotline metrics explain CALL_ID [--db PATH] [--threshold 15] [--short-abandon 0]
    hotline metrics report --from 2026-11-01 --to 2026-11-30 [--by queue|agent|15min|hour|day|month]
                           [--threshold 15] [--short-abandon 0] [--repeat-days 7]
                           [--format table|csv|json] [--db PATH]
    hotline metrics import-queue-log FILE [FILE ...] [--db PATH]

Dates are Asia/Shanghai: ``--from D --to D`` covers whole days, both included; a time
(``2026-11-24T10:00``) is exact, ``--to`` excluded. ``--db`` defaults to ``HOTLINE_DB``.
The figures are defined in :mod:`hotline.metrics` (docs/metrics.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hotline.config import Settings
from hotline.ivr.loader import FlowError, load_flow
from hotline.metrics import GroupBy, MetricsError, Params, compute, verdict, version
from hotline.metrics.merge import merge
from hotline.metrics.render import to_csv, to_json, to_table
from hotline.metrics.timefmt import zone
from hotline.queuelog import ParseProblem, ProblemKind, QueueLogEntry, iter_build, parse_lines
from hotline.records import AgentChange, CallRecord
from hotline.stores.history import History, HistoryError

__all__ = ["CLIError", "add_parsers", "run_metrics"]

_DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_BATCH = 500
REFUSAL_NOTE = (
    "note: queue_log has no line for a caller refused at the door (JOINEMPTY: no agent "
    "logged in; FULL): stock Asterisk writes nothing before ENTERQUEUE. Imported calls miss "
    "those refusals, so R and L are undercounted for them (a refusal that ended in a callback "
    "looks like a callback chosen at the offer); the controller's AMI records have them."
)


class CLIError(Exception):
    """A command failed; the text says why."""


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("metrics", help="the 15-second rate and every hotline KPI, per call")
    ps = p.add_subparsers(dest="metrics_command", required=True)

    e = ps.add_parser("explain", help="in which populations one call counts, and why")
    e.add_argument("call_id")
    _common(e)
    e.add_argument("--format", choices=["text", "json"], default="text")

    r = ps.add_parser("report", help="the figures per queue, agent or interval")
    r.add_argument("--from", dest="since", required=True, help="YYYY-MM-DD[THH:MM] (Shanghai)")
    r.add_argument("--to", dest="until", required=True, help="YYYY-MM-DD (included) or a time")
    r.add_argument("--by", choices=[g.value for g in GroupBy], default="queue")
    _common(r)
    r.add_argument("--repeat-days", type=int, default=7, help="repeat-caller window (days)")
    r.add_argument("--format", choices=["table", "csv", "json"], default="table")

    i = ps.add_parser("import-queue-log", help="call records from an Asterisk queue_log")
    i.add_argument("files", nargs="+", type=Path, metavar="FILE", help="oldest first")
    i.add_argument("--db", type=Path, help="the SQLite history (default: HOTLINE_DB)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="the SQLite history (default: HOTLINE_DB)")
    p.add_argument("--threshold", default="15", help="T in seconds (default 15, inclusive)")
    p.add_argument("--short-abandon", default="0", help="S in seconds (default 0: none)")


def run_metrics(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.metrics_command == "explain":
            return _explain(settings, args)
        if args.metrics_command == "report":
            return _report(settings, args)
        return _import(settings, args)
    except (CLIError, MetricsError, HistoryError) as exc:
        print(f"hotline metrics: {exc}", file=sys.stderr)
        return 1


def _history(settings: Settings, db: Path | None) -> History:
    return History.open(db if db is not None else settings.db)


def _labels(settings: Settings) -> dict[str, str]:
    """Queue name → the label the centre uses (from the flow); none if it cannot be read."""
    try:
        flow = load_flow(settings.flow.read_text(encoding="utf-8"), str(settings.flow))
    except (FlowError, OSError, UnicodeDecodeError):
        return {}
    return {name: spec.label for name, spec in flow.queues.items()}


def _explain(settings: Settings, args: argparse.Namespace) -> int:
    params = Params.of(threshold_s=args.threshold, short_abandon_s=args.short_abandon)
    history = _history(settings, args.db)
    try:
        record = history.call(args.call_id)
    finally:
        history.close()
    if record is None:
        raise CLIError(f"no call {args.call_id!r} in {args.db or settings.db}")
    v = verdict(record, params=params, labels=_labels(settings))
    pops = sorted((p.value for p in v.populations), key=_order)
    if args.format == "json":
        doc = {
            "call_id": v.call_id,
            "populations": pops,
            "excluded": v.excluded.value if v.excluded else None,
            "t_interval_ms": v.t_interval,
            "queue": v.queue,
            "agent": v.agent,
            "wait_ms": v.wait_ms,
            "nav_wait_ms": v.nav_wait_ms,
            "talk_ms": v.talk_ms,
            "lost_by": v.lost_by,
            "precision": v.precision.value,
            "formula_version": version(params).as_dict(),
            "en": list(v.en),
            "zh": list(v.zh),
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
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


def _order(name: str) -> int:
    order = ["R", "A", "A15", "Ab", "Ab15", "AbS", "L"]
    base = name.removeprefix("nav.")
    return order.index(base) + (10 if name.startswith("nav.") else 0) if base in order else 99


def parse_when(text: str, tz: str, *, end: bool = False) -> int:
    """``YYYY-MM-DD`` (its start; with ``end``, the start of the next day) or an ISO time,
    local to ``tz`` unless it has an offset → epoch ms."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if end:
                day += dt.timedelta(days=1)
            when = dt.datetime.combine(day, dt.time(), zone(tz))
        else:
            when = dt.datetime.fromisoformat(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=zone(tz))
    except ValueError:
        raise CLIError(f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]") from None
    return (when - _EPOCH) // dt.timedelta(milliseconds=1)


def _report(settings: Settings, args: argparse.Namespace) -> int:
    params = Params.of(
        threshold_s=args.threshold, short_abandon_s=args.short_abandon, repeat_days=args.repeat_days
    )
    since = parse_when(args.since, params.tz)
    until = parse_when(args.until, params.tz, end=True)
    if until <= since:
        raise CLIError(f"--to {args.until} is not after --from {args.since}")
    history = _history(settings, args.db)
    try:
        # the N days before: earlier calls of the same numbers (repeat callers), and calls
        # that arrived before the window but queued inside it
        records = history.calls(since=since - params.repeat_days * _DAY_MS, until=until)
    finally:
        history.close()
    report = compute(records, params, by=GroupBy(args.by), since=since, until=until)
    render = {"table": to_table, "csv": to_csv, "json": to_json}[args.format]
    sys.stdout.write(render(report))
    return 0


class _Reading:
    """Entries from files, counting lines and garbage on the way."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.lines = 0
        self.garbage: Counter[ProblemKind] = Counter()
        self.examples: list[str] = []

    def entries(self) -> Iterator[QueueLogEntry]:
        for path in self.files:
            with path.open(encoding="utf-8", errors="replace") as lines:
                for item in parse_lines(lines):
                    self.lines += 1
                    if isinstance(item, ParseProblem):
                        self.garbage[item.reason] += 1
                        if len(self.examples) < 5:
                            where = f"{path.name}:{item.lineno}"
                            self.examples.append(f"{where}: {item.reason.value}: {item.text!r}")
                    else:
                        yield item


def _import(settings: Settings, args: argparse.Namespace) -> int:
    files: list[Path] = args.files
    for path in files:
        if not path.is_file():
            raise CLIError(f"{path}: no such file")
    reading = _Reading(files)
    history = _history(settings, args.db)
    seen: set[str] = set()
    stored: set[str] = set()
    kept: set[str] = set()
    open_calls: set[str] = set()
    journal = 0

    def flush(batch: list[CallRecord]) -> None:
        out = []
        for record in batch:
            merged = merge(history.call(record.call_id), record)
            if merged is None:
                kept.add(record.call_id)
            else:
                out.append(merged)
                stored.add(record.call_id)
        history.save_calls(out)

    try:
        batch: list[CallRecord] = []
        for item in iter_build(reading.entries()):
            if isinstance(item, AgentChange):
                journal += 1
                continue
            seen.add(item.call_id)
            if item.end_reason is None:
                open_calls.add(item.call_id)
            else:
                open_calls.discard(item.call_id)
            batch.append(item)
            if len(batch) >= _BATCH:
                flush(batch)
                batch = []
        flush(batch)
        total = history.connection.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    finally:
        history.close()
    garbage = sum(reading.garbage.values())
    print(
        f"queue_log: {len(files)} file(s), {reading.lines} lines: "
        f"{reading.lines - garbage} entries, {garbage} garbage lines (skipped, not fatal)"
    )
    if garbage:
        kinds = ", ".join(f"{n} {kind.value}" for kind, n in reading.garbage.most_common())
        print(f"  garbage: {kinds}")
        for example in reading.examples:
            print(f"  e.g. {example}")
    print(
        f"calls: {len(seen)} built ({len(seen) - len(open_calls)} ended, {len(open_calls)} "
        f"open); {len(stored)} stored (replacing any earlier import of the same call), "
        f"{len(kept)} kept as the controller recorded them (AMI, to the ms)"
    )
    print(
        f"agent journal: {journal} lines read, not stored (the journal is append-only and "
        "hash-chained: a second import would add them twice)"
    )
    print(f"history: {args.db or settings.db}: {total} calls")
    print(REFUSAL_NOTE)
    return 0
