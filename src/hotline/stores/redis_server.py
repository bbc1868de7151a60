"""A private redis-server for hotline when ``HOTLINE_REDIS_URL`` is not set.

It listens only on a Unix socket under ``RUN_DIR/redis`` (no TCP port to collide with or
expose) and keeps an append-only file there, because the STT job stream must survive a
restart; the live state itself is rebuilt from Asterisk on every (re)connect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import redis

from hotline.host import procs as procutil
from hotline.host.settings import Settings

_CONFIG = """\
port 0
unixsocket {sock}
unixsocketperm 700
dir {dir}
pidfile {dir}/redis.pid
logfile {dir}/redis.log
daemonize no
appendonly yes
appendfsync everysec
save ""
# bounded: a full Redis refuses writes (noeviction: no live state or job is dropped
# silently); health and /metrics warn from MEMORY_WARN of it (hotline.stores.memory)
maxmemory {maxmemory}
maxmemory-policy noeviction
"""
MAXMEMORY = "1gb"


class RedisError(Exception):
    """The private Redis could not be started or reached; the text says what to do."""


@dataclass(frozen=True, slots=True)
class RedisStatus:
    running: bool
    url: str
    pid: int | None = None
    version: str = ""


def socket_path(settings: Settings) -> Path:
    return settings.redis_dir / "redis.sock"


def url(settings: Settings) -> str:
    """The URL clients use: HOTLINE_REDIS_URL, or the private server's socket."""
    return settings.redis_url or f"unix://{socket_path(settings)}"


def _pid(settings: Settings) -> int | None:
    try:
        pid = int((settings.redis_dir / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if procutil.alive(pid) else None


def status(settings: Settings) -> RedisStatus:
    try:
        info = redis.Redis.from_url(url(settings), socket_timeout=2).info("server")
    except redis.RedisError:
        return RedisStatus(False, url(settings), _pid(settings))
    return RedisStatus(True, url(settings), int(info["process_id"]), str(info["redis_version"]))


def _loaded(settings: Settings) -> bool:
    """Whether Redis has read its append-only file back: until then it answers INFO but
    refuses every command with LOADING (seen after a restart over a large stream)."""
    try:
        info = redis.Redis.from_url(url(settings), socket_timeout=2).info("persistence")
    except redis.RedisError:
        return False
    return not int(info.get("loading", 0))


def _configure(settings: Settings) -> Path:
    """Write the private server's configuration; its path."""
    rdir = settings.redis_dir
    rdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket_path(settings).unlink(missing_ok=True)
    conf = rdir / "redis.conf"
    conf.write_text(_CONFIG.format(sock=socket_path(settings), dir=rdir, maxmemory=MAXMEMORY))
    return conf


def foreground(settings: Settings) -> list[str]:
    """The command that runs the private server in the foreground (a service manager's
    main process: ``hotline redis start --foreground`` execs it), its configuration
    written. Its log goes to stdout (the journal) instead of redis.log."""
    if settings.redis_url:
        raise RedisError(
            f"HOTLINE_REDIS_URL={settings.redis_url}: hotline does not run that Redis "
            "(disable hotline-redis.service)"
        )
    if status(settings).running:
        raise RedisError(f"the private Redis already runs ({url(settings)})")
    return ["redis-server", str(_configure(settings)), "--logfile", ""]


def start(settings: Settings, timeout: float = 15.0) -> RedisStatus:
    """Start the private redis-server unless it (or HOTLINE_REDIS_URL's) already answers."""
    current = status(settings)
    if current.running:
        return current
    if settings.redis_url:
        raise RedisError(f"HOTLINE_REDIS_URL={settings.redis_url} does not answer")
    rdir = settings.redis_dir
    conf = _configure(settings)
    try:
        pid = procutil.spawn_detached(["redis-server", str(conf)])
    except FileNotFoundError:
        raise RedisError("redis-server is not installed: run scripts/setup") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not procutil.alive(pid):
            raise RedisError(f"redis-server exited at start; see {rdir}/redis.log")
        current = status(settings)
        if current.running and _loaded(settings):
            return current
        time.sleep(0.05)
    procutil.terminate(pid, 1.0)
    raise RedisError(f"redis-server did not answer within {timeout:.0f} s; see {rdir}/redis.log")


def stop(settings: Settings, timeout: float = 15.0) -> bool:
    """Stop the private redis-server (never an external one); False if it was not running."""
    pid = _pid(settings)
    if settings.redis_url or pid is None:
        return False
    procutil.terminate(pid, timeout)
    return True
