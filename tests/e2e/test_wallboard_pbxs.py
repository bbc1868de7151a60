"""The wallboard's PBX status: each PBX the controller follows, up or down (live setting
``pbxs``), in chromium against the real controller."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hotline.controller.pbxs import pbx_status_doc
from hotline.stores.live import Change
from tests.e2e.conftest import Site

pytestmark = pytest.mark.asyncio


async def test_the_wallboard_shows_each_pbx_up_or_down(site: Site, artifacts: Path) -> None:
    board = await site.signed_in("banzhang01")
    await board.wait_for_selector('#live[data-live="1"]', timeout=10_000)
    # the controller writes its one PBX's link at its first tick
    await board.wait_for_selector('#pbxs b[data-pbx="pbx1"][data-up="1"]', timeout=10_000)
    # a centre of two PBXs whose second is down (what the controller writes when a link
    # drops: tests/integration/test_multipbx.py sees it on real Asterisks)
    controller = site.running.controller
    doc = pbx_status_doc({"pbx1": True, "pbx2": False}, int(time.time() * 1000))
    controller.outbox.put(Change("setting", "pbxs", doc))
    await controller.flush()
    down = board.locator('#pbxs b[data-pbx="pbx2"]')
    await board.wait_for_selector('#pbxs b[data-pbx="pbx2"][data-up="0"]', timeout=5_000)
    assert await down.inner_text() == "pbx2 中断"
    assert "down" in (await down.get_attribute("class") or "")
    assert (await board.locator("#pbxs").inner_text()).startswith("交换机")
    await board.screenshot(path=str(artifacts / "wallboard-pbxs.png"))
    await board.context.close()
