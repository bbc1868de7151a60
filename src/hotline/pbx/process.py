"""Processes of the bundled PBX: spawn Asterisk chrooted in a private mount namespace.

``unshare --mount`` gives the Asterisk process tree its own mount namespace: /proc, /dev and
the instance directory are bind-mounted into the rootfs there and vanish with the process,
so a crash or ``kill -9`` leaves no mount behind on the host. As non-root, ``--user
--map-root-user`` adds a user namespace in which those mounts are allowed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.host import procs as procutil
from hotline.pbx.instance import ASTERISK_CONF, MOUNT_POINT, PBX_USER

# Runs inside the new mount namespace; $1 = rootfs, $2 = instance directory, then
# Asterisk's own options. umask 027: recordings, logs and the astdb are not for others.
_CHROOT_SCRIPT = f"""
set -e
mount --rbind /proc "$1/proc"
mount --rbind /dev "$1/dev"
mount --bind "$2" "$1{MOUNT_POINT}"
umask 027
root="$1"
shift 2
exec chroot "$root" /usr/sbin/asterisk -f -C {ASTERISK_CONF} "$@"
"""


@dataclass(frozen=True, slots=True)
class PidRecord:
    """Our pid file: the unshare leader's pid and its start time (guards against pid reuse)."""

    pid: int
    start_ticks: int

    def dump(self) -> str:
        return f"{self.pid} {self.start_ticks}\n"

    @classmethod
    def load(cls, text: str) -> PidRecord | None:
        parts = text.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return None
        return cls(int(parts[0]), int(parts[1]))


def is_alive(record: PidRecord) -> bool:
    return procutil.start_ticks(record.pid) == record.start_ticks


def command(rootfs: Path, instance: Path) -> list[str]:
    """The command line that runs Asterisk in the foreground (see :func:`spawn`)."""
    argv = ["unshare", "--mount", "--propagation", "private", "--fork"]
    own: list[str] = []
    if os.geteuid() != 0:
        argv[1:1] = ["--user", "--map-root-user"]
    else:
        own = ["-U", PBX_USER, "-G", PBX_USER]  # the rootfs's user (instance.pbx_owner)
    return [*argv, "--", "sh", "-c", _CHROOT_SCRIPT, "hotline-pbx", str(rootfs), str(instance),
            *own]  # fmt: skip


def spawn(rootfs: Path, instance: Path, console_log: Path) -> PidRecord:
    """Start Asterisk in the foreground of a new session; return the leader's record.

    As root, Asterisk drops to the rootfs's ``asterisk`` user once its ports are bound
    (``-U``/``-G``): nothing it runs, and nothing that gets it to run a command, is root.
    As another user it runs as that user already (mapped to root only inside its own user
    namespace, which grants nothing outside it).
    """
    pid = procutil.spawn_detached(command(rootfs, instance), console_log)
    ticks = procutil.start_ticks(pid)
    return PidRecord(pid, ticks if ticks is not None else -1)


def terminate(record: PidRecord, asterisk_pid: int | None, timeout: float) -> bool:
    """Stop the process tree: SIGTERM to Asterisk, then SIGKILL to the group if it lingers.

    Returns True if it stopped after SIGTERM (a clean shutdown), False if it had to be killed.
    """
    target = asterisk_pid if asterisk_pid is not None else record.pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(target, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(record):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(record.pid, signal.SIGKILL)
    while is_alive(record):
        time.sleep(0.05)
    return False


def asterisk_pid(instance: Path) -> int | None:
    """The pid Asterisk wrote into its run directory, if that process is still alive."""
    try:
        pid = int((instance / "run" / "asterisk.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if procutil.alive(pid) else None


def console_command(
    asterisk: int, command: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``asterisk -rx COMMAND`` inside the running PBX's namespace and root."""
    argv = ["nsenter", "--target", str(asterisk), "--mount", "--root", "--wd"]
    if os.geteuid() != 0:
        argv[3:3] = ["--user", "--preserve-credentials"]
    argv += ["--", "/usr/sbin/asterisk", "-C", ASTERISK_CONF, "-rx", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
