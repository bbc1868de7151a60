"""What the commands of the ``hotline`` CLI share: the one error type, dates and times on
the command line, the files every command reads, JSON output.

A command that cannot do what was asked raises :class:`CLIError`; ``hotline.cli.main``
reports it once, the same way for every command (``hotline: MESSAGE`` on stderr), and exits
with its code: 1 when the data, a file or a service failed, 2 when the command line or the
configuration is wrong.

Dates and times given on the command line, and shown, are the centre's (Asia/Shanghai,
:mod:`hotline.core.localtime`): ``YYYY-MM-DD`` is a whole day, ``YYYY-MM-DDTHH:MM`` a moment.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from hotline.center.config import Center, CenterError, load_center
from hotline.commands.supervise import SupervisorGrant
from hotline.core.localtime import TZ_NAME
from hotline.host.clock import wall_ms
from hotline.host.settings import ConfigError, Database, Settings, database
from hotline.metrics.timefmt import parse_local
from hotline.pbx.install import read_flow
from hotline.stores.access import AccessEntry, AccessLog
from hotline.web.accounts import Accounts
from hotline.web.roles import User

__all__ = [
    "ZONE",
    "CLIError",
    "center_file",
    "db_path",
    "failures",
    "local_day",
    "local_time",
    "local_when",
    "moment",
    "parse_when",
    "print_json",
    "read_center",
    "report",
    "since_ms",
]

ZONE = ZoneInfo(TZ_NAME)
"""The centre's zone as the zone database has it (day starts, local clock times)."""


class CLIError(Exception):
    """A command failed; the text says why, ``code`` is the exit code (1 or 2)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def failures(*kinds: type[Exception], code: int = 1) -> Iterator[None]:
    """Within: an exception of one of KINDS (a layer below's error) is the command's
    failure, a :class:`CLIError` with the same text."""
    try:
        yield
    except kinds as exc:
        raise CLIError(str(exc), code) from None


def report(error: CLIError, stream: TextIO | None = None) -> int:
    """Print ERROR the CLI's way; its exit code."""
    print(f"hotline: {error}", file=stream or sys.stderr)
    return error.code


# -- dates and times -------------------------------------------------------------------------


def parse_when(text: str, *, end: bool = False) -> int:
    """``YYYY-MM-DD`` (its start; with END, the start of the next day) or an ISO time, in the
    centre's zone unless it has an offset → epoch ms (:func:`hotline.metrics.timefmt.parse_local`);
    a CLIError naming what to write."""
    try:
        return parse_local(text, TZ_NAME, end=end)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def moment(text: str, option: str, code: int = 1) -> int:
    """The moment an OPTION (``--since``, ``--date``) gives, its error naming the option."""
    try:
        return parse_local(text, TZ_NAME)
    except ValueError:
        raise CLIError(f"{option} {text!r}: write YYYY-MM-DD or YYYY-MM-DDTHH:MM", code) from None


def since_ms(text: str | None) -> int:
    """``--since``: the moment given, or the start of today."""
    if not text:
        day = dt.datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(day.timestamp() * 1000)
    return moment(text, "--since")


def local_time(ms: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """MS in the centre's zone as FMT ("-" for none)."""
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, ZONE).strftime(fmt)


def local_when(ms: int | None) -> str:
    """A moment for a table of today's things: ``MM-DD HH:MM:SS`` ("-" for none)."""
    return local_time(ms, "%m-%d %H:%M:%S")


def local_day(ms: int) -> str:
    """The centre's day of MS: ``YYYY-MM-DD``."""
    return local_time(ms, "%Y-%m-%d")


# -- the files commands read -----------------------------------------------------------------


DB_HELP = "the history: a SQLite file or postgresql://… (default: HOTLINE_DB)"


def db_path(settings: Settings, db: str | None) -> Database:
    """The history: ``--db`` when given (a SQLite file or a PostgreSQL URL), else
    ``HOTLINE_DB``."""
    if db is None:
        return settings.db
    try:
        return database(db, "--db")
    except ConfigError as exc:
        raise CLIError(str(exc), 2) from None


def center_file(path: Path, queues: set[str] | None = None, *, code: int = 1) -> Center:
    """The centre (agents, teams, pause reasons, retention) from PATH, its agents' queues
    checked against QUEUES when given; unreadable or invalid, a CLIError with CODE."""
    try:
        return load_center(path.read_text(encoding="utf-8"), queues)
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}", code) from None
    except CenterError as exc:
        raise CLIError(f"{path} is invalid:\n{exc}", code) from None


def read_center(settings: Settings) -> Center:
    """The centre of ``HOTLINE_CENTER``, checked against the flow's queues."""
    flow, _ = read_flow(settings.flow)
    return center_file(settings.center, set(flow.queues))


# -- the access log ------------------------------------------------------------------------


def log_read(db: Database, action: str, target: str, purpose: str, detail: dict[str, Any]) -> None:
    """A command's read of calls' data (transcripts, callers, flags) in the access log, as
    every such read is: the OS user who ran it, role ``cli``, why, and what was read."""
    log = AccessLog.open(db)
    try:
        log.append(
            AccessEntry(
                t=wall_ms(),
                user=getpass.getuser(),
                role="cli",
                action=action,
                target=target,
                purpose=purpose,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
            )
        )
    finally:
        log.close()


# -- output ----------------------------------------------------------------------------------


def print_json(doc: Any) -> None:
    """DOC as indented JSON, Chinese as it is."""
    print(json.dumps(doc, ensure_ascii=False, indent=2))


def account(db: Database, username: str, *, code: int = 1) -> User:
    """The web account USERNAME (CLIError naming ``hotline users list`` when there is none):
    who a command acts as (``--as``)."""
    accounts = Accounts.open(db)
    try:
        user = accounts.user(username)
    finally:
        accounts.close()
    if user is None:
        raise CLIError(f"--as {username}: no such account (hotline users list)", code)
    return user


def grant_of(user: User) -> SupervisorGrant:
    """What the accounts store says of ``user`` that decides whom they may listen to."""
    return SupervisorGrant(
        user.username,
        user.role.value,
        frozenset(user.scope.teams),
        user.scope.all,
        user.disabled,
    )
