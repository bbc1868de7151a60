"""The work orders on the web (issue 18): the agent's, the department's and the centre's
pages, the JSON API with its OpenAPI document, and the signed webhooks, on the real app
(real Redis, a real SQLite file) through the same Desk the CLI uses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx2 as httpx
import pytest
import pytest_asyncio

from hotline.casework.desk import Desk
from hotline.host.settings import Settings
from hotline.orders.machine import Step
from hotline.orders.model import Action, Actor, Side
from hotline.stores.access import AccessLog
from hotline.stores.live import Change
from hotline.web.openapi import PREFIX, document
from hotline.web.roles import Role
from hotline.web.routes import ROUTES
from hotline.web.signing import sign, verify
from tests.integration.webapp import PASSWORD, Web, close_web, csrf, make_web

pytestmark = pytest.mark.asyncio

SECRET = "shared-webhook-secret"


@pytest_asyncio.fixture
async def web(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[Web]:
    app = await make_web(settings, tmp_path / "web.sqlite3", redis_url)
    await app.services.redis.flushdb()
    # the housing bureau's handler (center.yaml: housing: handlers [zhujian01])
    app.services.accounts.add("zhujian01", PASSWORD, now=app.services.clock(),
                              role=Role.DEPARTMENT)  # fmt: skip
    yield app
    await close_web(app)


def order_id_of(html: str) -> str:
    found = re.search(r'id="order-state">', html) and re.search(r"工单 (\d{8}-\d{4})", html)
    assert found, html[:2000]
    return found.group(1)


async def step(client: httpx.AsyncClient, order_id: str, verb: str, **fields: str) -> str:
    """Post a step from the order's page (its own form), the page after it."""
    page = await client.get(f"/orders/{order_id}")
    assert page.status_code == 200, page.text
    assert f'data-verb="{verb}"' in page.text, f"{verb} not offered:\n{page.text}"
    token = await csrf(client)
    r = await client.post(f"/orders/{order_id}/act",
                          data={"csrf": token, "verb": verb, **fields})  # fmt: skip
    assert r.status_code == 303, (r.status_code, r.text)
    after = await client.get(f"/orders/{order_id}")
    return after.text


