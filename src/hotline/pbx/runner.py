"""Start, stop and inspect the bundled Asterisk; the CLI's ``hotline pbx`` calls these.

Every function takes the :class:`~hotline.host.settings.Settings` and either returns a value or
raises :class:`PBXError` whose text says what failed and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.errors import AMIError
from hotline.ami.message import Message
from hotline.host import procs as procutil
from hotline.host.settings import Settings, bundled
from hotline.pbx import instance, process
from hotline.pbx.errors import PBXError
from hotline.pbx.softphones import qualify_commands


class PBXState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"  # the process runs, AMI does not answer (yet)
    RUNNING = "running"  # AMI answered and Asterisk is fully booted


@dataclass(frozen=True, slots=True)
class PBXStatus:
    state: PBXState
    pid: int | None = None
    version: str = ""
    uptime: str = ""
    detail: str = ""

    def describe(self, settings: Settings) -> str:
        where = f"AMI {settings.ami_host}:{settings.ami_port}"
        if self.state is PBXState.RUNNING:
            return f"running: pid {self.pid}, {self.version}, up {self.uptime}, {where}"
        if self.state is PBXState.STARTING:
            return f"starting or not responding: pid {self.pid}, {where}: {self.detail}"
        return f"stopped{': ' + self.detail if self.detail else ''}"


def _pidfile(settings: Settings) -> Path:
    return settings.pbx_dir / "hotline-pbx.pid"


def _console_log(settings: Settings) -> Path:
    return settings.pbx_dir / "log" / "console.log"


def _running_record(settings: Settings) -> process.PidRecord | None:
    path = _pidfile(settings)
    try:
        record = process.PidRecord.load(path.read_text())
    except OSError:
        return None
    if record is None or not process.is_alive(record):
        path.unlink(missing_ok=True)  # stale: the process is gone
        return None
    return record


def endpoint(settings: Settings) -> Endpoint:
    settings = instance.resolve_secret(settings)
    assert settings.ami_secret is not None
    return Endpoint(settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret)


@contextlib.asynccontextmanager
async def session(
    settings: Settings, options: ClientOptions | None = None
) -> AsyncIterator[AMIClient]:
    """A logged-in AMI session with the PBX (one connect, no reconnecting), closed after."""
    client = AMIClient(endpoint(settings), options)
    await client.connect()  # returns once Asterisk is FullyBooted
    try:
        yield client
    finally:
        with contextlib.suppress(AMIError):
            await client.close()


async def _query(settings: Settings, timeout: float) -> tuple[str, str]:
    """Log in, wait for FullyBooted, return (version, uptime)."""
    options = ClientOptions(connect_timeout=timeout, boot_timeout=timeout)
    async with session(settings, options) as client:
        core = await client.action("CoreSettings", timeout=timeout)
        status = await client.action("CoreStatus", timeout=timeout)
    assert isinstance(core, Message)
    assert isinstance(status, Message)
    return (
        f"Asterisk {core.get('AsteriskVersion') or '?'}",
        f"since {status.get('CoreStartupDate')} {status.get('CoreStartupTime')}",
    )


def status(settings: Settings, timeout: float = 2.0) -> PBXStatus:
    """The truth about the bundled PBX: stopped, starting (or hung), or running."""
    record = _running_record(settings)
    if record is None:
        return PBXStatus(PBXState.STOPPED)
    pid = process.asterisk_pid(settings.pbx_dir) or record.pid
    try:
        version, uptime = asyncio.run(_query(settings, timeout))
    except (AMIError, OSError, TimeoutError) as exc:
        detail = str(exc) or f"AMI did not answer within {timeout:g} s"
        return PBXStatus(PBXState.STARTING, pid, detail=detail)
    return PBXStatus(PBXState.RUNNING, pid, version, uptime)


def _check_port(kind: int, port: int, what: str, variable: str, address: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PBXError(
                f"{what} port {port} on {address} is already in use by another process "
                f"(see `ss -lntup | grep :{port}`): stop it or set {variable}"
            ) from None


def check_rootfs(rootfs: Path) -> None:
    """PBXError unless ROOTFS holds Asterisk (what `hotline pbx build` makes)."""
    if not (rootfs / "usr" / "sbin" / "asterisk").is_file():
        raise PBXError(
            f"no Asterisk rootfs at {rootfs}: run `hotline pbx build` (or scripts/setup) to "
            "build it, or set HOTLINE_ROOTFS"
        )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no console log)"


def _prepare_start(settings: Settings) -> tuple[Settings, Path]:
    """Everything before Asterisk runs: checks, the instance rendered; (settings with the
    AMI secret, the instance directory)."""
    if settings.pbx != "bundled":
        raise PBXError("HOTLINE_PBX=external: hotline does not start that Asterisk")
    record = _running_record(settings)
    if record is not None:
        pid = process.asterisk_pid(settings.pbx_dir) or record.pid
        raise PBXError(f"the PBX is already running (pid {pid}); `hotline pbx stop` first")
    check_rootfs(settings.rootfs)
    _check_port(socket.SOCK_STREAM, settings.ami_port, "AMI", "HOTLINE_AMI_PORT")
    sip = settings.sip_address if instance.lan(settings).loopback else "127.0.0.1"
    _check_port(socket.SOCK_DGRAM, settings.sip_port, "SIP", "HOTLINE_SIP_PORT", sip)
    settings = instance.resolve_secret(settings)
    base = instance.prepare(settings)
    (settings.rootfs / instance.MOUNT_POINT.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (base / "run" / "asterisk.pid").unlink(missing_ok=True)
    return settings, base


def run_foreground(settings: Settings, timeout: float = 20.0) -> int:
    """Run the bundled Asterisk as this process's child until it exits; its exit code.

    For a service manager (``hotline pbx start --foreground``): Asterisk's console goes to
    this process's stdout (the journal), and SIGTERM, SIGINT or SIGHUP to this process
    stops Asterisk as :func:`stop` does. (Not an exec: the ``unshare`` leader ignores
    SIGTERM while its child runs.) The pid file names the leader, so ``hotline pbx
    status|stop|cli`` work meanwhile.
    """
    settings, base = _prepare_start(settings)
    leader = subprocess.Popen(process.command(settings.rootfs, base), stdin=subprocess.DEVNULL)
    ticks = procutil.start_ticks(leader.pid)
    record = process.PidRecord(leader.pid, ticks if ticks is not None else -1)
    _pidfile(settings).write_text(record.dump())
    asked = threading.Event()

    def halt(*_: object) -> None:
        asked.set()
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.asterisk_pid(base) or leader.pid, signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, halt)
    try:
        code = leader.wait()
    finally:
        if leader.poll() is None:  # an exception in the wait: do not leave it behind
            process.terminate(record, process.asterisk_pid(base), timeout)
        _pidfile(settings).unlink(missing_ok=True)
    return 0 if asked.is_set() else code


def start(settings: Settings, timeout: float = 60.0) -> PBXStatus:
    """Start the bundled Asterisk and wait until AMI reports FullyBooted."""
    settings, base = _prepare_start(settings)
    record = process.spawn(settings.rootfs, base, _console_log(settings))
    _pidfile(settings).write_text(record.dump())
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not process.is_alive(record):
            _pidfile(settings).unlink(missing_ok=True)
            raise PBXError(
                f"Asterisk exited during start; its console said:\n{_tail(_console_log(settings))}"
            )
        try:
            version, uptime = asyncio.run(_query(settings, 2.0))
        except (AMIError, OSError, TimeoutError) as exc:
            last = str(exc) or type(exc).__name__
            time.sleep(0.2)
            continue
        _qualify_now(settings)
        return PBXStatus(PBXState.RUNNING, process.asterisk_pid(base), version, uptime)
    stop(settings)
    raise PBXError(f"Asterisk did not boot within {timeout:.0f} s (last: {last}); see {base}/log")


def _qualify_now(settings: Settings) -> None:
    """Behind Kamailio: qualify every phone at once rather than up to 30 s later
    (:func:`hotline.pbx.softphones.qualify_commands`)."""
    for command in qualify_commands(instance.read_center(settings), settings.kamailio):
        cli(settings, command)


def stop(settings: Settings, timeout: float = 20.0) -> bool:
    """Shut Asterisk down; return False if it was not running. Mounts vanish with it."""
    record = _running_record(settings)
    if record is None:
        return False
    clean = process.terminate(record, process.asterisk_pid(settings.pbx_dir), timeout)
    _pidfile(settings).unlink(missing_ok=True)
    if not clean:
        raise PBXError(f"Asterisk did not stop within {timeout:.0f} s and was killed")
    return True


def cli(settings: Settings, command: str, timeout: float = 30.0) -> str:
    """Run an Asterisk CLI command (``asterisk -rx``) on the running bundled PBX."""
    pid = process.asterisk_pid(settings.pbx_dir)
    if _running_record(settings) is None or pid is None:
        raise PBXError("the PBX is not running: `hotline pbx start` first")
    result = process.console_command(pid, command, timeout)
    if result.returncode != 0:
        raise PBXError(f"`{command}` failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def reload_modules(settings: Settings, modules: list[str | None]) -> str:
    """Reload each module in order through the console socket (None: everything); what
    the last one said.

    Not over AMI: the Reload action needs the 'system' or 'config' class, each a way to a
    shell, which the controller's AMI user does not have.
    """
    message = ""
    for module in modules:
        out = cli(settings, f"module reload {module}" if module else "core reload")
        message = out.strip() or "reloaded"
        if "not found" in message.lower() or "no such module" in message.lower():
            raise PBXError(f"reload of {module}: {message}")
    return message


def reload(settings: Settings, module: str | None = None) -> str:
    """Re-render the configuration and reload Asterisk (all modules, or one)."""
    if _running_record(settings) is None:
        raise PBXError("the PBX is not running: `hotline pbx start` first")
    instance.prepare(instance.resolve_secret(settings))
    return reload_modules(settings, [module])


def build_rootfs(settings: Settings) -> Path:
    """Build (or reuse) the Asterisk rootfs at ``settings.rootfs`` with the builder the
    package carries (mmdebstrap from the machine's Debian mirror; about a minute the first
    time). The builder keeps its builds beside the path and points the path at the current
    one, so the path must end in ``rootfs``."""
    if settings.rootfs.name != "rootfs":
        raise PBXError(
            f"HOTLINE_ROOTFS={settings.rootfs} does not end in /rootfs: point it at DIR/rootfs "
            "and the build goes into DIR"
        )
    env = {**os.environ, "HOTLINE_CACHE": str(settings.rootfs.parent)}
    done = subprocess.run(["bash", str(bundled("pbx", "build-rootfs"))], env=env, check=False)
    if done.returncode != 0:
        raise PBXError(f"the rootfs build failed (exit {done.returncode}); see its messages above")
    return settings.rootfs
