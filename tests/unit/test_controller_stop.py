"""The controller stops on Ctrl-C even when a loop swallows a cancel."""

from __future__ import annotations

import asyncio

from hotline.controller.core import stop_tasks


async def _swallows_one_cancel(events: list[str]) -> None:
    # what a library's read timeout did to a cancel: turned it into its own error, caught
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        events.append("swallowed")
    await asyncio.sleep(3600)


def test_stopping_the_loops_survives_a_swallowed_cancel() -> None:
    async def go() -> list[str]:
        events: list[str] = []
        task = asyncio.create_task(_swallows_one_cancel(events))
        await asyncio.sleep(0)
        await asyncio.wait_for(stop_tasks([task]), 5)
        assert task.cancelled()
        return events

    assert asyncio.run(go()) == ["swallowed"]