async def test_the_whole_loop_through_the_pages(web: Web) -> None:
    """An agent takes an order on a live call; the greening bureau signs and returns it; the
    centre accepts the return as 改派 to housing; housing replies and asks to close it; the
    centre refuses once (重办) and then accepts; the 回访 is rated 满意."""
    await web.live.apply([
        Change("agent", "王芳", {"name": "王芳", "status": "talking", "call_id": "1765.42"}),
        Change("call", "1765.42", {"call_id": "1765.42", "caller": "13812345678"}),
        Change("agent", "刘洋", {"name": "刘洋", "status": "talking", "call_id": "1765.99"}),
        Change("call", "1765.99", {"call_id": "1765.99", "caller": "13700000000"}),
    ])  # fmt: skip
    await asyncio.sleep(0.3)  # the hub follows the feed
    async with web.signed_in("wangfang") as agent:
        me = await agent.get("/me")
        assert "1765.42" in me.text
        assert "138****5678" in me.text
        assert "13812345678" not in me.text  # shown masked
        assert (await agent.get("/api/me")).json()["call"] == {
            "id": "1765.42",
            "caller": "138****5678",
        }
        token = await csrf(agent)
        made = await agent.post("/orders", data={
            "csrf": token, "type": "投诉举报", "category": "绿化", "place": "城中路",
            "content": "树枝压电线，电话13812345678", "call_id": "1765.42",
            "phone": "13900000000"})  # fmt: skip
        assert made.status_code == 200, made.text
        order_id = order_id_of(made.text)
        # the citizen's second request on the same call: proposed as a duplicate, merged
        again = await agent.post("/orders", data={
            "csrf": token, "type": "投诉举报", "category": "绿化", "place": "城中路",
            "content": "树枝压电线，电话13812345678", "call_id": "1765.42"})  # fmt: skip
        dup_id = order_id_of(again.text)
        assert f'name="into" value="{order_id}"' in again.text
        merged = await agent.post(f"/orders/{dup_id}/act", data={
            "csrf": token, "verb": "merge", "into": order_id})  # fmt: skip
        assert merged.status_code == 303
        assert 'id="order-state">合并' in (await agent.get(f"/orders/{dup_id}")).text
        # another agent's call (or none) is not hers to link, by the page or the API
        for call_id in ("1765.99", "nope"):
            stolen = await agent.post("/orders", data={
                "csrf": token, "type": "求助", "category": "供水", "content": "停水",
                "call_id": call_id})  # fmt: skip
            assert stolen.status_code == 403, stolen.text
            api = await agent.post("/api/orders", json={
                "type": "求助", "category": "供水", "content": "停水", "call_id": call_id},
                headers={"x-csrf-token": token})  # fmt: skip
            assert api.status_code == 403
        assert "138****5678" in made.text
        assert "13812345678" not in made.text
    async with web.signed_in("banzhang01") as centre:
        page = await step(centre, order_id, "dispatch", to="greening")
        assert "派单" in page
    async with web.signed_in("lvhua01") as greening:
        home = await greening.get("/", follow_redirects=True)
        assert home.url.path == "/department"
        assert order_id in home.text
        await step(greening, order_id, "sign")
        await step(greening, order_id, "return", text="不在管辖范围，属住建")
    async with web.signed_in("banzhang01") as centre:
        page = await step(centre, order_id, "accept", text="确属住建", to="housing")
        assert "to=housing" in page
    async with web.signed_in("lvhua01") as greening:  # no longer theirs: read, not acted on
        page = await greening.get(f"/orders/{order_id}")
        assert page.status_code == 200
        assert 'data-verb="' not in page.text
    async with web.signed_in("zhujian01") as housing:
        await step(housing, order_id, "sign")
        await step(housing, order_id, "reply", text="已上门处理", contact="上门")
        await step(housing, order_id, "finish", text="处理前后照片")
    async with web.signed_in("banzhang01") as centre:
        await step(centre, order_id, "reject", text="依据不充分")
    async with web.signed_in("zhujian01") as housing:
        await step(housing, order_id, "reply", text="已修剪树枝并回复市民", contact="电话")
        await step(housing, order_id, "finish", text="修剪后照片")
    async with web.signed_in("banzhang01") as centre:
        await step(centre, order_id, "accept", text="依据充分")
        page = await step(centre, order_id, "visit", resolved="yes", rating="满意")
        assert 'id="order-state">评价' in page
        # the timeline: every step, in order, from the journal
        actions = re.findall(r"  (create|dispatch|sign|return|accept|reply|finish|reject|visit)"
                             r"  ", page)  # fmt: skip
        assert actions == [
            "create",
            "dispatch",
            "sign",
            "return",
            "accept",
            "sign",
            "reply",
            "finish",
            "reject",
            "reply",
            "finish",
            "accept",
            "visit",
        ]
        listed = await centre.get("/orders", params={"state": "评价"})
        assert order_id in listed.text
    log = AccessLog.open(web.services.settings.db)
    try:
        reads = [x.entry for x in log.entries() if x.entry.action.startswith("order.")]
    finally:
        log.close()
    assert {"wangfang", "banzhang01", "lvhua01", "zhujian01"} <= {e.user for e in reads}
    assert all('"via": "web"' in e.detail for e in reads)


async def create(client: httpx.AsyncClient, **fields: str) -> str:
    token = await csrf(client)
    doc = {"type": "投诉举报", "category": "绿化", "content": "树枝压电线", **fields}
    r = await client.post("/api/orders", json=doc, headers={"x-csrf-token": token})
    assert r.status_code == 201, r.text
    return str(r.json()["order"]["id"])


