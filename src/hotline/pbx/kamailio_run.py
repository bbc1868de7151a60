"""Run Kamailio (Debian's ``kamailio`` 5.6) in front of the centre's PBXs.

``hotline kamailio render|start|stop|status``. Everything lives in ``RUN_DIR/kamailio``:
the rendered ``kamailio.cfg`` and ``dispatcher.list``, our pid file, the control socket
(``kamcmd``) and the log (Kamailio logs to stderr, which goes there). As root Kamailio
drops to the Debian package's ``kamailio`` user once its port is bound. Agents register
with the passwords their PBX would give them (``HOTLINE_SIP_SECRET`` and center.yaml), so
the config is readable by root and Kamailio's group only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from hotline.host import procs as procutil
from hotline.host.settings import Settings, bundled
from hotline.pbx import instance, kamailio
from hotline.pbx.errors import PBXError
from hotline.pbx.process import PidRecord
from hotline.pbx.softphones import agent_password

TEMPLATE = bundled("pbx", kamailio.CFG)
USER = "kamailio"  # the Debian package's system user
CTL = "kamailio.ctl"
LOG = "kamailio.log"
PIDFILE = "hotline-kamailio.pid"
DB = "db"  # db_text: the registrations, written at shutdown
DBTEXT = Path("/usr/share/kamailio/dbtext/kamailio")  # the package's table definitions


class KamailioState(Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    NOT_RESPONDING = "not responding"


@dataclass(frozen=True, slots=True)
class Destination:
    """A PBX as Kamailio's dispatcher sees it: ``up`` unless its probes failed."""

    uri: str
    flags: str

    @property
    def up(self) -> bool:
        # dispatcher flags: A active, I inactive, D disabled; P probing
        return self.flags.startswith("A")


@dataclass(frozen=True, slots=True)
class KamailioStatus:
    state: KamailioState
    pid: int | None = None
    pbxs: tuple[Destination, ...] = ()

    def describe(self) -> str:
        if self.state is KamailioState.STOPPED:
            return "Kamailio: stopped"
        head = f"Kamailio: {self.state.value} (pid {self.pid})"
        return "\n".join(
            [head, *(f"  {d.uri}: {'up' if d.up else 'down'} ({d.flags})" for d in self.pbxs)]
        )


def binary(name: str = "kamailio") -> str:
    found = shutil.which(name) or next(
        (f"{d}/{name}" for d in ("/usr/sbin", "/sbin") if Path(f"{d}/{name}").exists()), None
    )
    if found is None:
        raise PBXError(f"{name} is not installed: run scripts/setup (Debian package kamailio)")
    return found


def proxy(settings: Settings) -> kamailio.Proxy:
    if settings.kamailio is None:
        raise PBXError(
            "HOTLINE_KAMAILIO is not set: give Kamailio's ADDR:PORT (where agents register "
            "and citizens' calls arrive), and HOTLINE_KAMAILIO_PBXS"
        )
    address, port = settings.kamailio
    center = instance.read_center(settings)
    secret = instance.sip_secret(settings)
    exts = [a.ext for a in center.agents.values()]
    exts += [p.ext for p in center.supervision.phones.values()]
    return kamailio.Proxy(
        address,
        port,
        settings.kamailio_pbxs,
        str(settings.kamailio_dir.resolve()),
        agents=tuple((ext, agent_password(secret, ext)) for ext in exts),
        agent_nets=settings.sip_networks,
        carriers=settings.kamailio_carriers,
        flood=settings.kamailio_flood,
    )


def _owner() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        raise PBXError(f"no user {USER!r}: install Debian's kamailio (scripts/setup)") from None
    return entry.pw_uid, entry.pw_gid


