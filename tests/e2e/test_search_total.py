"""The search page in chromium when a total passes the count's cap: "N+ 条结果" and a next
page, on the web app alone (no PBX: the transcripts are written by the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from hotline.host.settings import Settings
from hotline.recordings.leg import Leg
from hotline.stores import transcript_search
from tests.e2e.conftest import served as serving
from tests.integration.webapp import (
    CALLER_WORDS,
    PASSWORD,
    Web,
    close_web,
    fixture_transcript,
    make_web,
)

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def served(
    settings: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Web, str, Browser]]:
    web = await make_web(settings, tmp_path / "h.sqlite3", redis_url)
    try:
        async with serving(web.app) as (url, browser):
            yield web, url, browser
    finally:
        await close_web(web)


async def test_a_capped_total_reads_as_more_with_a_next_page(
    served: tuple[Web, str, Browser], artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web, url, browser = served
    for n in range(25):  # more than a page (20) and than the cap
        web.services.transcripts.save(
            fixture_transcript(f"1799000000.{n}", Leg.CALLER, CALLER_WORDS)
        )
    monkeypatch.setattr(transcript_search, "COUNT_CAP", 21)
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await page.goto(url + "/login")
    await page.fill('input[name="username"]', "zhijian01")
    await page.fill('input[name="password"]', PASSWORD)
    async with page.expect_navigation():
        await page.click('button[type="submit"]')
    await page.fill('input[name="purpose"]', "GD-2026-0042")
    async with page.expect_navigation():
        await page.click('form[action="/audit/purpose"] button')
    await page.fill('input[name="q"]', "拖欠")
    async with page.expect_navigation():
        await page.click('form[action="/audit/search"] button[type="submit"]')
    await page.locator(".hits li").first.wait_for(timeout=10_000)
    assert await page.locator(".hits li").count() == 20
    heading = page.locator("h2", has_text="条结果")
    assert (await heading.inner_text()).strip() == "共 21+ 条结果"
    await page.screenshot(path=str(artifacts / "search-capped-total.png"), full_page=True)
    async with page.expect_navigation():
        await page.click('button:has-text("下一页")')
    assert await page.locator(".hits li").count() == 5  # the rest: exact, past the cap
    assert await page.locator('button:has-text("下一页")').count() == 0
    assert await page.locator('button:has-text("上一页")').count() == 1
