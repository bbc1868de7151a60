"""The auditor's search page over the work orders and their calls, in process on real
SQLite: the order's text and its linked call's transcript found together, each saying
where; the purpose rule, masking, unmasking and the access log as for transcripts."""

from __future__ import annotations

import json

import pytest

from hotline.casework.desk import Desk
from hotline.orders.model import Actor, OrderType, Side
from tests.integration.test_web_audit import CALL, PHONE, web, with_purpose  # noqa: F401
from tests.integration.webapp import Web, csrf

pytestmark = pytest.mark.asyncio


def an_order(web: Web) -> str:  # noqa: F811
    store = web.services.orders
    assert store is not None
    desk = Desk(store, web.services.center.orders)
    made = desk.create(Actor("wangfang", Side.INTAKE), OrderType.COMPLAINT, "劳动保障",
                       "工地拖欠工资三个月，电话 13812345678", now=web.services.clock(),
                       phone=PHONE, call_id=CALL, place="和平路3号")  # fmt: skip
    return made.order.id


async def test_orders_and_their_calls_are_found_together(web: Web) -> None:  # noqa: F811
    order = an_order(web)
    async with web.signed_in("zhijian01") as client:
        token = await csrf(client)
        data = {"csrf": token, "q": "拖欠", "scope": "orders"}
        refused = await client.post("/audit/search", data=data)
        assert refused.status_code == 428  # no purpose yet
        await with_purpose(client)
        page = await client.post("/audit/search", data=data)
        assert page.status_code == 200, page.text
        filtered = await client.post("/audit/search", data={**data, "agent": "1001"})
        assert filtered.status_code == 400
        assert "只用于检索通话" in filtered.text
        guess = await client.post("/audit/search", data={**data, "q": "12345678"})
        assert guess.status_code == 403  # digits against the unmasked text: an unmask
    assert f'data-source="order" data-orders="{order}"' in page.text
    assert f'data-source="transcript" data-orders="{order}" data-call="{CALL}"' in page.text
    assert "工单 1 条，关联通话转写 1 条" in page.text
    assert page.text.count("<mark>拖欠</mark>") == 2
    assert PHONE not in page.text  # neither the order's content nor the call's words
    assert "138****5678" in page.text
    log = web.services.access_log.entries(user="zhijian01")
    assert [(e.entry.action, e.entry.target, e.entry.purpose) for e in log] == [
        ("search", "拖欠", "GD-2026-0042")
    ]
    detail = json.loads(log[0].entry.detail)
    assert detail["scope"] == "orders"
    assert (detail["orders"], detail["calls"]) == ([order], [CALL])
    assert detail["hits"] == {"orders": 1, "transcripts": 1}


async def test_an_auditor_who_may_unmask_sees_the_numbers(web: Web) -> None:  # noqa: F811
    an_order(web)
    async with web.signed_in("jijian01") as client:
        token = await with_purpose(client, "JJ-2026-9")
        data = {"csrf": token, "q": "电话", "scope": "orders", "unmask": "1"}
        shown = await client.post("/audit/search", data=data)
        assert shown.status_code == 200
    assert shown.text.count(PHONE) >= 2  # the order's and the call's
    log = web.services.access_log.entries(user="jijian01")
    assert [(e.entry.action, e.entry.purpose) for e in log] == [("unmask", "JJ-2026-9")]


async def test_only_auditors_search(web: Web) -> None:  # noqa: F811
    async with web.signed_in("banzhang01") as client:
        token = await csrf(client)
        r = await client.post("/audit/search", data={"csrf": token, "q": "拖欠",
                                                     "scope": "orders"})  # fmt: skip
    assert r.status_code == 403
