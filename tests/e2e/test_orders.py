"""A work order's whole loop in chromium on the real PBX (issue 18): an agent on a real
call takes the order on her page; the greening bureau signs and returns it; the centre
accepts the return as 改派 to housing; housing replies and asks to close; the centre
refuses once (重办), then accepts; the 回访 is rated 满意."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Page

from hotline.ami.client import AMIClient
from hotline.web.roles import Role
from tests.e2e.conftest import Site
from tests.integration import bed
from tests.integration.test_ivr_calls import dial
from tests.integration.webapp import PASSWORD

pytestmark = pytest.mark.asyncio

SELECTS = ("to", "resolved", "rating")


async def act(page: Page, verb: str, **fields: str) -> None:
    """Use the order page's own form for VERB (it is there only when the step is allowed)."""
    form = page.locator(f'form.act[data-verb="{verb}"]')
    await form.wait_for(timeout=5_000)
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if name in SELECTS:
            await field.select_option(value)
        else:
            await field.fill(value)
    async with page.expect_navigation():
        await form.locator('button[type="submit"]').click()
    state = await page.locator("#order-state").inner_text()
    print(f"{verb}: {state}")


async def test_an_order_from_a_call_bounces_is_redone_closed_and_rated(
    site: Site, ami: AMIClient, artifacts: Path
) -> None:
    site.services.accounts.add("zhujian01", PASSWORD, now=site.services.clock(),
                               role=Role.DEPARTMENT)  # fmt: skip
    # 王芳 answers in the labour queue on a simulated phone that talks 40 s
    await ami.action("QueueAdd", {"Queue": "labour", "Interface": bed.member("1001"),
                                  "MemberName": "王芳", "Paused": "false"})  # fmt: skip
    agent = await site.signed_in("wangfang", 1280, 900)
    assert agent.url.endswith("/me")
    uid = await dial(ami, "1-3-1", caller="13812345678", TALK="60", __AGENT_TALK="40")
    on_call = agent.locator('#on-call:not([data-call=""])')
    await on_call.wait_for(timeout=30_000)
    call_id = await on_call.get_attribute("data-call")
    assert call_id
    shown = await on_call.inner_text()
    assert "138****5678" in shown, shown
    assert "13812345678" not in await agent.content()
    await agent.select_option('#order-form select[name="type"]', "投诉举报")
    await agent.fill('#order-form input[name="category"]', "绿化")
    await agent.fill('#order-form input[name="place"]', "城中路12号")
    await agent.fill(
        '#order-form textarea[name="content"]', "城中路12号门口树枝压住电线，存在安全隐患"
    )
    await agent.screenshot(path=str(artifacts / "orders-agent-form.png"), full_page=True)
    async with agent.expect_navigation():
        await agent.click('#order-form button[type="submit"]')
    await agent.locator("#created").wait_for(timeout=5_000)
    assert await agent.locator('form.act[data-verb="close-on-spot"]').count() == 0  # a complaint
    heading = await agent.locator("h1").first.inner_text()
    found = re.search(r"\d{8}-\d{4}", heading)
    assert found, heading
    order_id = found.group(0)
    facts = await agent.locator("pre.facts").inner_text()
    assert call_id in facts
    assert "138****5678" in facts
    await agent.screenshot(path=str(artifacts / "orders-created.png"), full_page=True)
    order_url = f"{site.url}/orders/{order_id}"

    centre = await site.signed_in("banzhang01")
    await centre.goto(order_url)
    await act(centre, "dispatch", to="greening")

    greening = await site.signed_in("lvhua01", 1280, 900)
    assert greening.url.endswith("/department")
    row = greening.locator(f'tr[data-order="{order_id}"]')
    await row.wait_for(timeout=5_000)
    await greening.screenshot(path=str(artifacts / "orders-department.png"), full_page=True)
    async with greening.expect_navigation():
        await row.locator("a").click()
    await act(greening, "sign")
    await act(greening, "return", text="不在我局管辖范围，属住建部门")
    assert await greening.locator('form.act[data-verb="finish"]').count() == 0

    await centre.goto(order_url)
    await act(centre, "accept", text="确属住建", to="housing")

    housing = await site.signed_in("zhujian01", 1280, 900)
    await housing.goto(order_url)
    await act(housing, "sign")
    await act(housing, "reply", text="已派人上门查看", contact="上门")
    await act(housing, "finish", text="现场照片")

    await centre.goto(order_url)
    await act(centre, "reject", text="依据不充分：未见修剪")

    await housing.goto(order_url)
    await act(housing, "reply", text="已修剪树枝并电话告知市民", contact="电话")
    await act(housing, "finish", text="修剪前后照片两张")

    await centre.goto(order_url)
    await act(centre, "accept", text="依据充分")
    await act(centre, "visit", resolved="yes", rating="满意")
    assert await centre.locator("#order-state").inner_text() == "评价"
    timeline = await centre.locator("#timeline").inner_text()
    for word in ("create", "dispatch", "return", "to=housing", "reject", "rating=满意"):
        assert word in timeline, timeline
    await centre.screenshot(path=str(artifacts / "orders-centre-order.png"), full_page=True)
    month = time.strftime("%Y-%m", time.gmtime(time.time() + 8 * 3600))
    await centre.goto(f"{site.url}/orders/report?month={month}")
    assert "住建局" in await centre.locator("table.report").inner_text()
    await centre.screenshot(path=str(artifacts / "orders-report.png"), full_page=True)
    await centre.goto(f"{site.url}/orders")
    await centre.screenshot(path=str(artifacts / "orders-list.png"), full_page=True)
    assert uid  # the call the order came from
    for page in (agent, centre, greening, housing):
        await page.context.close()
