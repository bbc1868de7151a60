"""``hotline access list|verify``: the access log of searches, views and playbacks.

    hotline access list [--user U] [--from D --to D] [--action A] [--target T] [--format ...]
    hotline access verify

The log is hash-chained (hotline.stores.access): ``verify`` exits 1 at the first entry that
was changed. Dates are Asia/Shanghai: ``--from D --to D`` covers whole days, both included.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotline.cli.common import DB_HELP, db_path, local_time, parse_when, print_json
from hotline.core.termtable import aligned_rows
from hotline.host.settings import Settings
from hotline.stores.access import AccessLog, Logged

__all__ = ["add_parsers", "run_access"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("access", help="the access log of searches, views and playbacks")
    p.set_defaults(handler=run_access)
    ps = p.add_subparsers(dest="access_command", required=True)
    a = ps.add_parser("list", help="entries, oldest first")
    a.add_argument("--user")
    a.add_argument("--action")
    a.add_argument("--target")
    a.add_argument("--from", dest="since", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai)")
    a.add_argument("--to", dest="until", help="YYYY-MM-DD (included) or a time")
    a.add_argument("--format", choices=["table", "json"], default="table")
    a.add_argument("--db", help=DB_HELP)
    v = ps.add_parser("verify", help="check the hash chain; exit 1 at the first broken entry")
    v.add_argument("--db", help=DB_HELP)


def run_access(settings: Settings, args: argparse.Namespace) -> int:
    db = db_path(settings, args.db)
    log = AccessLog.open(db)
    try:
        if args.access_command == "verify":
            broken = log.verify()
            head = log.head()
            if broken is not None:
                print(f"hotline access: the chain is broken at entry {broken}", file=sys.stderr)
                return 1
            print(f"intact: {head[0]} entries, last hash {head[1]}" if head else "empty")
            return 0
        entries = log.entries(
            since=parse_when(args.since) if args.since else None,
            until=parse_when(args.until, end=True) if args.until else None,
            user=args.user, action=args.action, target=args.target,
        )  # fmt: skip
    finally:
        log.close()
    if args.format == "json":
        docs = [{"id": e.id, "t": e.entry.t, "user": e.entry.user, "role": e.entry.role,
                 "action": e.entry.action, "target": e.entry.target,
                 "purpose": e.entry.purpose, "detail": e.entry.detail, "hash": e.hash}
                for e in entries]  # fmt: skip
        print_json(docs)
        return 0
    for line in aligned_rows([_row(e) for e in entries], right={0}, minimum=(6,)):
        print(line)
    return 0


def _row(e: Logged) -> list[str]:
    """An entry as cells, aligned by display width (names, queries and purposes are often
    Chinese); nothing is cut: it is the audit trail."""
    x = e.entry
    return [str(e.id), local_time(x.t), f"{x.user} ({x.role})", x.action, x.target,
            f"purpose: {x.purpose}", x.detail]  # fmt: skip
