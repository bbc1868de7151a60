"""The queue_log position on a real Redis, and its in-memory stand-in (contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis
import redis.asyncio as aredis

from hotline.stores.keys import Keys
from hotline.stores.queuelog_position import MemoryPosition, Position, QueueLogPosition

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture(params=["redis", "memory"])
async def positions(
    request: pytest.FixtureRequest,
) -> AsyncIterator[QueueLogPosition | MemoryPosition]:
    if request.param == "memory":
        yield MemoryPosition()
        return
    request.getfixturevalue("redis_client")  # a clean database
    client = aredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield QueueLogPosition(client, Keys("test"))
    await client.aclose()


async def test_the_in_memory_position_is_kept_as_in_redis(
    positions: QueueLogPosition | MemoryPosition,
) -> None:
    """Contract: the file's start until one is saved; the last one saved, identity or not."""
    assert await positions.load() == Position(0, None)
    await positions.save(Position(4096, (64769, 1310722)))
    assert await positions.load() == Position(4096, (64769, 1310722))
    await positions.save(Position(120))
    assert await positions.load() == Position(120, None)


async def test_the_position_is_stored_as_earlier_versions_stored_it(
    redis_client: redis.Redis, redis_url: str
) -> None:
    """An upgraded controller goes on where the previous version stopped."""
    redis_client.set("test:queuelog:position", '{"offset": 77, "identity": [1, 2]}')
    client = aredis.Redis.from_url(redis_url)
    try:
        positions = QueueLogPosition(client, Keys("test"))
        assert await positions.load() == Position(77, (1, 2))
        await positions.save(Position(90, (1, 2)))
    finally:
        await client.aclose()
    assert redis_client.get("test:queuelog:position") == b'{"offset": 90, "identity": [1, 2]}'
