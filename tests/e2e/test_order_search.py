"""An auditor in chromium searches the work orders with their calls: the order's text and
its call's transcript on one page, each saying where it was found, numbers masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.casework.desk import Desk
from hotline.orders.machine import Step
from hotline.orders.model import Action, Actor, OrderType, Side
from hotline.recordings.leg import Leg
from tests.e2e.conftest import Site
from tests.integration.webapp import CALLER_WORDS, fixture_transcript

pytestmark = pytest.mark.asyncio
CALL = "1796000000.31"
PHONE = "13812345678"


async def test_an_auditor_searches_orders_with_their_calls(site: Site, artifacts: Path) -> None:
    store = site.services.orders
    assert store is not None
    desk = Desk(store, site.services.center.orders)
    now = site.services.clock()
    order = desk.create(Actor("wangfang", Side.INTAKE), OrderType.COMPLAINT, "劳动保障",
                        f"工地拖欠工资三个月，电话 {PHONE}", now=now, phone=PHONE,
                        call_id=CALL, place="和平路3号").order  # fmt: skip
    centre, dept = Actor("banzhang01", Side.CENTRE), Actor("lvhua01", Side.DEPARTMENT, "greening")
    desk.dispatch(centre, order.id, "greening", now=now + 1)
    desk.act(dept, order.id, Step(Action.SIGN, dept, now + 2))
    desk.act(dept, order.id, Step(Action.REPLY, dept, now + 3, text="已督促支付拖欠工资",
                                  contact="电话"))  # fmt: skip
    site.services.transcripts.save(fixture_transcript(CALL, Leg.CALLER, CALLER_WORDS))

    page = await site.signed_in("zhijian01")
    await page.fill('input[name="purpose"]', "GD-2026-0042")
    async with page.expect_navigation():
        await page.click('form[action="/audit/purpose"] button')
    await page.fill('input[name="q"]', "拖欠")
    await page.select_option('select[name="scope"]', "orders")
    async with page.expect_navigation():
        await page.click('form[action="/audit/search"] button[type="submit"]')
    hits = page.locator(".order-hits li")
    await hits.first.wait_for(timeout=10_000)
    assert [await h.get_attribute("data-source") for h in await hits.all()] == [
        "order", "transcript"]  # fmt: skip
    assert "诉求内容" in await hits.nth(0).inner_text()  # found in the order's content
    assert CALL in await hits.nth(1).inner_text()
    assert PHONE not in await page.content()
    await page.screenshot(path=str(artifacts / "auditor-order-search.png"), full_page=True)
    async with page.expect_navigation():
        await hits.nth(0).locator(f'a[href="/orders/{order.id}"]').click()
    assert order.id in await page.locator("h1").inner_text()
    log = site.services.access_log
    searched = [e.entry for e in log.entries(user="zhijian01") if e.entry.action == "search"]
    assert [(e.target, e.purpose) for e in searched] == [("拖欠", "GD-2026-0042")]
