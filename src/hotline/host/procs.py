"""Facts about local processes that survive pid reuse and zombies (Linux /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time), or None if PID is gone or a zombie.

    A zombie child of ours is reaped on the way, so "alive" means really running.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces; it is enclosed in parentheses
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return None
    return int(fields[19])


def alive(pid: int) -> bool:
    return start_ticks(pid) is not None


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until PID is gone; False on timeout."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait, then SIGKILL; True if it went on SIGTERM alone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_gone(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    wait_gone(pid, 5.0)
    return False


def spawn_detached(argv: list[str], output: Path | None = None) -> int:
    """Start a long-lived process in its own session; return its pid.

    stdin is /dev/null; stdout and stderr go to ``output`` (appended) or /dev/null. No
    Popen object is kept: the process outlives the command that started it, and a zombie
    left behind is reaped by :func:`start_ticks`.
    """
    out = os.open(output if output else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.posix_spawnp(
            argv[0],
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out, 1),
                (os.POSIX_SPAWN_DUP2, out, 2),
                (os.POSIX_SPAWN_CLOSE, out),
            ],
            setsid=True,
        )
    finally:
        os.close(out)
