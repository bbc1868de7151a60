"""The web's live hub on the real Redis: one follower of the feed for every wallboard;
a resync (new generation), a seq gap or a slow client makes it send the whole state again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as aredis

from hotline.stores.keys import KEYS
from hotline.stores.live import Change, LiveStore
from hotline.web import hub as hub_module
from hotline.web.hub import RELOAD, LiveHub, Update

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def live(redis_url: str) -> AsyncIterator[LiveStore]:
    redis = aredis.Redis.from_url(redis_url)
    await redis.flushdb()
    yield LiveStore(redis)
    await redis.aclose()


async def next_item(inbox: asyncio.Queue[Update | object], timeout: float = 5.0) -> object:
    return await asyncio.wait_for(inbox.get(), timeout)


async def test_changes_reach_every_subscriber_in_order(live: LiveStore) -> None:
    await live.replace(calls={}, agents={"王芳": {"status": "ready"}}, queues={})
    hub = LiveHub(live, block_ms=200)
    try:
        state = await hub.state()
        assert state is not None
        assert state.docs["agent"]["王芳"]["status"] == "ready"
        async with hub.subscribe() as a, hub.subscribe() as b:
            assert hub.clients == 2
            await live.apply(
                [
                    Change("agent", "王芳", {"status": "busy"}),
                    Change("queue", "intake", {"waiting": []}),
                ]
            )
            for inbox in (a, b):
                first, second = await next_item(inbox), await next_item(inbox)
                assert isinstance(first, Update)
                assert isinstance(second, Update)
                assert (first.change.id, second.change.id) == ("王芳", "intake")
                assert second.seq == first.seq + 1
        assert hub.clients == 0
        assert state.docs["agent"]["王芳"]["status"] == "busy"  # the hub's own copy follows
    finally:
        await hub.stop()


async def test_a_resync_sends_the_whole_state_again(live: LiveStore) -> None:
    await live.replace(calls={}, agents={"王芳": {"status": "ready"}}, queues={})
    hub = LiveHub(live, block_ms=200)
    try:
        await hub.state()
        async with hub.subscribe() as inbox:
            await live.replace(calls={}, agents={"李娜": {"status": "ready"}}, queues={})
            assert await next_item(inbox) is RELOAD
            state = await hub.state()
            assert state is not None
            assert set(state.docs["agent"]) == {"李娜"}
    finally:
        await hub.stop()


async def test_a_gap_in_the_feed_reloads(live: LiveStore) -> None:
    await live.replace(calls={}, agents={}, queues={})
    hub = LiveHub(live, block_ms=200)
    try:
        await hub.state()
        async with hub.subscribe() as inbox:
            # a change written past the feed's numbering (as if some were lost)
            pipe = live.redis.pipeline(transaction=True)
            pipe.hset(KEYS.agents, "x", '{"status": "busy"}')
            pipe.xadd(
                KEYS.feed, {"seq": "999", "kind": "agent", "id": "x", "doc": '{"status": "busy"}'}
            )
            pipe.set(KEYS.seq, 999)
            await pipe.execute()
            assert await next_item(inbox) is RELOAD
            state = await hub.state()
            assert state is not None
            assert state.seq == 999
            assert "x" in state.docs["agent"]
    finally:
        await hub.stop()


async def test_a_client_too_slow_gets_the_whole_state(
    live: LiveStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "INBOX_SIZE", 3)
    await live.replace(calls={}, agents={}, queues={})
    hub = LiveHub(live, block_ms=200)
    try:
        await hub.state()
        async with hub.subscribe() as inbox:
            await live.apply([Change("agent", f"a{i}", {"status": "ready"}) for i in range(10)])
            await asyncio.sleep(0.5)
            items = [inbox.get_nowait() for _ in range(inbox.qsize())]
            assert items[-1] is RELOAD  # its backlog dropped, told to reload instead
            assert len(items) <= 3
    finally:
        await hub.stop()
