"""`hotline run` stops everything it started whatever happens to its terminal or pipe.

`make run | tee run.log` then Ctrl-C: the terminal sends SIGINT to the whole foreground
group, the reader of the pipe (tee) dies with it, and every line `hotline run` prints while
stopping meets a closed pipe (EPIPE). Asterisk and Redis must be gone all the same.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotline.host import procs
from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from hotline.stores import redis_server
from tests.conftest import free_port


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        seen = log.read_text(errors="replace") if log.exists() else ""
        if text in seen:
            return seen
        assert proc.poll() is None, f"hotline run exited early ({proc.returncode}): {seen}"
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])
def test_run_behind_a_dead_pipe_stops_asterisk_and_redis(
    other_env: dict[str, str], tmp_path: Path, signum: signal.Signals
) -> None:
    settings = Settings.from_env(other_env)
    log, err = tmp_path / "run.log", tmp_path / "run.err"
    # `hotline run | tee run.log` in a process group of their own (the terminal's foreground)
    read_end, write_end = os.pipe()
    tee = subprocess.Popen(
        ["tee", str(log)], stdin=read_end, stdout=subprocess.DEVNULL, process_group=0
    )
    os.close(read_end)
    with err.open("wb") as errors:
        run = subprocess.Popen(
            [sys.executable, "-m", "hotline", "run", "--no-sim", "--stt-engine", "vosk",
             "--web-port", str(free_port())],
            env={**os.environ, **other_env},
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=errors,
            process_group=tee.pid,
        )  # fmt: skip
    os.close(write_end)
    try:
        report = _wait_for(log, "running; Ctrl-C", run, 120)
        children = [int(pid) for pid in re.findall(r" pid (\d+)", report)]
        assert len(children) >= 3, report  # asterisk, controller, stt worker
        assert pbx.status(settings).state is pbx.PBXState.RUNNING
        assert redis_server.status(settings).running

        tee.kill()  # the pipe's reader is gone first: every later print meets EPIPE
        tee.wait()
        os.killpg(tee.pid, signum)  # then Ctrl-C (or the terminal hangs up) on the group
        run.wait(90)
        stderr = err.read_text(errors="replace")
        assert "Traceback" not in stderr, stderr
        assert run.returncode == 0, stderr
        assert pbx.status(settings).state is pbx.PBXState.STOPPED
        assert not redis_server.status(settings).running
        for pid in children:
            assert procs.wait_gone(pid, 5.0), f"pid {pid} outlived hotline run"
    finally:  # if the test failed: nothing of it outlives it
        for proc in (run, tee):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        redis_server.stop(settings)
