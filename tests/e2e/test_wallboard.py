"""A supervisor's wallboard in chromium against the real Asterisk and controller."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.ami.timestamps import event_ms
from tests.e2e.conftest import Site
from tests.integration import bed
from tests.integration.test_ivr_calls import dial

pytestmark = pytest.mark.asyncio

# records, in the page, when the agent's row first shows a status (wall-clock ms)
WATCH = """(name) => {
  window.__seen = {};
  const body = document.querySelector('#agents tbody');
  const look = () => {
    const row = body.querySelector(`tr[data-agent="${name}"]`);
    const status = row && row.dataset.status;
    if (row && !(status in window.__seen)) window.__seen[status] = Date.now();
  };
  new MutationObserver(look).observe(body, {childList: true, subtree: true, attributes: true});
  look();
}"""


async def test_an_agents_pause_reaches_the_wallboard_within_a_second(
    site: Site, ami: AMIClient, artifacts: Path
) -> None:
    board = await site.signed_in("banzhang01")
    assert board.url.endswith("/wallboard")
    errors: list[str] = []
    board.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    board.on("pageerror", lambda e: errors.append(str(e)))
    await board.wait_for_selector('#live[data-live="1"]', timeout=10_000)
    assert errors == []
    await board.evaluate(WATCH, "王芳")

    # 王芳 signs in on her own page and logs into her queues: the real controller adds her
    agent = await site.signed_in("wangfang", 1280, 800)
    assert agent.url.endswith("/me")
    await agent.click('button[data-action="login"]')
    await board.wait_for_selector('#agents tr[data-agent="王芳"] .acts button', timeout=10_000)

    pauses = ami.subscribe("QueueMemberPause")
    await agent.select_option("#reason", "busy")
    await agent.click('button[data-action="pause"]')
    paused_at = None
    deadline = time.monotonic() + 10
    async for event in pauses:  # Asterisk's own word that the pause happened, and when
        if event.get("MemberName") == "王芳" and event.get("Paused") == "1":
            paused_at = event_ms(event)
            break
        assert time.monotonic() < deadline
    pauses.close()
    assert paused_at is not None
    await board.wait_for_function("() => 'busy' in window.__seen", timeout=5_000)
    shown_at = await board.evaluate("() => window.__seen.busy")
    latency = shown_at - paused_at
    print(f"AMI QueueMemberPause -> wallboard DOM: {latency} ms")
    assert latency < 1000, f"the pause took {latency} ms to reach the wallboard"
    row = board.locator('#agents tr[data-agent="王芳"]')
    assert await row.locator(".chip").inner_text() == "示忙"
    await agent.wait_for_selector('#status[data-status="busy"]', timeout=5_000)
    await asyncio.sleep(1.2)  # the duration ticks
    await agent.screenshot(path=str(artifacts / "agent-page.png"), full_page=True)

    # a citizen waits in 王芳's queue while she stays in 示忙: the watchdog's alert shows
    await bed.add_members(ami, ["intake"], paused=True)  # so the queue takes the caller
    await dial(ami, "1-4", TALK="90")
    await board.wait_for_selector('#queues [data-queue="intake"][data-waiting="1"]', timeout=20_000)
    alert = board.locator("#alerts li.sev-critical").first
    await alert.wait_for(timeout=60_000)
    assert "有来电排队时示忙" in await alert.inner_text()
    await board.evaluate("() => window.hotlineBoard.loadCharts()")
    await board.wait_for_selector("#charts svg .st-busy", timeout=10_000)
    await board.screenshot(path=str(artifacts / "wallboard.png"), full_page=True)
    # acknowledged with a comment, through the controller, and shown as such
    await alert.locator("input").fill("已电话提醒王芳")
    await alert.locator("button", has_text="确认").click()
    await board.wait_for_selector("#alerts li.sev-critical.acknowledged", timeout=10_000)
    await site.running.controller.flush()
    [stored] = [
        a for a in site.running.history.alerts("王芳") if a["rule"] == "paused_while_waiting"
    ]
    assert stored["state"] == "acknowledged"
    assert stored["history"][-1]["by"] == "banzhang01"
    assert stored["history"][-1]["comment"] == "已电话提醒王芳"
    # the IVR announcement, switched from the wallboard: Asterisk's global changes
    await board.select_option('#notice select[name="notice"]', "water-cut")
    await board.click('#notice button[type="submit"]')
    await board.wait_for_function(
        "() => document.getElementById('notice-now').textContent === 'water-cut'",
        timeout=10_000,
    )
    reply = await ami.action("Getvar", {"Variable": "HOTLINE_NOTICE"})
    assert reply.get("Value") == "water-cut"
    await board.select_option('#notice select[name="notice"]', "")
    await board.click('#notice button[type="submit"]')
    await board.wait_for_function(
        "() => document.getElementById('notice-now').textContent === '关闭公告'", timeout=10_000
    )
    reply = await ami.action("Getvar", {"Variable": "HOTLINE_NOTICE"})
    assert not reply.get("Value")
    # the supervisor's forced logout, from the wallboard, through the controller
    await row.locator('button[data-do="logout"]').click()
    await board.wait_for_function(
        """() => { const r = document.querySelector('#agents tr[data-agent="王芳"]');
                   return r && r.dataset.status === 'logged_out'; }""",
        timeout=10_000,
    )
    await board.context.close()
    await agent.context.close()


async def test_the_recall_list_shows_on_the_wallboard(site: Site, artifacts: Path) -> None:
    from hotline.core.records import EndReason
    from tests.unit.recall.scene import call

    board = await site.signed_in("banzhang01")
    await board.wait_for_selector('#live[data-live="1"]', timeout=10_000)
    await board.wait_for_selector('#recall[data-open="0"]', timeout=10_000)  # shown at start
    # a citizen gave up in the queue 20 minutes ago: owed a call back
    missed = call("e2e-missed", "13800000077", int(time.time() * 1000) - 1_200_000, 40_000,
                  EndReason.ABANDONED_IN_QUEUE)  # fmt: skip
    site.running.history.save_calls([missed])
    done = await site.running.controller.recaller.sync_now()
    assert done["new"] == 1
    recall = board.locator("#recall")
    await board.wait_for_selector('#recall[data-open="1"]', timeout=5_000)
    (task,) = site.running.controller.recaller.store.tasks()
    late = time.time() * 1000 > task.deadline
    assert await recall.get_attribute("data-overdue") == ("1" if late else "0")
    assert "待回拨 1" in await recall.inner_text()
    await board.screenshot(path=str(artifacts / "wallboard-recall.png"))
