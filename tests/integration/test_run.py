"""`hotline run` (what `make run` runs): starts everything, reports it, stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from hotline.config import Settings
from hotline.pbx import runner as pbx
from hotline.stores import redis_server


def test_run_starts_everything_and_stops_it_on_sigint(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", "run"],
        env={**os.environ, **other_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while not lines or not lines[-1].startswith("running; Ctrl-C"):
            assert time.monotonic() < deadline, lines
            line = proc.stdout.readline()
            assert line, f"hotline run exited early: {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line.strip())
        report = "\n".join(lines)
        assert f"unix://{settings.redis_dir}/redis.sock" in report
        assert "asterisk  Asterisk 22." in report
        assert f"ami       127.0.0.1:{settings.ami_port}" in report
        assert pbx.status(settings).state is pbx.PBXState.RUNNING
        assert redis_server.status(settings).running

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopping asterisk" in out
    assert "stopping redis" in out
    assert pbx.status(settings).state is pbx.PBXState.STOPPED
    assert not redis_server.status(settings).running
