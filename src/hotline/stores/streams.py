"""Typed wrappers of the Redis stream calls hotline uses (redis-py's types are loose)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import redis.asyncio as aredis

Entry = tuple[str, dict[bytes, bytes]]


async def read(
    redis: aredis.Redis, key: str, after: str, *, block_ms: int, count: int
) -> list[Entry]:
    """Entries of stream ``key`` after id ``after`` (``$``: only new ones), waiting up to
    ``block_ms``; an empty list when none came."""
    reply = cast(
        "list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None",
        await redis.xread({key: after}, block=block_ms, count=count),
    )
    return [
        (entry_id.decode(), fields) for _, entries in reply or () for entry_id, fields in entries
    ]


def fields(values: Mapping[str, str | int]) -> dict[Any, Any]:
    """Stream entry fields in the form redis-py's XADD signature accepts."""
    return dict(values)


async def last_id(redis: aredis.Redis, key: str) -> str | None:
    """The id of the stream's last entry, or None when it is empty or missing."""
    last = cast("list[tuple[bytes, dict[bytes, bytes]]]", await redis.xrevrange(key, count=1))
    return last[0][0].decode() if last else None
