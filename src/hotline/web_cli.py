"""``hotline web`` (serve the web app) and ``hotline users add|passwd|disable|enable|list``."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

from hotline.clock import wall_ms as now_ms
from hotline.config import Settings
from hotline.web.accounts import Accounts
from hotline.web.errors import AccountError
from hotline.web.roles import Role, Scope


class CLIError(Exception):
    """A users/web command cannot be carried out; the text says why (exit 1)."""


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("web", help="serve the web app (wallboard, agent page, auditor)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8345, help="port (8345)")
    p = sub.add_parser("users", help="web accounts")
    us = p.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add", help="add an account (prints a generated password unless given)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=[r.value for r in Role])
    a.add_argument("--teams", default="", help="supervisor: teams, comma-separated")
    a.add_argument("--queues", default="", help="supervisor: queues, comma-separated")
    a.add_argument("--all", action="store_true", help="supervisor: every team and queue")
    a.add_argument("--agent", default="", help="agent: the extension (config/center.yaml)")
    a.add_argument("--can-unmask", action="store_true", help="auditor: may see personal data")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    w = us.add_parser("passwd", help="set an account's password (ends its sessions)")
    w.add_argument("username")
    w.add_argument("--password-stdin", action="store_true")
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


def run_users(settings: Settings, args: argparse.Namespace) -> int:
    accounts = Accounts.open(settings.db)
    try:
        cmd = args.users_command
        if cmd == "list":
            for u in accounts.users():
                extra = {
                    Role.SUPERVISOR: u.scope.describe(),
                    Role.AGENT: u.agent,
                    Role.AUDITOR: "may unmask" if u.can_unmask else "",
                }.get(u.role, "")
                state = "disabled" if u.disabled else "active"
                print(f"{u.username:<20} {u.role.value:<11} {state:<9} {extra}")
        elif cmd == "add":
            password, generated = _password(args)
            scope = Scope(_split(args.teams), _split(args.queues), args.all)
            user = accounts.add(
                args.username,
                password,
                Role(args.role),
                now=now_ms(),
                scope=scope,
                agent=args.agent,
                can_unmask=args.can_unmask,
            )
            print(f"added {user.username} ({user.role.value})")
            if generated:
                print(f"password: {password}   (shown once; stored hashed)")
        elif cmd == "passwd":
            password, generated = _password(args)
            accounts.set_password(args.username, password, now=now_ms())
            print(f"password of {args.username} set; its sessions ended")
            if generated:
                print(f"password: {password}   (shown once; stored hashed)")
        else:
            accounts.set_disabled(args.username, cmd == "disable")
            print(f"{args.username} {cmd}d")
    except AccountError as exc:
        raise CLIError(str(exc)) from None
    finally:
        accounts.close()
    return 0


def first_admin(settings: Settings) -> tuple[str, str] | None:
    """Create the account ``admin`` with a generated password if no admin exists yet."""
    accounts = Accounts.open(settings.db)
    try:
        if any(u.role is Role.ADMIN for u in accounts.users()):
            return None
        password = secrets.token_urlsafe(12)
        accounts.add("admin", password, Role.ADMIN, now=now_ms())
        return "admin", password
    finally:
        accounts.close()


def run_web(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hotline.web.app import create_app, open_services

    app = create_app(open_services(settings))
    print(f"web: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=2,  # SSE streams never end by themselves
    )
    return 0
