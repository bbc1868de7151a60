"""Account changes, each written to the hash-chained access log with who made it.

    admin = AccountAdmin(accounts, access_log, clock)
    admin.add("jijian01", password, Role.AUDITOR, by=Actor("admin", "admin"),
              can_unmask=True, approver=Approver("admin2", password2))
    admin.reset_password("wangfang", new, by=actor)       # must be changed at next sign-in
    admin.set_disabled("wangfang", True, by=actor)

The web's admin pages and ``hotline users`` both go through here, so no account change
escapes the log. Separation of duties: ``can_unmask`` (reading citizens' numbers in clear)
is granted only with a second administrator's approval, by their own password, recorded in
the same entry; an administrator cannot approve their own grant.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.stores.access import AccessEntry, AccessLog
from hotline.web.accounts import Accounts
from hotline.web.errors import AccountError
from hotline.web.roles import Role, Scope, User

PURPOSE = "account administration"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a web account (its role), or an OS user at the CLI ("cli")."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Approver:
    """The second person for a grant of can_unmask: an administrator and their password."""

    username: str
    password: str = ""


class AccountAdmin:
    def __init__(self, accounts: Accounts, log: AccessLog, clock: Callable[[], int]) -> None:
        self.accounts, self.log, self.clock = accounts, log, clock

    def _record(self, by: Actor, action: str, target: str, **detail: object) -> None:
        self.log.append(
            AccessEntry(
                t=self.clock(), user=by.name, role=by.role, action=f"account_{action}",
                target=target, purpose=PURPOSE,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
            )
        )  # fmt: skip

    def _approved(self, by: Actor, approver: Approver | None) -> str:
        """The approving administrator's name, once their password is checked."""
        if approver is None or not approver.username:
            raise AccountError(
                "can_unmask needs a second administrator's approval (their name and password)"
            )
        if approver.username == by.name:
            raise AccountError("the approval must come from another administrator")
        user = self.accounts.verify(approver.username, approver.password)
        if user is None or user.role is not Role.ADMIN:
            raise AccountError(f"{approver.username!r} did not approve: not an administrator, "
                               "or the password is wrong")  # fmt: skip
        return user.username

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        by: Actor,
        scope: Scope | None = None,
        agent: str = "",
        can_unmask: bool = False,
        approver: Approver | None = None,
    ) -> User:
        approved = self._approved(by, approver) if can_unmask else ""
        user = self.accounts.add(
            username, password, role, now=self.clock(), scope=scope, agent=agent,
            can_unmask=can_unmask,
        )  # fmt: skip
        self._record(
            by, "add", username, role=role.value, scope=(scope or Scope()).to_json(),
            agent=agent, can_unmask=can_unmask, approved_by=approved,
        )  # fmt: skip
        return user

    def reset_password(self, username: str, password: str, *, by: Actor) -> None:
        """Another person's password: it must be changed at the next sign-in."""
        self.accounts.set_password(username, password, now=self.clock(), must_change=True)
        self._record(by, "password_reset", username)

    def change_own_password(self, user: User, old: str, new: str) -> None:
        if self.accounts.verify(user.username, old) is None:
            raise AccountError("the current password is wrong")
        if old == new:
            raise AccountError("choose a new password, not the one you were given")
        self.accounts.set_password(user.username, new, now=self.clock(), must_change=False)
        self._record(Actor(user.username, user.role.value), "password_change", user.username)

    def set_disabled(self, username: str, disabled: bool, *, by: Actor) -> None:
        self.accounts.set_disabled(username, disabled)
        self._record(by, "disable" if disabled else "enable", username)

    def set_scope(self, username: str, scope: Scope, *, by: Actor) -> None:
        self.accounts.set_scope(username, scope)
        self._record(by, "scope", username, scope=scope.to_json())

    def set_can_unmask(
        self, username: str, allowed: bool, *, by: Actor, approver: Approver | None = None
    ) -> None:
        approved = self._approved(by, approver) if allowed else ""
        self.accounts.set_can_unmask(username, allowed)
        self._record(by, "can_unmask", username, allowed=allowed, approved_by=approved)


def first_admin(db: Path | str, clock: Callable[[], int]) -> tuple[str, str] | None:
    """Create the account ``admin`` with a generated password in the history DB if no
    administrator exists yet (what ``hotline run`` does on a new install); (name, password)
    to show once, or None."""
    accounts = Accounts.open(db)
    try:
        if any(u.role is Role.ADMIN for u in accounts.users()):
            return None
        password = secrets.token_urlsafe(12)
        log = AccessLog.open(db)
        try:
            admin = AccountAdmin(accounts, log, clock)
            admin.add("admin", password, Role.ADMIN, by=Actor("hotline setup", "cli"))
        finally:
            log.close()
        return "admin", password
    finally:
        accounts.close()
