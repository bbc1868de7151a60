"""The live store on a real Redis: snapshot + numbered feed, gaps detected, resync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis
import redis.asyncio as aredis

from hotline.stores.keys import Keys
from hotline.stores.live import Change, FeedGap, LiveStore, MemoryLive

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def live(redis_client: redis.Redis, redis_url: str) -> AsyncIterator[LiveStore]:
    client = aredis.Redis.from_url(redis_url)
    yield LiveStore(client, Keys("test"))
    await client.aclose()


async def test_snapshot_reflects_applied_changes(live: LiveStore) -> None:
    seq = await live.apply(
        [
            Change("call", "1795.1", {"caller": "13800138000", "name": "张三", "queue": "labour"}),
            Change("agent", "王芳", {"status": "ready"}),
            Change("queue", "labour", {"waiting": 1}),
        ]
    )
    assert seq == 3
    await live.apply([Change("call", "1795.1", None), Change("agent", "王芳", {"status": "busy"})])
    snap = await live.snapshot()
    assert snap.seq == 5
    assert snap.calls == {}
    assert snap.agents == {"王芳": {"status": "busy"}}
    assert snap.queues == {"labour": {"waiting": 1}}


async def test_a_follower_sees_every_change_in_order(live: LiveStore) -> None:
    await live.apply([Change("queue", "intake", {"waiting": 0})])
    snap = await live.snapshot()
    received: list[tuple[int, str, object]] = []

    async def follow() -> None:
        async for item in live.follow(snap, block_ms=200):
            received.append((item.seq, item.change.id, item.change.doc))
            if len(received) == 30:
                return

    task = asyncio.create_task(follow())
    for n in range(30):
        await live.apply([Change("queue", "intake", {"waiting": n})])
    await asyncio.wait_for(task, 5)
    assert [r[0] for r in received] == list(range(snap.seq + 1, snap.seq + 31))
    assert received[-1][2] == {"waiting": 29}


async def test_a_missed_change_is_a_gap(live: LiveStore, redis_client: redis.Redis) -> None:
    await live.apply([Change("agent", "a1", {"status": "ready"})])
    snap = await live.snapshot()
    await live.apply([Change("agent", "a1", {"status": "busy"})])
    await live.apply([Change("agent", "a1", {"status": "ready"})])
    # lose the first entry after the snapshot, as a trimmed stream would
    first = redis_client.xrange("test:live:feed", min=f"({snap.stream_id}", count=1)
    redis_client.xdel("test:live:feed", first[0][0])
    with pytest.raises(FeedGap, match=f"expected change {snap.seq + 1}"):
        async for _ in live.follow(snap, block_ms=200):
            pass


async def test_a_resync_replaces_everything_and_followers_reload(live: LiveStore) -> None:
    await live.apply([Change("call", "old", {"x": 1}), Change("agent", "gone", {"x": 1})])
    snap = await live.snapshot()
    await live.replace(calls={"new": {"x": 2}}, agents={}, queues={"q": {"waiting": 0}})
    with pytest.raises(FeedGap):
        async for _ in live.follow(snap, block_ms=200):
            pass
    fresh = await live.snapshot()
    assert (fresh.calls, fresh.agents, fresh.queues) == (
        {"new": {"x": 2}},
        {},
        {"q": {"waiting": 0}},
    )
    assert fresh.generation == snap.generation + 1


async def test_a_restarted_writer_continues_the_numbering(live: LiveStore, redis_url: str) -> None:
    await live.apply([Change("queue", "q", {"n": 1})] * 3)
    client = aredis.Redis.from_url(redis_url)
    try:
        again = LiveStore(client, Keys("test"))
        assert await again.apply([Change("queue", "q", {"n": 2})]) == 4
    finally:
        await client.aclose()


@pytest_asyncio.fixture(params=["redis", "memory"])
async def writer(request: pytest.FixtureRequest) -> AsyncIterator[LiveStore | MemoryLive]:
    """The live store and its in-memory stand-in (what the component tests write to)."""
    if request.param == "memory":
        yield MemoryLive()
        return
    request.getfixturevalue("redis_client")  # a clean database
    client = aredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield LiveStore(client, Keys("test"))
    await client.aclose()


async def test_the_in_memory_store_writes_as_the_live_store_does(
    writer: LiveStore | MemoryLive,
) -> None:
    """Contract: numbering, documents set and deleted, a replaced snapshot keeping alerts."""
    assert await writer.apply([]) == 0
    seq = await writer.apply(
        [
            Change("call", "1795.1", {"caller": "13800138000", "name": "张三"}),
            Change("alert", "a1", {"state": "open", "agent": "王芳"}),
            Change("note", "n1", {"text": "请接听"}),
        ]
    )
    assert seq == 3
    assert await writer.apply([Change("note", "n1", None), Change("call", "1795.2", {})]) == 5
    assert await writer.docs("call") == {"1795.1": {"caller": "13800138000", "name": "张三"},
                                         "1795.2": {}}  # fmt: skip
    assert await writer.docs("note") == {}
    assert await writer.replace(calls={}, agents={"王芳": {"status": "busy"}}, queues={}) == 6
    assert await writer.docs("call") == {}
    assert await writer.docs("agent") == {"王芳": {"status": "busy"}}
    assert await writer.alerts() == {"a1": {"state": "open", "agent": "王芳"}}
