"""Web accounts and sessions (component ``web``, beside the history, SQLite or PostgreSQL).

    accounts = Accounts.open(settings.db)
    accounts.add("banzhang01", "a long password", Role.SUPERVISOR, scope=Scope(teams={"team-a"}))
    user = accounts.verify("banzhang01", password)          # None if wrong or disabled
    token, session = accounts.start_session(user, now=now_ms)   # the cookie carries token
    accounts.session(token, now=now_ms)                     # None once expired or revoked

Passwords are hashed with argon2id (argon2-cffi's defaults); a session is stored by the
SHA-256 of its random token, so the database alone cannot be replayed as cookies.
Disabling an account or changing its password ends its sessions.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.stores import dialect, schema
from hotline.web.errors import AccountError
from hotline.web.roles import Role, Scope, User

COMPONENT = "web"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE web_users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '{}',
        agent TEXT NOT NULL DEFAULT '',
        can_unmask INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        t_created BIGINT NOT NULL,
        t_password BIGINT NOT NULL
    );
    CREATE TABLE web_sessions (
        token_sha256 TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES web_users (username) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        t_start BIGINT NOT NULL,
        t_seen BIGINT NOT NULL,
        purpose TEXT NOT NULL DEFAULT '',
        lang TEXT NOT NULL DEFAULT 'zh'
    );
    CREATE INDEX web_sessions_user ON web_sessions (username);
    """,
    # 2: a password someone else set must be changed at the next sign-in
    """
    ALTER TABLE web_users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
    """,
)

