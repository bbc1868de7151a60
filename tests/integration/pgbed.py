"""A private PostgreSQL server for the store tests: one per test session, a database per test.

The cluster is made with ``initdb`` in the session's tmp dir and listens only on a Unix
socket there (``listen_addresses=''``): nothing else on the machine can reach it, and it
needs no free port. It is stopped when the session ends.

PostgreSQL refuses to run as root: under root the cluster belongs to the ``postgres``
user (Debian's package makes it) and lives in a directory of its own under /tmp, made
and removed by the fixture: the postgres user cannot enter /tmp/pytest-of-root, which
every pytest session that starts (other checkouts' too) sets back to mode 0700.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "hotline"


@dataclass(frozen=True)
class PgServer:
    """A running cluster: its socket directory and a counter for fresh databases."""

    socket_dir: Path
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str) -> str:
        return f"postgresql:///{database}?host={self.socket_dir}&user={SUPERUSER}"

    def create(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        name = f"{prefix}{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.split("///", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def _as_owner() -> dict[str, object]:
    """subprocess arguments that run the server as its owner (not root)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def start(root: Path) -> PgServer:
    """initdb ROOT/data and start it on a socket in ROOT; the running server."""
    if not (BIN / "initdb").exists():
        pytest.fail(f"no {BIN / 'initdb'}: install PostgreSQL 15 (scripts/setup does)")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    owner = _as_owner()
    subprocess.run(
        [BIN / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8"],
        check=True, capture_output=True, **owner,  # type: ignore[call-overload]
    )  # fmt: skip
    options = (
        f"-c listen_addresses='' -c unix_socket_directories={root} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [BIN / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start"],
        check=True, capture_output=True, **owner,  # type: ignore[call-overload]
    )  # fmt: skip
    return PgServer(root)


def stop(server: PgServer) -> None:
    subprocess.run(
        [BIN / "pg_ctl", "-D", server.socket_dir / "data", "-m", "fast", "-w", "stop"],
        check=False, capture_output=True, **_as_owner(),  # type: ignore[call-overload]
    )  # fmt: skip


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """The session's PostgreSQL server, stopped at the end."""
    if os.geteuid() == 0:
        root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    else:
        root = tmp_path_factory.mktemp("pg")
    server = start(root)
    try:
        yield server
    finally:
        stop(server)
        if os.geteuid() == 0:
            shutil.rmtree(root, ignore_errors=True)
