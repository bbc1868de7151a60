"""The CLI's way to the running system: a Redis connection, the live calls and agents the
controller keeps there, and commands sent to the controller (which carries them out over
AMI and journals who asked)."""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aredis

from hotline.cli.common import CLIError
from hotline.commands import bus
from hotline.commands.plan import Command
from hotline.host.settings import Settings
from hotline.stores import redis_server
from hotline.stores.live import LiveStore, Snapshot

__all__ = ["connect", "send_command", "snapshot"]


def connect(settings: Settings) -> aredis.Redis:
    """A connection to the Redis the controller writes (``HOTLINE_REDIS_URL`` or ours)."""
    # blocking stream reads wait up to 5 s: the socket timeout must be longer
    return aredis.Redis.from_url(
        redis_server.url(settings), socket_timeout=30, socket_connect_timeout=5
    )


def snapshot(settings: Settings) -> Snapshot:
    """The calls, agents and queues as the controller sees them now."""

    async def read() -> Snapshot:
        redis = connect(settings)
        try:
            return await LiveStore(redis).snapshot()
        finally:
            await redis.aclose()

    return asyncio.run(read())


def send_command(settings: Settings, command: Command) -> int:
    """Send COMMAND to the running controller; print its reply; 0 if it was carried out."""

    async def go() -> bus.Reply:
        redis = connect(settings)
        try:
            return await bus.send(redis, command)
        finally:
            await redis.aclose()

    try:
        reply = asyncio.run(go())
    except bus.NoController as exc:
        raise CLIError(str(exc)) from None
    print(reply.message, file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1
