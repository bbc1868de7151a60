"""Helpers of the test bed: bring the PBX back to a clean state between tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from pathlib import Path

import redis.asyncio as aredis

from hotline.ami.client import AMIClient
from hotline.ami.errors import ActionFailed
from hotline.ami.message import EventList, Message


async def channels(client: AMIClient) -> list[Message]:
    reply = await client.action("CoreShowChannels")
    assert isinstance(reply, EventList)
    return [e for e in reply.events if e.name == "CoreShowChannel"]


async def reset(client: AMIClient, timeout: float = 10.0) -> None:
    """Hang up every channel and remove every dynamic queue member."""
    if await channels(client):
        # Asterisk's Hangup takes a /regex/ for the channel name
        await client.action("Hangup", {"Channel": "/.*/", "Cause": "16"})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await channels(client):
            if loop.time() > deadline:
                raise AssertionError("channels survive a hangup of everything")
            await asyncio.sleep(0.1)
    status = await client.action("QueueStatus")
    assert isinstance(status, EventList)
    for member in status.events:
        if member.name == "QueueMember" and member.get("Membership") == "dynamic":
            with contextlib.suppress(ActionFailed):  # already gone
                await client.action(
                    "QueueRemove",
                    {"Queue": member.get("Queue") or "", "Interface": member.get("Location") or ""},
                )


def member(ext: str) -> str:
    """A simulated agent: a Local channel that answers and talks AGENT_TALK seconds."""
    return f"Local/{ext}@hotline-test-agent/n"


async def add_members(
    client: AMIClient, queues: list[str], *, paused: bool, first_ext: int = 8001
) -> list[str]:
    """One member per queue (paused: callers join and wait, nobody answers)."""
    interfaces = []
    for n, queue in enumerate(queues):
        iface = member(str(first_ext + n))
        await client.action(
            "QueueAdd",
            {
                "Queue": queue,
                "Interface": iface,
                "MemberName": f"agent{first_ext + n}",
                "Paused": "true" if paused else "false",
                "Reason": "test" if paused else "",
            },
        )
        interfaces.append(iface)
    return interfaces


async def queue_logs_from_here(redis: aredis.Redis, logs: Iterable[tuple[str, Path]]) -> None:
    """Each queue_log read from where it ends now (its follower's position key, its file):
    the calls of tests before are not this test's."""
    for key, log in logs:
        st = log.stat()
        await redis.set(key, json.dumps({"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}))
