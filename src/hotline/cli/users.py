"""``hotline users``: the web's accounts: add, passwd, disable, enable, scope, grant-unmask,
revoke-unmask, list.

Every change goes into the access log with the OS user who made it (hotline.web.admin); a
password set here must be changed at the next sign-in; unmasking needs a second
administrator's approval (``--approved-by``, who types their password).
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Iterable
from typing import Any

from hotline.cli.common import CLIError
from hotline.core.termtable import aligned_rows
from hotline.host.clock import wall_ms as now_ms
from hotline.host.settings import Settings
from hotline.stores.access import AccessLog
from hotline.web.accounts import Accounts
from hotline.web.admin import AccountAdmin, Actor, Approver
from hotline.web.errors import AccountError
from hotline.web.roles import Role, Scope, User

__all__ = ["add_parsers", "run_users"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("users", help="web accounts")
    p.set_defaults(handler=run_users)
    us = p.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add", help="add an account (prints a generated password unless given)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=[r.value for r in Role])
    a.add_argument("--teams", default="", help="supervisor: teams, comma-separated")
    a.add_argument("--queues", default="", help="supervisor: queues, comma-separated")
    a.add_argument("--all", action="store_true", help="supervisor: every team and queue")
    a.add_argument("--agent", default="", help="agent: the extension (center.yaml)")
    a.add_argument("--can-unmask", action="store_true", help="auditor: may see personal data")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    a.add_argument("--approved-by", default="", help="with --can-unmask: a second administrator")
    w = us.add_parser("passwd", help="reset an account's password (ends its sessions; it must "
                      "be changed at the next sign-in)")  # fmt: skip
    w.add_argument("username")
    w.add_argument("--password-stdin", action="store_true")
    c = us.add_parser("scope", help="what a supervisor sees (an open wallboard follows)")
    c.add_argument("username")
    c.add_argument("--teams", default="")
    c.add_argument("--queues", default="")
    c.add_argument("--all", action="store_true")
    g = us.add_parser("grant-unmask", help="let an auditor see personal data (two people)")
    g.add_argument("username")
    g.add_argument("--approved-by", required=True, help="a second administrator")
    g.add_argument("--password-stdin", action="store_true", help="their password on stdin")
    r = us.add_parser("revoke-unmask", help="take unmasking away from an auditor")
    r.add_argument("username")
    for name in ("disable", "enable"):
        d = us.add_parser(
            name,
            help=f"{name} an account ({'ends its sessions' if name == 'disable' else 'again'})",
        )
        d.add_argument("username")
    us.add_parser("list", help="every account, its role and scope")


def _split(raw: str) -> frozenset[str]:
    return frozenset(x.strip() for x in raw.split(",") if x.strip())


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set, and whether it was generated (then it is printed once)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise CLIError("the two passwords differ")
        return first, False
    return secrets.token_urlsafe(12), True


def _approver(args: argparse.Namespace, stdin_lines: list[str]) -> Approver | None:
    name = getattr(args, "approved_by", "")
    if not name:
        return None
    if stdin_lines:
        return Approver(name, stdin_lines.pop(0))
    return Approver(name, getpass.getpass(f"password of {name} (approving): "))


def _user_lines(users: Iterable[User]) -> list[str]:
    """``users list``: name, role, state, what the role sees, aligned by display width
    (at least the widths the listing always had)."""
    return aligned_rows([_user_row(u) for u in users], gap=" ", minimum=(20, 11, 9))


def _user_row(u: User) -> list[str]:
    extra = {
        Role.SUPERVISOR: u.scope.describe(),
        Role.AGENT: u.agent,
        Role.AUDITOR: "may unmask" if u.can_unmask else "",
    }.get(u.role, "")
    return [u.username, u.role.value, "disabled" if u.disabled else "active", extra]


def run_users(settings: Settings, args: argparse.Namespace) -> int:
    accounts = Accounts.open(settings.db)
    log = AccessLog.open(settings.db)
    admin = AccountAdmin(accounts, log, now_ms)
    by = Actor(getpass.getuser(), "cli")
    try:
        cmd = args.users_command
        if cmd == "list":
            for line in _user_lines(accounts.users()):
                print(line)
        elif cmd == "add":
            password, generated = _password(args)
            rest = [sys.stdin.readline().rstrip("\n")] if args.password_stdin else []
            scope = Scope(_split(args.teams), _split(args.queues), args.all)
            user = admin.add(
                args.username,
                password,
                Role(args.role),
                by=by,
                scope=scope,
                agent=args.agent,
                can_unmask=args.can_unmask,
                approver=_approver(args, [x for x in rest if x]),
            )
            print(f"added {user.username} ({user.role.value})")
            if generated:
                print(f"password: {password}   (shown once; stored hashed)")
        elif cmd == "passwd":
            password, generated = _password(args)
            admin.reset_password(args.username, password, by=by)
            print(f"password of {args.username} set; its sessions ended; it must be changed "
                  "at the next sign-in")  # fmt: skip
            if generated:
                print(f"password: {password}   (shown once; stored hashed)")
        elif cmd == "scope":
            admin.set_scope(
                args.username, Scope(_split(args.teams), _split(args.queues), args.all), by=by
            )
            print(f"{args.username} now sees: {accounts.user(args.username).scope.describe()}")  # type: ignore[union-attr]
        elif cmd in ("grant-unmask", "revoke-unmask"):
            grant = cmd == "grant-unmask"
            lines = (
                [sys.stdin.readline().rstrip("\n")]
                if getattr(args, "password_stdin", False)
                else []
            )
            approver = _approver(args, lines) if grant else None
            admin.set_can_unmask(args.username, grant, by=by, approver=approver)
            print(f"{args.username} {'may' if grant else 'may no longer'} unmask personal data")
        else:
            admin.set_disabled(args.username, cmd == "disable", by=by)
            print(f"{args.username} {cmd}d")
    except AccountError as exc:
        raise CLIError(str(exc)) from None
    finally:
        accounts.close()
        log.close()
    return 0
