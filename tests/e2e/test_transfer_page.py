"""A transfer from the agent's page in chromium on the real PBX (issue 20): a citizen's call
answered by 王芳 (a simulated member under her name), her page's transfer card, 直接转接 to
the queue property, where 李娜 (simulated too) answers: page → web → Redis → controller →
BlindTransfer on her channel → the citizen in the next queue, one call."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from tests.e2e.conftest import Site
from tests.integration import bed
from tests.integration.test_ivr_calls import dial

pytestmark = pytest.mark.asyncio


async def test_wangfang_transfers_her_call_to_another_queue_from_her_page(
    site: Site, ami: AMIClient, artifacts: Path
) -> None:
    for queue, ext, name in (("intake", "1001", "王芳"), ("property", "1002", "李娜")):
        await ami.action("QueueAdd", {"Queue": queue, "Interface": bed.member(ext),
                                      "MemberName": name, "Paused": "false"})  # fmt: skip
    page = await site.signed_in("wangfang", 1280, 1100)
    assert page.url.endswith("/me")
    blind = page.locator('#transfer button[data-transfer="blind"]')
    assert await blind.is_disabled()  # no call yet
    connects = ami.subscribe("AgentConnect")
    uid = await dial(ami, "1-0", __AGENT_TALK="40", TALK="40")
    while (await connects.get(timeout=40)).get("MemberName") != "王芳":
        pass
    enabled = '#transfer button[data-transfer="blind"]:not([disabled])'
    await page.locator(enabled).wait_for(timeout=15_000)  # the page saw her call
    await page.select_option("#transfer-to", "property")
    await page.screenshot(path=str(artifacts / "transfer-card.png"), full_page=True)
    await blind.click()
    await page.locator("#transfer-reply:not(:empty)").wait_for(timeout=15_000)
    text = await page.locator("#transfer-reply").inner_text()
    assert text == "已转接至 住房和物业", text  # the controller's answer, in her language
    while (await connects.get(timeout=40)).get("MemberName") != "李娜":
        pass
    await page.screenshot(path=str(artifacts / "transfer-done.png"), full_page=True)
    deadline = time.monotonic() + 15
    while True:  # the live call is 李娜's now, with both visits: one call
        call = site.running.controller.calls.get(uid)
        if call is not None and call.agent == "李娜":
            break
        assert time.monotonic() < deadline, call
        await asyncio.sleep(0.2)
    assert [(v.queue, v.outcome) for v in call.visits] == [("intake", "CONNECT"),
                                                           ("property", "CONNECT")]  # fmt: skip
    deadline = time.monotonic() + 15
    while True:  # journaled as hers, by her account (the outbox flushes on its tick)
        done = [c for c in site.running.history.journal("王芳") if c.kind == "transfer"]
        if done:
            break
        assert time.monotonic() < deadline, "no transfer in the journal"
        await asyncio.sleep(0.3)
    assert [(c.actor, c.call_id, c.reason) for c in done] == [
        ("wangfang", uid, "blind:queue:property")]  # fmt: skip

    # her team's supervisor sends the call on from the wallboard: 李娜's row, 转接至 intake
    board = await site.signed_in("banzhang01")
    pick = board.locator(
        '#agents tr[data-agent="李娜"][data-status="talking"] select[data-do="transfer"]'
    )
    await pick.wait_for(timeout=15_000)
    await board.screenshot(path=str(artifacts / "wallboard-transfer.png"), full_page=True)
    await pick.select_option("intake")
    while (await connects.get(timeout=40)).get("MemberName") != "王芳":
        pass
    connects.close()
    deadline = time.monotonic() + 15
    while True:  # the same call, a third visit; journaled for 李娜, by the supervisor
        sent = [c for c in site.running.history.journal("李娜") if c.kind == "transfer"]
        call = site.running.controller.calls.get(uid)
        if sent and call is not None and len(call.visits) == 3:
            break
        assert time.monotonic() < deadline, (sent, call)
        await asyncio.sleep(0.3)
    assert [(c.actor, c.call_id, c.reason) for c in sent] == [
        ("banzhang01", uid, "blind:queue:intake")]  # fmt: skip
    await board.context.close()
