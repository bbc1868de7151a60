"""``hotline db migrate --from A --to B``: move a site's history between databases.

Typically from the embedded SQLite file to PostgreSQL when a centre outgrows one box::

    hotline db migrate --from /var/lib/hotline/hotline.sqlite3 \\
                       --to postgresql://hotline@db1/hotline

Every row is copied into an empty target, then the copy is checked: row counts per table,
every hash chain verified on the copy, and the source's chain heads found in it. The
source is only read. Stop the controller, the web and the STT workers first.
"""

from __future__ import annotations

import argparse
from typing import Any

from hotline.cli.common import CLIError, failures
from hotline.host.settings import ConfigError, Settings, database
from hotline.stores import dialect as db
from hotline.stores.move import CopyError, copy_database
from hotline.stores.schema import SchemaError
from hotline.web.accounts import Accounts

__all__ = ["add_parsers", "run_db"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("db", help="the history's database: move a site to PostgreSQL")
    p.set_defaults(handler=run_db)
    ps = p.add_subparsers(dest="db_command", required=True)
    m = ps.add_parser("migrate", help="copy every row into an empty database, then check it")
    m.add_argument("--from", dest="source", help="SQLite file or URL (default: HOTLINE_DB)")
    m.add_argument("--to", dest="target", required=True, help="postgresql://… or a SQLite file")


def run_db(settings: Settings, args: argparse.Namespace) -> int:
    try:
        source = settings.db if args.source is None else database(args.source, "--from")
        target = database(args.target, "--to")
    except ConfigError as exc:
        raise CLIError(str(exc), 2) from None
    if source == target:
        raise CLIError("--from and --to are the same database", 2)
    with failures(CopyError, SchemaError, *db.DatabaseError):
        report = copy_database(source, target, extra=(Accounts,))
    for table, rows in sorted(report.rows.items()):
        print(f"{rows:>10}  {table}")
    print(f"{sum(report.rows.values())} rows copied; {len(report.heads)} chain heads equal")
    return 0
