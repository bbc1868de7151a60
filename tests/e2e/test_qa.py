"""Quality inspection in chromium: an inspector finds a flagged call on /qa, scores it beside
its players and turns, 王芳 appeals on /me/qa, a second inspector upholds the score."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Site
from tests.integration.test_web_qa import DISMISSIVE, save_flagged_call

pytestmark = pytest.mark.asyncio
CALL = "e2e-qa.1"


async def test_an_inspector_scores_a_flagged_call_and_the_agent_appeals(
    site: Site, artifacts: Path, tmp_path: Path
) -> None:
    # a call of this week, answered by 王芳, transcribed and flagged (the STT worker's step)
    t0 = time.time_ns() // 1_000_000 - 60_000
    store = save_flagged_call(site.services, CALL, tmp_path, DISMISSIVE, t0)

    page = await site.signed_in("zhijian01")
    await page.goto(site.url + "/qa")
    await page.fill('input[name="purpose"]', "质检2026-49")
    async with page.expect_navigation():
        await page.click('form[action="/audit/purpose"] button')
    assert page.url.endswith("/qa")
    flagged = page.locator(f'section.flagged[data-call="{CALL}"]')
    await flagged.wait_for(timeout=10_000)
    phrase = flagged.locator('tr[data-rule="forbidden_phrase"]')
    assert "不归我们管" in await phrase.inner_text()
    assert "坐席" in await phrase.inner_text()  # who said it
    await page.screenshot(path=str(artifacts / "qa-list.png"), full_page=True)

    async with page.expect_navigation():
        await flagged.locator("h3 a").first.click()
    await page.wait_for_selector('audio[data-leg="tx"]', state="attached")
    assert "13812345678" not in await page.content()
    for key, points in (("greeting", "6"), ("listening", "15"), ("accuracy", "20"),
                        ("recording", "25"), ("courtesy", "10")):  # fmt: skip
        await page.fill(f'input[name="item.{key}"]', points)
    await page.check('input[name="item.dismissive"][value="fail"]')
    await page.check('input[name="item.abusive"][value="pass"]')
    await page.fill('#score-form textarea[name="note"]', "推诿：“不归我们管”，未问候")
    async with page.expect_navigation():
        await page.click('#score-form button[type="submit"]')
    total = page.locator(".qa-side .score .total b")
    assert await total.inner_text() == "0"  # a critical item failed
    await page.screenshot(path=str(artifacts / "qa-scored.png"), full_page=True)
    (score,) = store.effective_scores()
    assert (score.score.reviewer, score.score.failed, score.score.answers["greeting"]) == (
        "zhijian01", ("dismissive",), 6)  # fmt: skip

    agent = await site.signed_in("wangfang")
    await agent.goto(site.url + "/me/qa")
    mine = agent.locator(f'.my-score[data-score="{score.id}"]')
    await mine.wait_for(timeout=10_000)
    assert "推诿" in await mine.inner_text()
    await mine.locator('textarea[name="reason"]').fill("已告知市民转人社局，并非推诿")
    async with agent.expect_navigation():
        await mine.locator('button[type="submit"]').click()
    assert "待复核" in await agent.locator(f'.my-score[data-score="{score.id}"]').inner_text()
    await agent.screenshot(path=str(artifacts / "qa-appealed.png"), full_page=True)
    (appeal,) = store.appeals(state="open")
    assert appeal.agent == "王芳"

    # the inspector who scored is told another settles; a second one upholds it
    await page.reload()
    card = page.locator(f'.appeal[data-appeal="{appeal.id}"]')
    assert "另一名质检员" in await card.inner_text()
    second = await site.signed_in("jijian01")
    await second.goto(site.url + f"/qa/calls/{CALL}")
    await second.fill('input[name="purpose"]', "质检2026-49")
    async with second.expect_navigation():
        await second.click('form[action="/audit/purpose"] button')
    card = second.locator(f'.appeal[data-appeal="{appeal.id}"]')
    await card.locator("form.uphold textarea").fill("录音确有推诿")
    async with second.expect_navigation():
        await card.locator("form.uphold button").click()
    assert "维持原分" in await second.locator(f'.appeal[data-appeal="{appeal.id}"]').inner_text()
    await second.screenshot(path=str(artifacts / "qa-settled.png"), full_page=True)
    (done,) = store.appeals()
    assert (done.state, done.settled_by) == ("upheld", "jijian01")
    store.close()
    log = site.services.access_log
    assert log.verify() is None
    assert ("show", CALL) in [(e.entry.action, e.entry.target) for e in log.entries()]

    # the report: from /qa, this week by agent, the upheld 0 with its failed item
    await page.goto(site.url + "/qa")
    async with page.expect_navigation():
        await page.click('a[href="/qa/report"]')
    row = page.locator('table.qa-report tr[data-key="王芳"]')
    await row.wait_for(timeout=10_000)
    text = await row.inner_text()
    assert "推诿" in text  # the failed critical item, by its label
    assert "禁语 ×1" in text
    await page.screenshot(path=str(artifacts / "qa-report.png"), full_page=True)
    assert ("qa_report", "质检2026-49") in [
        (e.entry.action, e.entry.purpose) for e in log.entries(user="zhijian01")
    ]
