"""The controller stops on Ctrl-C even when a loop swallows a cancel."""

from __future__ import annotations

import asyncio
from pathlib import Path

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


def test_alerts_raised_a_day_ago_leave_the_live_store(tmp_path: Path) -> None:
    """The live store held every alert forever; the history keeps them."""
    import redis.asyncio as aredis

    from hotline.ami.client import AMIClient, Endpoint
    from hotline.center.config import load_center
    from hotline.controller.alerting import KEEP_MS, expire_notes
    from hotline.controller.core import Controller
    from hotline.host.settings import Settings
    from hotline.stores.history import History

    settings = Settings.from_env({"HOTLINE_RUN_DIR": str(tmp_path)})
    root = Path(__file__).resolve().parents[2]
    center = load_center((root / "config" / "center.yaml").read_text(encoding="utf-8"))
    history = History.open(tmp_path / "h.sqlite3")
    controller = Controller(
        settings, center, client=AMIClient(Endpoint("127.0.0.1", 1, "u", "s")),
        redis=aredis.Redis.from_url("unix:///nonexistent"), history=history,
    )  # fmt: skip
    now = 10 * KEEP_MS
    controller.announced.update({"old": now - KEEP_MS - 1, "new": now - 1000})
    expire_notes(controller, now)
    assert controller.pending.live[("alert", "old")].doc is None  # taken off
    assert ("alert", "new") not in controller.pending.live
    assert set(controller.announced) == {"new"}
    history.close()
