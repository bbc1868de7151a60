"""The test bed: a real Asterisk (the bundled rootfs) and a real Redis, once per session.

Both get their own run directory and free ports, so a test run never touches a PBX or
Redis that `make run` started. A service that cannot start fails the tests that need it:
nothing here ever turns into a skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from hotline.host.settings import Settings

# Property tests check what is true, not how fast: Hypothesis's 200 ms per example failed
# them on a loaded 2-core machine (a flake, not a finding). Speed is for bench/.
hypothesis_settings.register_profile("hotline", deadline=None)
hypothesis_settings.load_profile("hotline")


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (a CI timeout, ``kill``) ends like Ctrl-C: pytest then
    tears the session's fixtures down, so the PBX, Redis and PostgreSQL it started stop
    too. Python's default for SIGTERM ends the process at once and left them running."""
    signal.signal(signal.SIGTERM, _interrupted)


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    """Each test leaves the process's umask as it found it: ``hotline.cli.main.main`` sets
    the service's 027 when a test runs a command in-process, and files a later test writes
    for the PBX (which runs as its own user) would then be unreadable to Asterisk (seen: the
    supervision tests' tone files, silent after the store tests had run ``db migrate``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)


def hotline(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``hotline ARGS`` as a user runs it, in the test bed's ENV; the outcome, not raised."""
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bed_env(run_dir: Path) -> dict[str, str]:
    """HOTLINE_* variables for a private PBX and Redis under RUN_DIR, on free ports."""
    rtp = 20000 + (os.getpid() % 100) * 400 + (hash(str(run_dir)) % 2) * 200
    env = {
        "HOTLINE_RUN_DIR": str(run_dir),
        "HOTLINE_AMI_PORT": str(free_port()),
        "HOTLINE_SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_RTP_PORTS": f"{rtp}-{rtp + 199}",
        "HOTLINE_AMI_SECRET": "test-" + os.urandom(8).hex(),
    }
    if "HOTLINE_ROOTFS" in os.environ:
        env["HOTLINE_ROOTFS"] = os.environ["HOTLINE_ROOTFS"]
    return env


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the test bed's private PBX and Redis (for CLI subprocesses)."""
    return bed_env(tmp_path_factory.mktemp("hotline-run"))


@pytest.fixture(scope="session")
def settings(env: dict[str, str]) -> Settings:
    """Settings of the test bed's private PBX and Redis."""
    return Settings.from_env(env)
