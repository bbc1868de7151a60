"""``hotline metrics import-queue-log``: call records from Asterisk queue_log files alone.

    hotline metrics import-queue-log FILE [FILE ...] [--db PATH]

Idempotent (a call is stored whole under its Uniqueid); garbage lines are counted and
reported, never fatal; the controller's finished records win (:mod:`hotline.metrics.merge`).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from hotline.cli.common import CLIError, db_path
from hotline.core.records import AgentChange, CallRecord
from hotline.host.settings import Settings
from hotline.metrics.merge import merge
from hotline.queuelog import ParseProblem, ProblemKind, QueueLogEntry, iter_build, parse_lines
from hotline.stores.history import History

__all__ = ["REFUSAL_NOTE", "run_import"]

_BATCH = 500
REFUSAL_NOTE = (
    "note: queue_log has no line for a caller refused at the door (JOINEMPTY: no agent "
    "logged in; FULL): stock Asterisk writes nothing before ENTERQUEUE. Imported calls miss "
    "those refusals, so R and L are undercounted for them (a refusal that ended in a callback "
    "looks like a callback chosen at the offer); the controller's AMI records have them."
)


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


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    files: list[Path] = args.files
    for path in files:
        if not path.is_file():
            raise CLIError(f"{path}: no such file")
    reading = _Reading(files)
    history = History.open(db_path(settings, args.db))
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
    print(f"history: {db_path(settings, args.db)}: {total} calls")
    print(REFUSAL_NOTE)
    return 0