async def test_hostile_requests_are_refused_clearly(web: Web) -> None:
    async with web.signed_in("banzhang01") as centre:
        order_id = await create(centre)
        token = await csrf(centre)
        r = await centre.post(f"/api/orders/{order_id}/dispatch", json={"to": "housing"},
                              headers={"x-csrf-token": token})  # fmt: skip
        assert r.status_code == 200, r.text
        # malformed JSON, a body that is not an object, a form, an unknown verb, a bad field
        for content, ctype, needle in (
            (b'{"to": ', "application/json", "malformed JSON"),
            (b"[1, 2]", "application/json", "JSON object"),
            (b"to=housing", "application/x-www-form-urlencoded", "expected a JSON body"),
        ):  # fmt: skip
            headers = {"x-csrf-token": token, "content-type": ctype}
            bad = await centre.post(f"/api/orders/{order_id}/urge", content=content,
                                    headers=headers)  # fmt: skip
            assert bad.status_code == 400, bad.text
            assert needle in bad.json()["error"]
        verb = await centre.post(f"/api/orders/{order_id}/delete", json={},
                                 headers={"x-csrf-token": token})  # fmt: skip
        assert verb.status_code == 400
        assert "no step" in verb.json()["error"]
        typed = await centre.post(f"/api/orders/{order_id}/urge", json={"text": 5},
                                  headers={"x-csrf-token": token})  # fmt: skip
        assert typed.status_code == 400
        # a step the state does not allow: 409, with what is allowed
        early = await centre.post(f"/api/orders/{order_id}/visit",
                                  json={"resolved": "yes", "rating": "满意"},
                                  headers={"x-csrf-token": token})  # fmt: skip
        assert early.status_code == 409
        assert "visit" in early.json()["error"]
        # no CSRF token: refused before the handler
        nocsrf = await centre.post(f"/api/orders/{order_id}/urge", json={"text": "快"})
        assert nocsrf.status_code == 403
        wrong = await centre.post(f"/api/orders/{order_id}/urge", json={"text": "快"},
                                  headers={"x-csrf-token": "forged"})  # fmt: skip
        assert wrong.status_code == 403
        bad_state = await centre.get("/api/orders", params={"state": "nope"})
        assert bad_state.status_code == 400
    async with web.signed_in("lvhua01") as greening:  # housing's order: not there for them
        token = await csrf(greening)
        assert (await greening.get(f"/api/orders/{order_id}")).status_code == 404
        assert (await greening.get(f"/orders/{order_id}")).status_code == 404
        sign = await greening.post(f"/api/orders/{order_id}/sign", json={},
                                   headers={"x-csrf-token": token})  # fmt: skip
        assert sign.status_code == 404
        form = await greening.post(f"/orders/{order_id}/act", data={"csrf": token, "verb": "sign"})
        assert form.status_code == 404
        unsigned = await greening.post(f"/orders/{order_id}/act", data={"verb": "sign"})
        assert unsigned.status_code == 403  # no CSRF token
        assert order_id not in (await greening.get("/department")).text
        assert (await greening.get("/api/orders")).json()["orders"] == []
        # a department does not take orders, nor reads the centre's list
        made = await greening.post("/api/orders", json={}, headers={"x-csrf-token": token})
        assert made.status_code == 403
        assert (await greening.get("/orders")).status_code == 403
    async with web.signed_in("zhujian01") as housing:
        token = await csrf(housing)
        ok = await housing.post(f"/api/orders/{order_id}/sign", json={},
                                headers={"x-csrf-token": token})  # fmt: skip
        assert ok.status_code == 200
        assert ok.json()["order"]["state"] == "签收"
    async with web.signed_in("jijian01") as auditor:  # reads, never acts
        token = await csrf(auditor)
        await auditor.post("/audit/purpose", data={"csrf": token, "purpose": "GD-2026-7"})
        assert (await auditor.get(f"/api/orders/{order_id}")).status_code == 200
        [read] = [x.entry for x in web.services.access_log.entries(user="jijian01")]
        assert (read.action, read.target, read.purpose) == ("order.show", order_id, "GD-2026-7")
        acts = await auditor.post(f"/api/orders/{order_id}/urge", json={"text": "x"},
                                  headers={"x-csrf-token": token})  # fmt: skip
        assert acts.status_code == 403
    async with web.signed_in("admin") as admin:  # accounts only
        assert (await admin.get("/api/orders")).status_code == 403


