"""What the systemd units run: Redis and Asterisk in the foreground of the command, as a
service manager's main process, stopped by SIGTERM to it (systemd's default stop)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from hotline.stores import redis_server


def _foreground(env: dict[str, str], out: Path, *args: str) -> subprocess.Popen[bytes]:
    with out.open("wb") as f:  # what the journal would get
        return subprocess.Popen(
            [sys.executable, "-m", "hotline", *args, "--foreground"],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=subprocess.STDOUT,
        )


def _until(check: object, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert proc.poll() is None, proc.args
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_redis_and_asterisk_run_in_the_foreground_and_stop_on_sigterm(
    other_env: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings.from_env(other_env)
    redis = _foreground(other_env, tmp_path / "redis.out", "redis", "start")
    asterisk = _foreground(other_env, tmp_path / "pbx.out", "pbx", "start")
    try:
        _until(lambda: redis_server.status(settings).running, redis, 30)
        assert redis_server.status(settings).pid == redis.pid  # exec'd: the same process
        _until(lambda: pbx.status(settings).state is pbx.PBXState.RUNNING, asterisk, 90)
        shown = subprocess.run(
            [sys.executable, "-m", "hotline", "pbx", "status"],
            env={**os.environ, **other_env}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stdout  # the pid file names the foreground one
        # a second start is refused while the first runs
        again = _foreground(other_env, tmp_path / "again.out", "pbx", "start")
        assert again.wait(30) == 1
        assert "already running" in (tmp_path / "again.out").read_text()

        asterisk.send_signal(signal.SIGTERM)
        redis.send_signal(signal.SIGTERM)
        asterisk.wait(30)
        redis.wait(30)
        assert pbx.status(settings).state is pbx.PBXState.STOPPED
        assert not redis_server.status(settings).running
        # their logs are on stdout (the journal)
        assert "Redis is now ready to exit" in (tmp_path / "redis.out").read_text()
        assert "Asterisk Ready" in (tmp_path / "pbx.out").read_text(errors="replace")
    finally:
        for proc in (asterisk, redis):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
