"""A test run that is stopped stops what it started (a CI timeout sends SIGTERM).

A pytest run in a subprocess starts the session's PostgreSQL server (the real fixture of
tests/integration/pgbed.py) and waits; it is sent SIGTERM. Before tests/conftest.py turned
SIGTERM into an interrupt, pytest died at once and the server ran on (seen: a cluster under
/tmp/hotline-pg-* an hour after its run was killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WAITING = """
import time
from pathlib import Path
from tests.integration.pgbed import pg_server  # noqa: F401 (the fixture)

def test_wait(pg_server):
    Path(__file__).with_name("socket").write_text(str(pg_server.socket_dir))
    time.sleep(120)
"""


def postgres_of(socket_dir: str) -> list[str]:
    out = subprocess.run(["pgrep", "-f", f"unix_socket_directories={socket_dir}"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    return out.stdout.split()


def test_a_run_stopped_by_sigterm_stops_its_postgresql(tmp_path: Path) -> None:
    (tmp_path / "test_wait.py").write_text(WAITING)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         str(tmp_path / "test_wait.py")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    written = tmp_path / "socket"
    deadline = time.monotonic() + 60
    while not written.exists():
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline, "the waiting test never started its server"
        time.sleep(0.2)
    socket_dir = written.read_text()
    assert postgres_of(socket_dir), "no server to stop"
    run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=60)[0]
    assert run.returncode != 0, output  # interrupted, not passed
    assert postgres_of(socket_dir) == [], output
    assert not Path(socket_dir).exists(), output