async def test_the_api_reads_and_the_openapi_document(web: Web) -> None:
    doc = document(ROUTES)
    assert doc["openapi"].startswith("3.")
    api = {(r.path, m.lower()) for r in ROUTES if r.path.startswith(PREFIX) for m in r.methods}
    listed = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert api == listed
    assert len(api) == 4
    async with web.signed_in("wangfang") as agent:
        served = await agent.get("/api/openapi.json")
        assert served.status_code == 200
        assert json.loads(served.text)["paths"].keys() == doc["paths"].keys()
        first = await create(agent, phone="13812345678", place="城中路")
        dup = await agent.post("/api/orders", json={
            "type": "投诉举报", "category": "绿化", "content": "城中路树枝压电线",
            "phone": "13812345678"}, headers={"x-csrf-token": await csrf(agent)})  # fmt: skip
        assert [d["order"] for d in dup.json()["duplicates"]] == [first]
        read = (await agent.get(f"/api/orders/{first}")).json()
        assert read["order"]["callers"][0]["phone"] == "138****5678"
        assert [e["action"] for e in read["timeline"]] == ["create"]
        consult = await agent.post("/api/orders", json={
            "type": "咨询", "category": "社保", "content": "社保卡怎么补办",
            "answer": "带身份证到社保中心补办"},
            headers={"x-csrf-token": await csrf(agent)})  # fmt: skip
        assert consult.json()["order"]["state"] == "办结"  # 直接办结
        not_a_consult = await agent.post("/api/orders", json={
            "type": "求助", "category": "供水", "content": "停水三天", "answer": "已答复"},
            headers={"x-csrf-token": await csrf(agent)})  # fmt: skip
        assert not_a_consult.status_code == 409
        assert "was taken (受理) but not closed" in not_a_consult.json()["error"]
        listed_ids = [o["id"] for o in (await agent.get("/api/orders")).json()["orders"]]
        assert first in listed_ids
        assert len(listed_ids) == 4


async def test_report_findings_and_csv(web: Web) -> None:
    async with web.signed_in("banzhang01") as centre:
        order_id = await create(centre)
        token = await csrf(centre)
        h = {"x-csrf-token": token}
        await centre.post(f"/api/orders/{order_id}/dispatch", json={"to": "greening"}, headers=h)
    for _ in range(2):  # returned twice: the `returns` finding
        async with web.signed_in("lvhua01") as greening:
            r = await greening.post(f"/api/orders/{order_id}/return", json={"text": "不在管辖范围"},
                                    headers={"x-csrf-token": await csrf(greening)})  # fmt: skip
            assert r.status_code == 200, r.text
        async with web.signed_in("banzhang01") as centre:
            r = await centre.post(f"/api/orders/{order_id}/reject", json={"text": "属你单位"},
                                  headers={"x-csrf-token": await csrf(centre)})  # fmt: skip
            assert r.status_code == 200, r.text
    month = time.strftime("%Y-%m", time.gmtime(web.services.clock() / 1000 + 8 * 3600))
    async with web.signed_in("jijian01") as auditor:
        found = await auditor.get("/orders/findings")
        assert "returns" in found.text
        assert order_id in found.text
        report = await auditor.get("/orders/report", params={"month": month})
        assert report.status_code == 200
        assert "绿化市容局" in report.text
        assert order_id in report.text  # each figure explained order by order
        csv = await auditor.get("/orders/report.csv", params={"month": month})
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0].startswith("department,name,received")
        assert any(line.startswith("greening,绿化市容局,1,") for line in lines), lines
        assert (await auditor.get("/orders/report", params={"month": "2026-13"})).status_code == 400
    async with web.signed_in("wangfang") as agent:  # the report is the centre's and auditors'
        assert (await agent.get("/orders/report")).status_code == 403


