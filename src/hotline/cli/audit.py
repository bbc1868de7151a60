"""``hotline audit``: anchor the hash chains' heads outside the database, and verify.

    hotline audit anchor [--to FILE] [--syslog]   # append the heads (JSON lines) and print them
    hotline audit verify [--anchors FILE]         # every chain intact, every anchor still true

Each chain (agent journal, access log, disposal records) shows an edit unless its whole tail
was recomputed; an anchor written elsewhere shows that too. ``--to`` defaults to
``HOTLINE_RUN_DIR/audit-anchors.jsonl``: point it at another mount (or copy the printed
lines to where the auditors keep them) so that whoever can write the database cannot also
rewrite the anchors. Run ``anchor`` from cron, e.g. hourly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hotline.cli.common import DB_HELP, db_path
from hotline.host.clock import wall_ms
from hotline.host.settings import Database, Settings
from hotline.stores import anchors
from hotline.stores.history import History
from hotline.stores.site_chains import read_anchors, site_chains

__all__ = ["add_parsers", "run_audit"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("audit", help="anchor and verify the hash chains (tamper evidence)")
    p.set_defaults(handler=run_audit)
    ps = p.add_subparsers(dest="audit_command", required=True)
    a = ps.add_parser("anchor", help="write the chains' heads outside the database")
    a.add_argument("--to", type=Path, help="append to FILE (default: RUN_DIR/audit-anchors.jsonl)")
    a.add_argument("--syslog", action="store_true", help="also send each head to syslog")
    a.add_argument("--db", help=DB_HELP)
    v = ps.add_parser("verify", help="check every chain and every anchor")
    v.add_argument("--anchors", type=Path, help="the anchor file (default: as for anchor)")
    v.add_argument("--db", help=DB_HELP)


def default_file(settings: Settings) -> Path:
    return settings.run_dir / "audit-anchors.jsonl"


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    db = db_path(settings, args.db)
    if args.audit_command == "anchor":
        return _anchor(db, args.to or default_file(settings), args.syslog)
    return _verify(db, args.anchors or default_file(settings))


def _anchor(db: Database, to: Path, syslog: bool) -> int:
    history = History.open(db)
    try:
        heads = anchors.heads(history.connection, wall_ms())
    finally:
        history.close()
    lines = [a.line() for a in heads]
    to.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: a line goes to the end whatever else writes the file; fsync: it is on disk
    fd = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if syslog:
        import syslog as log

        log.openlog("hotline-audit", 0, log.LOG_AUTH)
        for line in lines:
            log.syslog(log.LOG_NOTICE, line)
    for line in lines:
        print(line)
    print(f"{len(lines)} chain heads appended to {to}", file=sys.stderr)
    return 0


def _verify(db: Database, path: Path) -> int:
    anchored = read_anchors(path)
    if anchored is None:
        anchored = []
        print(f"no anchors at {path}: only the chains were checked", file=sys.stderr)
    with site_chains(db) as chains:
        problems = chains.broken() + chains.unanchored(anchored)
    for problem in problems:
        print(f"TAMPERED {problem}")
    if problems:
        return 1
    print(f"intact: 3 chains, {len(anchored)} anchors hold")
    return 0