def render(settings: Settings) -> Path:
    """Write kamailio.cfg and dispatcher.list into Kamailio's run directory; check the
    result with ``kamailio -c``; return the config's path."""
    files = kamailio.render_kamailio(TEMPLATE.read_text(encoding="utf-8"), proxy(settings))
    base = settings.kamailio_dir
    base.mkdir(parents=True, exist_ok=True, mode=0o750)
    owner = _owner()
    if owner is not None:
        os.chown(base, owner[0], owner[1])
        _reachable(base.resolve(), owner)
    for name, text in files.items():  # the config holds the agents' passwords
        path = base / name
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if owner is not None:
            os.chown(path, 0, owner[1])
    _registrations_db(base / DB, owner)
    cfg = base / kamailio.CFG
    checked = subprocess.run(
        [binary(), "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30, check=False
    )
    if checked.returncode != 0:
        problems = [ln for ln in checked.stderr.splitlines() if "ERROR" in ln or "CRITICAL" in ln]
        raise PBXError(f"Kamailio refuses {cfg}:\n" + "\n".join(problems[-10:]))
    return cfg


def _reachable(base: Path, owner: tuple[int, int]) -> None:
    """PBXError unless Kamailio, once it dropped to its user, can reach BASE: it reads its
    config as root, but writes the registrations there at shutdown as ``kamailio``."""
    for parent in base.parents:
        st = parent.stat()
        if st.st_mode & 0o001:
            continue
        if st.st_gid == owner[1] and st.st_mode & 0o010:
            continue
        if st.st_uid == owner[0] and st.st_mode & 0o100:
            continue
        raise PBXError(
            f"Kamailio runs as {USER!r} and cannot pass {parent} (mode {st.st_mode & 0o777:o}) "
            f"to reach {base}: it could not keep the registrations. Allow it "
            f"(chmod o+x {parent}) or choose another HOTLINE_RUN_DIR"
        )


def _registrations_db(db: Path, owner: tuple[int, int] | None) -> None:
    """The db_text database the registrations are kept in across restarts: the package's
    ``version`` and ``location`` table definitions, once; the rows Kamailio wrote at its
    last shutdown are kept."""
    db.mkdir(mode=0o750, exist_ok=True)
    if owner is not None:
        os.chown(db, owner[0], owner[1])
    try:
        versions = (DBTEXT / "version").read_text(encoding="utf-8").splitlines()
        location = (DBTEXT / "location").read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError):
        raise PBXError(f"{DBTEXT} lacks db_text's tables: reinstall Debian's kamailio") from None
    ours = [line for line in versions[1:] if line.split(":")[1:2] == ["location"]]
    tables = {"version": "\n".join([versions[0], *ours]) + "\n", "location": location + "\n"}
    for name, text in tables.items():
        path = db / name
        if name == "location" and path.exists():
            continue  # the registrations of the last run
        path.write_text(text, encoding="utf-8")
        if owner is not None:
            os.chown(path, owner[0], owner[1])


def _record(settings: Settings) -> PidRecord | None:
    try:
        record = PidRecord.load((settings.kamailio_dir / PIDFILE).read_text())
    except OSError:
        return None
    if record is None or procutil.start_ticks(record.pid) != record.start_ticks:
        return None
    return record


def rpc(settings: Settings, *command: str, timeout: float = 5.0) -> str:
    """A Kamailio RPC over its control socket (``kamcmd``), its text output."""
    sock = f"unix:{settings.kamailio_dir.resolve() / CTL}"
    done = subprocess.run(
        [binary("kamcmd"), "-s", sock, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise PBXError(f"kamcmd {' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


_DEST = re.compile(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)")


def destinations(settings: Settings) -> tuple[Destination, ...]:
    """The PBXs of dispatcher set 1 and their state, from ``dispatcher.list``."""
    return tuple(
        Destination(uri, flags)
        for uri, flags in _DEST.findall(re.sub(r"\s+", " ", rpc(settings, "dispatcher.list")))
    )


def status(settings: Settings) -> KamailioStatus:
    record = _record(settings)
    if record is None:
        return KamailioStatus(KamailioState.STOPPED)
    try:
        return KamailioStatus(KamailioState.RUNNING, record.pid, destinations(settings))
    except (PBXError, subprocess.TimeoutExpired):
        return KamailioStatus(KamailioState.NOT_RESPONDING, record.pid)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(settings: Settings, timeout: float = 20.0) -> KamailioStatus:
    """Render, start Kamailio in its own session, wait until its control socket answers."""
    if _record(settings) is not None:
        raise PBXError("Kamailio is already running; `hotline kamailio stop` first")
    cfg = render(settings)
    base = settings.kamailio_dir
    (base / CTL).unlink(missing_ok=True)
    argv = [binary(), "-f", str(cfg), "-DD", "-E", "-Y", str(base.resolve())]
    argv += ["-P", str(base.resolve() / "kamailio.pid")]
    if _owner() is not None:
        argv += ["-u", USER, "-g", USER]
    log = base / LOG
    pid = procutil.spawn_detached(argv, log)
    ticks = procutil.start_ticks(pid)
    record = PidRecord(pid, ticks if ticks is not None else -1)
    (base / PIDFILE).write_text(record.dump())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procutil.start_ticks(pid) != record.start_ticks:
            (base / PIDFILE).unlink(missing_ok=True)
            raise PBXError(f"Kamailio exited during start; its log says:\n{_tail(log)}")
        with contextlib.suppress(PBXError, subprocess.TimeoutExpired):
            return KamailioStatus(KamailioState.RUNNING, pid, destinations(settings))
        time.sleep(0.1)
    stop(settings)
    raise PBXError(f"Kamailio did not answer on its control socket within {timeout:.0f} s")


def stop(settings: Settings, timeout: float = 10.0) -> bool:
    """Stop Kamailio (SIGTERM, then SIGKILL to its process group); False if not running."""
    record = _record(settings)
    if record is None:
        return False
    clean = procutil.terminate(record.pid, timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(record.pid, signal.SIGKILL)  # children that outlived the main process
    (settings.kamailio_dir / PIDFILE).unlink(missing_ok=True)
    if not clean:
        raise PBXError(f"Kamailio did not stop within {timeout:.0f} s and was killed")
    return True