class Receiver(BaseHTTPRequestHandler):
    """A provincial platform's webhook receiver: checks each request's signature."""

    secret = SECRET
    got: ClassVar[list[dict[str, object]]] = []
    refused: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        why = verify(self.secret, body, dict(self.headers), now=int(time.time()))
        if why is not None:
            self.refused.append(why)
            self.send_response(401)
        else:
            self.got.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    Receiver.got, Receiver.refused = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def received(count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(Receiver.got) + len(Receiver.refused) < count:
        assert time.monotonic() < deadline, (Receiver.got, Receiver.refused)
        await asyncio.sleep(0.05)


async def test_state_changes_reach_the_platform_signed(
    settings: Settings, redis_url: str, tmp_path: Path, receiver: ThreadingHTTPServer
) -> None:
    """Every step in the journal, from the pages, the API or the CLI's Desk, is POSTed in
    order and signed; a receiver with another secret refuses it, and it is retried."""
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    web = await make_web(settings, tmp_path / "web.sqlite3", redis_url,
                         orders_webhook_url=url, orders_webhook_secret=SECRET)  # fmt: skip
    hooks, store = web.services.webhooks, web.services.orders
    assert hooks is not None
    assert store is not None
    hooks.interval, hooks.pause = 0.05, 0.05
    async with web.signed_in("banzhang01") as centre:
        before = await create(centre)  # in the journal before the follower starts: not sent
    following = asyncio.create_task(hooks.follow(store))
    try:
        await asyncio.sleep(0.2)
        async with web.signed_in("banzhang01") as centre:
            order_id = await create(centre, phone="13812345678")
            await centre.post(f"/api/orders/{order_id}/dispatch", json={"to": "greening"},
                              headers={"x-csrf-token": await csrf(centre)})  # fmt: skip
        # a step taken the CLI's way: the Desk on the same database, no web request
        desk = Desk(store, web.services.center.orders)
        desk.act(Actor("lvhua01", Side.DEPARTMENT, "greening"), order_id,
                 Step(Action.SIGN, Actor("lvhua01", Side.DEPARTMENT, "greening"),
                      web.services.clock()))  # fmt: skip
        await received(3)
        got = [(g["action"], g["order"]["id"], g["order"]["state"]) for g in Receiver.got]  # type: ignore[index]
        assert got == [("create", order_id, "受理"), ("dispatch", order_id, "派单"),
                       ("sign", order_id, "签收")]  # fmt: skip
        assert before not in json.dumps(Receiver.got)
        assert "13812345678" not in json.dumps(Receiver.got, ensure_ascii=False)
        assert Receiver.refused == []
        # the platform's secret no longer matches: refused, retried, then kept as failed
        hooks.secret = "an-old-secret"
        async with web.signed_in("lvhua01") as greening:
            r = await greening.post(f"/api/orders/{order_id}/reply",
                                    json={"text": "已处理", "contact": "电话"},
                                    headers={"x-csrf-token": await csrf(greening)})  # fmt: skip
            assert r.status_code == 200  # the step is taken whatever the platform says
        await received(3 + 4)
        await hooks.drain()
        assert Receiver.refused == ["the signature does not match the body"] * 4
        assert [f["why"] for f in hooks.failed] == ["HTTP 401"]
        assert len(Receiver.got) == 3
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await close_web(web)


async def test_the_app_follows_the_journal_while_it_runs(
    settings: Settings, redis_url: str, tmp_path: Path, receiver: ThreadingHTTPServer
) -> None:
    """The web's lifespan starts the webhooks' follower and stops it (ASGI lifespan driven
    by hand, as uvicorn does)."""
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    web = await make_web(settings, tmp_path / "web.sqlite3", redis_url,
                         orders_webhook_url=url, orders_webhook_secret=SECRET)  # fmt: skip
    inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    running = asyncio.create_task(web.app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    try:
        await inbox.put({"type": "lifespan.startup"})
        assert (await outbox.get())["type"] == "lifespan.startup.complete"
        assert "webhooks" in {t.get_name() for t in asyncio.all_tasks()}
        async with web.signed_in("wangfang") as agent:
            order_id = await create(agent)
        await received(1)
        assert Receiver.got[0]["order"]["id"] == order_id  # type: ignore[index]
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await running
        assert "webhooks" not in {t.get_name() for t in asyncio.all_tasks()}
    finally:
        await close_web(web)


async def test_signatures_cover_the_body_and_the_time() -> None:
    body = b'{"order": 1}'
    headers = sign(SECRET, body, t=1_800_000_000)
    assert verify(SECRET, body, headers, now=1_800_000_010) is None
    assert verify(SECRET, body + b" ", headers, now=1_800_000_010) is not None
    assert verify("other", body, headers, now=1_800_000_010) is not None
    assert "timestamp" in (verify(SECRET, body, headers, now=1_800_001_000) or "")
    assert verify(SECRET, body, {}, now=1_800_000_000) == "no timestamp or no signature"


async def test_the_department_sees_deadlines_and_the_overdue_marked(web: Web) -> None:
    real = web.services.clock
    async with web.signed_in("banzhang01") as centre:
        fresh = await create(centre, content="树枝压电线，电话13812345678")
        await centre.post(f"/api/orders/{fresh}/dispatch", json={"to": "greening"},
                          headers={"x-csrf-token": await csrf(centre)})  # fmt: skip
        web.services.clock = lambda: real() - 30 * 86_400_000  # taken a month ago
        old = await create(centre, content="路灯不亮")
        await centre.post(f"/api/orders/{old}/dispatch", json={"to": "greening"},
                          headers={"x-csrf-token": await csrf(centre)})  # fmt: skip
        web.services.clock = real
    async with web.signed_in("lvhua01") as greening:
        page = await greening.get("/department")
        found = re.findall(r'<tr class="([^"]*)" data-order="([^"]+)">', page.text)
        marks = {order: cls for cls, order in found}
        assert marks == {fresh: "", old: "overdue"}, page.text
        assert page.text.count("已超期") == 1
        assert "138****5678" in page.text
        assert "13812345678" not in page.text


async def test_every_order_page_speaks_both_languages(web: Web) -> None:
    """No text key is left untranslated on the order pages (a missing one shows as its key)."""
    raw_key = re.compile(r"\b(?:orders|dept|verb|text|nav)\.[a-z_-]+\b")
    async with web.signed_in("banzhang01") as centre:
        order_id = await create(centre)
        for lang in ("zh", "en"):
            await centre.post("/lang", data={"csrf": await csrf(centre), "lang": lang,
                                             "back": "/orders"})  # fmt: skip
            for path in ("/orders", f"/orders/{order_id}", "/orders/findings", "/orders/report"):
                page = await centre.get(path)
                assert page.status_code == 200, (path, page.text)
                assert raw_key.findall(page.text) == [], (lang, path)
            english = "Dispatch" in (await centre.get(f"/orders/{order_id}")).text
            assert english is (lang == "en")
    async with web.signed_in("lvhua01") as greening:
        page = await greening.get("/department")
        assert raw_key.findall(page.text) == []
    async with web.signed_in("wangfang") as agent:
        page = await agent.get("/me")
        shown = re.sub(r'<script type="application/json" id="labels">.*?</script>', "",
                       page.text, flags=re.S)  # the script's own keys  # fmt: skip
        assert "新建工单" in shown
        assert raw_key.findall(shown) == []
