"""``hotline retention``: what is due for disposal, dispose of it, legal holds.

    hotline retention plan [--now 2027-06-01] [--format table|json]   # a dry run
    hotline retention run [--now ...] [--by NAME]
    hotline retention hold CALL_ID --reason "信访 2026-88" --by 纪检组-李
    hotline retention release CALL_ID --reason 结案 --by 纪检组-李
    hotline retention holds
    hotline retention disposals [CALL_ID] [--format table|json]
    hotline retention verify

Days per category come from center.yaml (``retention:``). Disposal deletes a call's
recorded legs and transcripts (the call record stays) and records each file's SHA-256;
a call on hold is never disposed. ``--now`` (Asia/Shanghai) asks "what if it were then".
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from hotline.cli.common import (
    DB_HELP,
    db_path,
    failures,
    local_day,
    parse_when,
    print_json,
    read_center,
)
from hotline.core.localtime import DAY_MS
from hotline.core.termtable import aligned_rows
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.recordings.disposal import DisposedFile
from hotline.recordings.retention import Due, plan
from hotline.stores.retention import Disposal, Hold, RetentionError, RetentionStore

__all__ = ["add_parsers", "run_retention"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("retention", help="dispose of old recordings and transcripts; legal holds")
    p.set_defaults(handler=run_retention)
    ps = p.add_subparsers(dest="retention_command", required=True)
    for name, text in (("plan", "what a run would dispose of (changes nothing)"),
                       ("run", "dispose of what is past retention")):  # fmt: skip
        c = ps.add_parser(name, help=text)
        c.add_argument("--now", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai); default: now")
        if name == "plan":
            c.add_argument("--format", choices=["table", "json"], default="table")
        else:
            c.add_argument("--by", help="who disposes (recorded; default: the OS user)")
        _db(c)
    for name, text in (("hold", "put a call on legal hold"), ("release", "end a legal hold")):
        c = ps.add_parser(name, help=text)
        c.add_argument("call_id")
        c.add_argument("--reason", required=True, help="why (the case, the order)")
        c.add_argument("--by", required=True, help="who decides")
        _db(c)
    _db(ps.add_parser("holds", help="calls on hold now"))
    c = ps.add_parser("disposals", help="disposal records, oldest first")
    c.add_argument("call_id", nargs="?")
    c.add_argument("--format", choices=["table", "json"], default="table")
    _db(c)
    _db(ps.add_parser("verify", help="check the disposal records' hash chain"))


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=DB_HELP)


def run_retention(settings: Settings, args: argparse.Namespace) -> int:
    with failures(RetentionError):
        store = RetentionStore.open(db_path(settings, args.db))
        try:
            return _COMMANDS[args.retention_command](settings, store, args)
        finally:
            store.close()


def _due(
    settings: Settings, store: RetentionStore, args: argparse.Namespace
) -> tuple[int, list[Due], list[Due], dict[str, Hold]]:
    """(now, due, due but held, the holds)."""
    now = parse_when(args.now) if args.now else wall_ms()
    policy = read_center(settings).retention
    shortest = min([policy.default_days, *policy.categories.values()])
    holds = store.held()
    due, held = plan(policy, store.kept(before=now - shortest * DAY_MS + 1), holds, now)
    return now, due, held, holds


def _plan(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    now, due, held, holds = _due(settings, store, args)
    if args.format == "json":
        doc = {
            "now": now,
            "due": [_due_doc(d) for d in due],
            "held": [{**_due_doc(d), "hold": vars_of(holds[d.call_id])} for d in held],
        }
        print_json(doc)
        return 0
    files = sum(len(d.kept.files) for d in due)
    texts = sum(d.kept.transcripts for d in due)
    print(f"as of {local_day(now)}: {len(due)} calls due ({files} files, {texts} transcripts), "
          f"{len(held)} kept on legal hold")  # fmt: skip
    due_rows = aligned_rows([_due_row(d) for d in due], right={2, 5, 6})
    held_rows = aligned_rows([_held_row(holds[d.call_id], "held since") for d in held])
    for line in [*due_rows, *held_rows]:
        print(f"  {line}")
    return 0


def _due_row(d: Due) -> list[str]:
    return [d.call_id, d.kept.category or "-", f"{d.days} days", f"from {local_day(d.kept.t_ref)}",
            f"expired {local_day(d.expires)}", f"{len(d.kept.files)} files",
            f"{d.kept.transcripts} transcripts"]  # fmt: skip


def _held_row(h: Hold, since: str) -> list[str]:
    """A hold as cells: the call, since when, by whom (often a Chinese name), why."""
    return [h.call_id, f"{since} {local_day(h.t)}", f"by {h.by}:", h.reason]


def vars_of(hold: Any) -> dict[str, Any]:
    return {"t": hold.t, "by": hold.by, "reason": hold.reason}


def _due_doc(d: Due) -> dict[str, Any]:
    return {"call_id": d.call_id, "category": d.kept.category, "days": d.days,
            "t_ref": d.kept.t_ref, "expires": d.expires, "files": list(d.kept.files),
            "transcripts": d.kept.transcripts}  # fmt: skip


def _run(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    _, due, held, _ = _due(settings, store, args)
    by = args.by or getpass.getuser()
    done = failed = 0
    for d in due:
        record = store.dispose(d, by=by, t=wall_ms())
        if record is None:
            print(f"  {d.call_id}: kept (put on hold, or disposed meanwhile)")
            continue
        done += 1
        bad = [f for f in record.files if f.outcome.startswith("failed")]
        failed += len(bad)
        print(_line(record))
        for f in bad:
            print(f"    {f.path}: {f.outcome} (tried again next run)", file=sys.stderr)
    print(f"disposed of {done} calls; {len(held)} kept on legal hold; {failed} files failed")
    return 1 if failed else 0


def _line(r: Disposal) -> str:
    deleted = sum(f.outcome == "deleted" for f in r.files)
    missing = sum(f.outcome == "missing" for f in r.files)
    return (f"  #{r.id} {r.call_id}  {r.category or '-'} ({r.days} days)  {deleted} files "
            f"deleted, {missing} already missing, {r.transcripts} transcripts  by {r.by} "
            f"on {local_day(r.t)}")  # fmt: skip


def _hold(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    h = store.hold(args.call_id, by=args.by, reason=args.reason, t=wall_ms())
    print(f"{h.call_id} is on legal hold (by {h.by}: {h.reason})")
    return 0


def _release(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    h = store.release(args.call_id, by=args.by, reason=args.reason, t=wall_ms())
    print(f"{h.call_id}: hold of {local_day(h.t)} by {h.by} ({h.reason}) released by {args.by}")
    return 0


def _holds(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    for line in aligned_rows([_held_row(h, "since") for h in store.held().values()]):
        print(line)
    return 0


def _disposals(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    records = store.disposals(args.call_id)
    if args.format == "json":
        docs = [{"id": r.id, "call_id": r.call_id, "t": r.t, "by": r.by, "reason": r.reason,
                 "category": r.category, "days": r.days, "transcripts": r.transcripts,
                 "files": [dict(zip(("leg", "path", "size", "sha256", "catalogue_sha256",
                                     "outcome"), f.fields(), strict=True)) for f in r.files],
                 "hash": r.hash} for r in records]  # fmt: skip
        print_json(docs)
        return 0
    heads = iter(aligned_rows([_disposal_row(r) for r in records], right={0, 3, 4, 5}))
    files = iter(aligned_rows([_file_row(f) for r in records for f in r.files], right={2}))
    for r in records:
        print(f"  {next(heads)}")
        for _ in r.files:
            print(f"    {next(files)}")
    return 0


def _disposal_row(r: Disposal) -> list[str]:
    deleted = sum(f.outcome == "deleted" for f in r.files)
    missing = sum(f.outcome == "missing" for f in r.files)
    return [f"#{r.id}", r.call_id, f"{r.category or '-'} ({r.days} days)",
            f"{deleted} files deleted,", f"{missing} already missing,",
            f"{r.transcripts} transcripts", f"by {r.by}", f"on {local_day(r.t)}",
            f"({r.reason})"]  # fmt: skip


def _file_row(f: DisposedFile) -> list[str]:
    return [f.leg, f.path, f"{f.size} bytes", f"sha256 {f.sha256}", f.outcome]


def _verify(settings: Settings, store: RetentionStore, args: argparse.Namespace) -> int:
    broken = store.verify()
    if broken is not None:
        print(f"hotline retention: disposal record {broken} breaks the chain", file=sys.stderr)
        return 1
    print(f"intact: {len(store.disposals())} disposal records")
    return 0


_COMMANDS = {
    "plan": _plan,
    "run": _run,
    "hold": _hold,
    "release": _release,
    "holds": _holds,
    "disposals": _disposals,
    "verify": _verify,
}