MIN_PASSWORD = 10
IDLE_MS = 12 * 3600_000  # a wallboard stays open a whole shift; idle longer: sign in again
ABSOLUTE_MS = 24 * 3600_000
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_HASHER = PasswordHasher()
# verified when the user does not exist, so a wrong name costs as much time as a wrong password
_DUMMY = _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    t_start: int
    t_seen: int
    purpose: str = ""  # the case (工单) the auditor works on now
    lang: str = "zh"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_username(name: str) -> str:
    if not 2 <= len(name) <= 32 or not set(name) <= USERNAME_CHARS:
        raise AccountError(f"user name {name!r}: 2-32 characters of a-z, 0-9, '.', '_' and '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    return password


_USER_COLUMNS = "username, role, scope, agent, can_unmask, disabled, must_change"


def _user(row: tuple[object, ...]) -> User:
    return User(
        username=str(row[0]),
        role=Role(str(row[1])),
        scope=Scope.from_json(json.loads(str(row[2]))),
        agent=str(row[3]),
        can_unmask=bool(row[4]),
        disabled=bool(row[5]),
        must_change=bool(row[6]),
    )


@dataclass
class Accounts(schema.Store):
    COMPONENT = COMPONENT
    MIGRATIONS = MIGRATIONS
    PG_MIGRATIONS = MIGRATIONS  # plain SQL both take
    hasher: PasswordHasher = _HASHER

    @classmethod
    def open(cls, path: Path | str, hasher: PasswordHasher | None = None) -> Accounts:
        """``hasher``: argon2-cffi's defaults unless given (tests give a cheaper one)."""
        accounts = super().open(path)
        accounts.hasher = hasher or _HASHER
        return accounts

    # -- users ----------------------------------------------------------------------------

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        now: int,
        scope: Scope | None = None,
        agent: str = "",
        can_unmask: bool = False,
    ) -> User:
        check_username(username)
        check_password(password)
        if role is Role.AGENT and not agent:
            raise AccountError("an agent account names its extension (--agent 1001)")
        if can_unmask and role is not Role.AUDITOR:
            raise AccountError("only an auditor may be allowed to unmask personal data")
        digest = self.hasher.hash(password)
        try:
            with self.tx() as conn:
                conn.execute(
                    "INSERT INTO web_users (username, role, password_hash, scope, agent, "
                    "can_unmask, t_created, t_password) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        username,
                        role.value,
                        digest,
                        json.dumps((scope or Scope()).to_json()),
                        agent,
                        int(can_unmask),
                        now,
                        now,
                    ),
                )
        except dialect.IntegrityError:
            raise AccountError(f"user {username!r} exists already") from None
        return User(username, role, scope or Scope(), agent, can_unmask)

    def user(self, username: str) -> User | None:
        with self._lock:
            row = self.connection.execute(
                f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?", (username,)
            ).fetchone()
        return _user(row) if row else None

    def users(self) -> list[User]:
        with self._lock:
            rows = self.connection.execute(
                f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username"
            ).fetchall()
        return [_user(r) for r in rows]

    def set_password(
        self, username: str, password: str, *, now: int, must_change: bool = True
    ) -> None:
        """Set a password and end the account's sessions; one set by someone else
        (``must_change``, the default) must be changed at the next sign-in."""
        check_password(password)
        digest = self.hasher.hash(password)
        with self.tx() as conn:
            n = conn.execute(
                "UPDATE web_users SET password_hash = ?, t_password = ?, must_change = ? "
                "WHERE username = ?",
                (digest, now, int(must_change), username),
            ).rowcount
            conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
        if not n:
            raise AccountError(f"no user {username!r}")

    def set_disabled(self, username: str, disabled: bool = True) -> None:
        with self.tx() as conn:
            n = conn.execute(
                "UPDATE web_users SET disabled = ? WHERE username = ?", (int(disabled), username)
            ).rowcount
            conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
        if not n:
            raise AccountError(f"no user {username!r}")

    def set_can_unmask(self, username: str, allowed: bool) -> None:
        user = self.user(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        if allowed and user.role is not Role.AUDITOR:
            raise AccountError("only an auditor may be allowed to unmask personal data")
        with self.tx() as conn:
            conn.execute(
                "UPDATE web_users SET can_unmask = ? WHERE username = ?", (int(allowed), username)
            )

    def set_scope(self, username: str, scope: Scope) -> None:
        """What a supervisor sees from now on (an open wallboard follows within seconds)."""
        with self.tx() as conn:
            n = conn.execute(
                "UPDATE web_users SET scope = ? WHERE username = ?",
                (json.dumps(scope.to_json()), username),
            ).rowcount
        if not n:
            raise AccountError(f"no user {username!r}")

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled; else None."""
        with self._lock:
            row = self.connection.execute(
                f"SELECT {_USER_COLUMNS}, password_hash FROM web_users WHERE username = ?",
                (username,),
            ).fetchone()
        digest = str(row[-1]) if row else _DUMMY  # password_hash: after the user columns
        try:
            self.hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        user = _user(row)
        if user.disabled:
            return None
        if self.hasher.check_needs_rehash(digest):
            with self.tx() as conn:
                conn.execute(
                    "UPDATE web_users SET password_hash = ? WHERE username = ?",
                    (self.hasher.hash(password), username),
                )
        return user

    # -- sessions -------------------------------------------------------------------------

    def start_session(self, user: User, *, now: int, lang: str = "zh") -> tuple[str, Session]:
        """A new session: its token (for the cookie, never stored) and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), now, now, "", lang)
        with self.tx() as conn:
            conn.execute(
                "DELETE FROM web_sessions WHERE t_seen < ? OR t_start < ?",
                (now - IDLE_MS, now - ABSOLUTE_MS),
            )
            conn.execute(
                "INSERT INTO web_sessions (token_sha256, username, csrf, t_start, t_seen, "
                "purpose, lang) VALUES (?,?,?,?,?,?,?)",
                (_digest(token), user.username, session.csrf, now, now, "", lang),
            )
        return token, session

    def session(self, token: str, *, now: int) -> Session | None:
        """The live session of ``token`` (its last-seen time moved to ``now``), or None."""
        key = _digest(token)
        with self._lock:
            row = self.connection.execute(
                f"SELECT s.csrf, s.t_start, s.t_seen, s.purpose, s.lang, "
                f"{', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} "
                "FROM web_sessions s JOIN web_users u USING (username) WHERE s.token_sha256 = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        csrf, t_start, t_seen, purpose, lang = row[:5]
        user = _user(row[5:])
        if user.disabled or now - t_seen > IDLE_MS or now - t_start > ABSOLUTE_MS:
            self.end_session(token)
            return None
        if now - t_seen > 60_000:  # one write a minute is enough to keep it alive
            with self.tx() as conn:
                conn.execute(
                    "UPDATE web_sessions SET t_seen = ? WHERE token_sha256 = ?", (now, key)
                )
        return Session(user, csrf, t_start, now, purpose, lang)

    def end_session(self, token: str) -> None:
        with self.tx() as conn:
            conn.execute("DELETE FROM web_sessions WHERE token_sha256 = ?", (_digest(token),))

    def update_session(self, token: str, session: Session, **changes: str) -> Session:
        """Set ``purpose`` and/or ``lang`` of the session."""
        updated = replace(session, **changes)  # type: ignore[arg-type]
        with self.tx() as conn:
            conn.execute(
                "UPDATE web_sessions SET purpose = ?, lang = ? WHERE token_sha256 = ?",
                (updated.purpose, updated.lang, _digest(token)),
            )
        return updated
