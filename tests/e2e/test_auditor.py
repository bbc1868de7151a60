"""An auditor in chromium: searches a transcript, opens the call, plays a leg from a word."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.recordings.leg import Leg
from tests.e2e.conftest import Site
from tests.integration import bed
from tests.integration.test_controller import wait_calls_done
from tests.integration.test_ivr_calls import dial
from tests.integration.webapp import AGENT_WORDS, CALLER_WORDS, fixture_transcript

pytestmark = pytest.mark.asyncio


async def test_an_auditor_searches_opens_and_plays_a_call(
    site: Site, ami: AMIClient, artifacts: Path
) -> None:
    await bed.add_members(ami, ["labour"], paused=False)
    uid = await dial(ami, "1-3-1", TALK="8", __AGENT_TALK="4")
    await wait_calls_done(site.running.controller, [uid], 60)
    deadline = time.monotonic() + 30
    while len(legs := site.running.history.recordings(uid)) < 2:  # caller and agent
        assert time.monotonic() < deadline, legs
        await asyncio.sleep(0.2)
    by_leg = {r.leg: r for r in legs}
    store = site.services.transcripts
    store.save(fixture_transcript(uid, Leg.CALLER, CALLER_WORDS, by_leg[Leg.CALLER].sha256))
    store.save(fixture_transcript(uid, Leg.AGENT, AGENT_WORDS, by_leg[Leg.AGENT].sha256))

    page = await site.signed_in("zhijian01")
    assert page.url.endswith("/audit/search")
    await page.fill('input[name="purpose"]', "GD-2026-0042")
    async with page.expect_navigation():
        await page.click('form[action="/audit/purpose"] button')
    await page.fill('input[name="q"]', "拖欠工资")
    await page.select_option('select[name="leg"]', "rx")
    async with page.expect_navigation():
        await page.click('form[action="/audit/search"] button[type="submit"]')
    hit = page.locator(f'.hits li[data-call="{uid}"]')
    await hit.wait_for(timeout=10_000)
    assert await hit.locator("mark").first.inner_text() in ("拖欠", "拖欠工资")
    assert "13812345678" not in await page.content()  # masked for this auditor
    await page.screenshot(path=str(artifacts / "auditor-search.png"), full_page=True)
    async with page.expect_navigation():
        await hit.locator("a").first.click()
    await page.screenshot(path=str(artifacts / "auditor-call.png"), full_page=True)
    await page.wait_for_selector('audio[data-leg="rx"]', state="attached")
    assert "13812345678" not in await page.content()
    word = page.locator('[data-leg="rx"][data-start="1000"]')
    await word.click()
    await page.wait_for_function(
        """() => { const a = document.querySelector('audio[data-leg="rx"]');
                   return a && !a.paused && a.currentTime >= 1.0; }""",
        timeout=10_000,
    )
    await page.screenshot(path=str(artifacts / "auditor-call.png"), full_page=True)
    # each access is in the hash-chained log, with the purpose
    log = site.services.access_log
    actions = [(e.entry.action, e.entry.purpose) for e in log.entries(user="zhijian01")]
    assert ("search", "GD-2026-0042") in actions
    assert ("show", "GD-2026-0042") in actions
    assert ("play", "GD-2026-0042") in actions
    assert log.verify() is None
