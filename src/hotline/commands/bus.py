"""Commands to the running controller over Redis: a stream in, a reply list per command.

CLI side::

    reply = await send(redis, command, timeout=10)     # NoController if nobody answers

Controller side::

    inbox = Inbox(redis)
    async for command in inbox:                       # only commands sent while it runs
        ...
        await inbox.reply(command.id, Reply(ok=True, message="paused"))
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field

import redis.asyncio as aredis

from hotline.commands.plan import Command, CommandError
from hotline.stores import streams
from hotline.stores.keys import KEYS, REPLY_TTL, Keys


class NoController(Exception):  # noqa: N818
    """No controller answered: it is not running, or it cannot reach Redis."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the controller answered: ``message`` in English (the CLI prints it); ``key``
    names the same answer in the interface's words (``reply.<key>`` in :mod:`hotline.web.
    i18n`, filled from ``details``) for pages shown in the reader's language."""

    ok: bool
    message: str
    details: dict[str, str] = field(default_factory=dict)
    key: str = ""


async def send(
    redis: aredis.Redis, command: Command, *, timeout: float = 10.0, keys: Keys = KEYS
) -> Reply:
    await redis.xadd(
        keys.commands, streams.fields(command.fields()), maxlen=10_000, approximate=True
    )
    got = await redis.blpop([keys.reply(command.id)], timeout=timeout)
    if got is None:
        raise NoController(
            f"no controller answered within {timeout:g} s: is `hotline controller` running?"
        )
    data = json.loads(got[1])
    details = {str(k): str(v) for k, v in (data.get("details") or {}).items()}
    return Reply(bool(data["ok"]), str(data["message"]), details, str(data.get("key") or ""))


@dataclass
class Inbox:
    redis: aredis.Redis
    keys: Keys = field(default=KEYS)
    position: str = "$"  # commands sent before the controller started are not replayed

    async def start(self) -> None:
        """Fix the position to the stream's end now, so nothing sent later is skipped.

        (With ``$`` every read would start at the end *then*: a command added between two
        reads would be lost.)
        """
        if self.position != "$":
            return
        last = await streams.last_id(self.redis, self.keys.commands)
        self.position = last or "0-0"

    async def __aiter__(self) -> AsyncIterator[Command | tuple[str, CommandError]]:
        """Commands in order; a malformed one comes as (its id, the error)."""
        await self.start()
        while True:
            entries = await streams.read(
                self.redis, self.keys.commands, self.position, block_ms=5000, count=100
            )
            for entry_id, raw in entries:
                self.position = entry_id
                fields = {k.decode(): v.decode(errors="replace") for k, v in raw.items()}
                try:
                    yield Command.from_fields(fields)
                except CommandError as exc:
                    yield (fields.get("id", ""), exc)

    async def reply(self, command_id: str, reply: Reply) -> None:
        if not command_id:
            return
        key = self.keys.reply(command_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(asdict(reply), ensure_ascii=False))
        pipe.expire(key, REPLY_TTL)
        await pipe.execute()
