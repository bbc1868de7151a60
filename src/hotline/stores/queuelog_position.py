"""Where the controller reads Asterisk's queue_log from after a restart, kept in Redis.

The position is a byte offset in the file and the file's identity (st_dev, st_ino: a
rotated file is another one); what it points at is the reconciler's business
(:class:`hotline.controller.reconcile.ReplayMark`). :class:`MemoryPosition` keeps it in
memory for the tests of what saves it; the contract test in
tests/integration/test_queuelog_position.py runs against both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import redis.asyncio as aredis

from hotline.stores.keys import KEYS, Keys


@dataclass(frozen=True, slots=True)
class Position:
    offset: int = 0
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file read


class QueueLogPosition:
    """The position in Redis (``KEYS.queuelog_position``, JSON)."""

    def __init__(self, redis: aredis.Redis, keys: Keys = KEYS) -> None:
        self.redis = redis
        self.keys = keys

    async def load(self) -> Position:
        """The saved position; the file's start when none was saved."""
        raw = await self.redis.get(self.keys.queuelog_position)
        if raw is None:
            return Position()
        data = json.loads(raw)
        identity = data.get("identity")
        return Position(
            int(data["offset"]), (int(identity[0]), int(identity[1])) if identity else None
        )

    async def save(self, position: Position) -> None:
        data = {"offset": position.offset, "identity": position.identity}
        await self.redis.set(self.keys.queuelog_position, json.dumps(data))


@dataclass
class MemoryPosition:
    """The position in memory; ``saved`` lists every position saved, the last one current."""

    saved: list[Position] = field(default_factory=list)

    async def load(self) -> Position:
        return self.saved[-1] if self.saved else Position()

    async def save(self, position: Position) -> None:
        self.saved.append(position)
