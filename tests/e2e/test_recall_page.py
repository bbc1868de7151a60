"""Preview dialling in chromium on the real PBX (issue 19): a missed call saved in the
history becomes a recall task (the controller's recaller syncs it), 王芳's page offers it
with the citizen's earlier calls, she presses 回拨, and the command reaches the controller's
recaller through the bus. Her softphone is not registered on this bed, so the recaller
refuses with DEVICE_STATE's "not registered" (未注册 on her page): the refusal shown proves the
path page → web → Redis → controller → Asterisk → back, without a softphone."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.core.records import EndReason
from hotline.recall.tasks import State
from tests.e2e.conftest import Site
from tests.integration import bed
from tests.unit.recall.scene import call

pytestmark = pytest.mark.asyncio

CITIZEN = "13800000001"


async def test_a_missed_caller_is_offered_to_wangfang_and_her_recall_reaches_the_pbx(
    site: Site, ami: AMIClient, artifacts: Path
) -> None:
    now = site.services.clock()
    site.running.history.save_calls([
        call("e2e-old", CITIZEN, now - 3 * 86_400_000, 6_000, EndReason.ANSWERED,
             answered=True, queue="labour"),
        call("e2e-miss", CITIZEN, now - 300_000, 60_000, EndReason.ABANDONED_IN_QUEUE,
             queue="labour"),
    ])  # fmt: skip
    recaller = site.running.controller.recaller
    await recaller.sync_now()  # (its own sync every 30 s may have come first: either will do)
    [task] = recaller.store.tasks(State.OPEN)
    assert (task.number, task.queue, task.calls) == (CITIZEN, "labour", ("e2e-miss",))
    # 王芳 ready in labour (a simulated member under her name: the queue sees her free)
    await ami.action("QueueAdd", {"Queue": "labour", "Interface": bed.member("1001"),
                                  "MemberName": "王芳", "Paused": "false"})  # fmt: skip
    page = await site.signed_in("wangfang", 1280, 1000)
    assert page.url.endswith("/me")
    offered = page.locator(f'#recall .recall-task[data-task="{task.id}"]')
    await offered.wait_for(timeout=15_000)
    shown = await offered.inner_text()
    assert "138****0001" in shown, shown
    assert CITIZEN not in await page.content()
    assert "已接通" in shown  # her call three days ago, in the preview
    await page.screenshot(path=str(artifacts / "recall-offered.png"), full_page=True)
    await page.click(f'#recall button[data-recall="dial"][data-task="{task.id}"]')
    reply = page.locator("#recall-reply")
    await page.wait_for_function(
        "document.getElementById('recall-reply').textContent.length > 0", timeout=15_000
    )
    text = await reply.inner_text()
    assert text == f"回拨任务 {task.id}：王芳 的话机未注册", text  # her page's language
    await page.screenshot(path=str(artifacts / "recall-refused.png"), full_page=True)
    after = recaller.store.task(task.id)
    assert after is not None
    assert after.open  # refused before any dial: no attempt used
    assert after.attempts == 0
    assert recaller.dialling == {}
    # the preview she saw is in the access log, as hers
    logged = [x.entry for x in site.services.access_log.entries(action="recall preview")]
    assert [(e.user, e.target) for e in logged][:1] == [("wangfang", f"recall:{task.id}")]
    # she reached the citizen some other way: 已联系 closes it, the card says nothing is due
    await page.click(f'#recall button[data-recall="done"][data-task="{task.id}"]')
    await page.locator('#recall [data-why="none_due"]').wait_for(timeout=15_000)
    closed = recaller.store.task(task.id)
    assert closed is not None
    assert (closed.state, closed.closed_by) == (State.DONE, "王芳")
