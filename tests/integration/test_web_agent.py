"""The agent's page, issue 19: the recall task offered to a ready agent with its preview,
回拨 and 已联系; the knowledge base's answers proposed on a call and 使用. On the real app
(real Redis, a real SQLite file), the recall list and the knowledge base in that file."""

from __future__ import annotations

import asyncio

import pytest

from hotline.casework.desk import Desk
from hotline.commands.plan import Verb
from hotline.core.records import EndReason
from hotline.kb.model import Content
from hotline.orders.model import Actor, OrderType, Side
from hotline.recall.tasks import Outcome, State
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.kb import KbStore
from hotline.stores.live import Change
from hotline.stores.orders import OrderStore
from hotline.stores.recall import RecallStore
from tests.integration.test_web import Controller
from tests.integration.webapp import Web, csrf, fixture_transcript
from tests.unit.recall.scene import call

pytestmark = pytest.mark.asyncio

A, B = "13800000001", "13900000002"  # a labour caller (王芳's queue); a property caller (not)
MINUTE = 60_000


def missed_calls(web: Web) -> dict[str, int]:
    """A's two calls (one answered a week ago, one given up in labour 10 minutes ago), B's
    miss in property; an open order of A's: synced into the recall list. Task ids by number."""
    now = web.services.clock()
    web.services.history.save_calls([
        call("old-a", A, now - 7 * 24 * 60 * MINUTE, 8_000, EndReason.ANSWERED, answered=True,
             queue="labour"),
        call("miss-a", A, now - 10 * MINUTE, 90_000, EndReason.ABANDONED_IN_QUEUE, queue="labour"),
        call("miss-b", B, now - 9 * MINUTE, 90_000, EndReason.TIMEOUT, queue="property"),
    ])  # fmt: skip
    orders = OrderStore.open(web.services.settings.db)
    try:
        Desk(orders, web.services.center.orders).create(
            Actor("banzhang01", Side.CENTRE), OrderType.HELP, "欠薪", "工地拖欠三个月工资",
            now=now - 7 * 24 * 60 * MINUTE, phone=A)  # fmt: skip
    finally:
        orders.close()
    store = RecallStore.open(web.services.settings.db)
    try:
        store.sync(web.services.history, web.services.center.recall, now)
        return {t.number: t.id for t in store.tasks(State.OPEN)}
    finally:
        store.close()


async def live(web: Web, *changes: Change) -> None:
    await web.live.apply(list(changes))
    await asyncio.sleep(0.3)  # the hub follows the feed


def ready(status: str = "ready", call_id: str = "") -> Change:
    return Change("agent", "王芳", {"name": "王芳", "status": status, "call_id": call_id})


def accesses(web: Web, action: str) -> list[tuple[str, str, str]]:
    log = AccessLog.open(web.services.settings.db)
    try:
        return [(e.user, e.role, e.target) for e in (x.entry for x in log.entries(action=action))]
    finally:
        log.close()


async def test_a_ready_agent_is_offered_a_task_of_her_queues_with_its_preview(web: Web) -> None:
    tasks = missed_calls(web)
    await live(web, ready())
    async with web.signed_in("wangfang") as agent:
        offered = (await agent.get("/api/me")).json()["offer"]
        assert offered == {"task": tasks[A], "why": ""}  # B's task is property's: never hers
        assert accesses(web, "recall preview") == []  # the poll reads no citizen's data
        card = await agent.get("/me/recall")
        assert card.status_code == 200
        html = card.text
        assert f'data-task="{tasks[A]}"' in html
        assert "138****0001" in html
        assert A not in html  # the number is never shown whole
        assert "排队中挂断" in html
        assert "已接通" in html  # the call a week ago
        assert "工地拖欠三个月工资" in html  # the open order
        assert 'data-recall="dial"' in html
        assert 'data-recall="done"' in html
        assert accesses(web, "recall preview") == [("wangfang", "agent", f"recall:{tasks[A]}")]
        # a labour caller waiting past the service level (15 s): answer them first
        now = web.services.clock()
        await live(web, Change("queue", "labour", {"name": "labour", "waiting": [
            {"uniqueid": "w1", "since": now - 40_000, "caller": "13700000000"}]}))  # fmt: skip
        held = (await agent.get("/api/me")).json()["offer"]
        assert held == {"task": None, "why": "callers_waiting"}
        assert "先接来电" in (await agent.get("/me/recall")).text
        await live(web, Change("queue", "labour", {"name": "labour", "waiting": []}))
        assert (await agent.get("/api/me")).json()["offer"]["task"] == tasks[A]
        # on a call: nothing offered, nothing read
        await live(web, ready("talking", "c1"))
        assert (await agent.get("/api/me")).json()["offer"] == {"task": None, "why": "not_ready"}
        assert 'data-recall="dial"' not in (await agent.get("/me/recall")).text
        assert len(accesses(web, "recall preview")) == 1
        # the page itself: the two cards, in English too
        page = await agent.get("/me")
        assert 'id="recall"' in page.text
        assert 'id="kb"' in page.text
        token = await csrf(agent)
        await agent.post("/lang", data={"csrf": token, "lang": "en"})
        await live(web, ready())
        assert "Call back" in (await agent.get("/me/recall")).text


async def test_dial_sends_the_cli_s_command_and_done_closes_the_task(web: Web) -> None:
    tasks = missed_calls(web)
    await live(web, ready())
    async with Controller(web) as controller, web.signed_in("wangfang") as agent:
        token = await csrf(agent)
        dialled = await agent.post("/me/recall/dial", data={"csrf": token, "task": tasks[A]})
        assert dialled.status_code == 200, dialled.text
        assert dialled.json() == {"ok": True, "message": "recall done"}
        # hostile: not her queue's task, no such task, not a number, no CSRF token
        for task, status in ((tasks[B], 404), (999_999, 404), ("x", 400), ("", 400),
                             ("1e3", 400), ("-1", 400), ("9" * 40, 400)):  # fmt: skip
            for verb in ("dial", "done"):
                r = await agent.post(f"/me/recall/{verb}", data={"csrf": token, "task": task})
                assert r.status_code == status, (verb, task, r.status_code, r.text)
        assert "139****0002" not in (await agent.post(
            "/me/recall/dial", data={"csrf": token, "task": tasks[B]})).text  # fmt: skip
        forged = await agent.post("/me/recall/dial", data={"task": tasks[A]})
        assert forged.status_code == 403
        done = await agent.post("/me/recall/done", data={"csrf": token, "task": tasks[A]})
        assert done.status_code == 200, done.text
        again = await agent.post("/me/recall/done", data={"csrf": token, "task": tasks[A]})
        assert again.status_code == 409
        late = await agent.post("/me/recall/dial", data={"csrf": token, "task": tasks[A]})
        assert late.status_code == 409
        assert (await agent.get("/api/me")).json()["offer"] == {"task": None, "why": "none_due"}
    [sent] = controller.got  # the refused requests never reached the controller
    assert (sent.verb, sent.agent, sent.actor, sent.task) == (
        Verb.RECALL, "1001", "wangfang", str(tasks[A]))  # fmt: skip
    store = RecallStore.open(web.services.settings.db)
    try:
        closed = store.task(tasks[A])
        untouched = store.task(tasks[B])
    finally:
        store.close()
    assert closed is not None
    assert (closed.state, closed.outcome, closed.closed_by) == (State.DONE, Outcome.BY_HAND, "王芳")
    assert untouched is not None
    assert untouched.open
    # a supervisor has no agent's page: refused by the route table
    async with web.signed_in("banzhang01") as centre:
        token = await csrf(centre)
        r = await centre.post("/me/recall/dial", data={"csrf": token, "task": tasks[B]})
        assert r.status_code == 403
        assert (await centre.get("/me/recall")).status_code == 403


async def test_answers_are_proposed_on_her_call_and_used_as_her(web: Web) -> None:
    now = web.services.clock()
    kb = KbStore.open(web.services.settings.db)
    try:
        wages = kb.add(
            Content("欠薪", "农民工工资被拖欠怎么办", "可向劳动监察大队投诉，电话12333。",
                    tags=("欠薪",), serves=("unpaid-wages",)),
            user="banzhang01", t=now,
        )  # fmt: skip
        water = kb.add(Content("供水", "停水怎么办", "请拨打自来水公司热线。"),
                       user="banzhang01", t=now)  # fmt: skip
    finally:
        kb.close()
    web.services.transcripts.save(fixture_transcript("c1", Leg.CALLER, [
        ("老板", 0, 500), ("拖欠", 500, 900), ("工资", 900, 1300)]))  # fmt: skip
    async with web.signed_in("wangfang") as agent:
        token = await csrf(agent)
        idle = await agent.get("/me/kb")
        assert "通话时按来电推荐答案" in idle.text
        assert accesses(web, "kb propose") == []
        await live(
            web,
            ready("talking", "c1"),
            Change("call", "c1", {"call_id": "c1", "caller": A, "ivr_path": "main:2>labour",
                                  "tag": "unpaid-wages"}),
            Change("agent", "刘洋", {"name": "刘洋", "status": "talking", "call_id": "c2"}),
            Change("call", "c2", {"call_id": "c2", "caller": B}),
        )  # fmt: skip
        card = await agent.get("/me/kb")
        assert card.status_code == 200
        assert "农民工工资被拖欠怎么办" in card.text
        assert "劳动监察大队" in card.text
        assert "tag unpaid-wages" in card.text
        assert "已转写" in card.text
        assert "停水怎么办" not in card.text  # neither the IVR nor a word points to it
        assert A not in card.text
        assert f'data-kb-use="{wages.id}"' in card.text
        assert accesses(web, "kb propose") == [("wangfang", "agent", "c1")]
        used = await agent.post("/me/kb/use", data={
            "csrf": token, "answer": wages.id, "version": 1, "call": "c1"})  # fmt: skip
        assert used.status_code == 200, used.text
        # hostile: another agent's call, no call, no such answer or version, not numbers
        for form, status in (
            ({"answer": water.id, "call": "c2"}, 403),
            ({"answer": water.id, "call": "nope"}, 403),
            ({"answer": water.id}, 400),
            ({"answer": 999, "call": "c1"}, 404),
            ({"answer": wages.id, "version": 7, "call": "c1"}, 404),
            ({"answer": "1; DROP TABLE kb_links", "call": "c1"}, 400),
            ({"answer": wages.id, "version": "-1", "call": "c1"}, 400),
        ):
            r = await agent.post("/me/kb/use", data={"csrf": token, **form})
            assert r.status_code == status, (form, r.status_code, r.text)
    kb = KbStore.open(web.services.settings.db)
    try:
        links = kb.links()
    finally:
        kb.close()
    assert [(k.answer, k.version, k.kind, k.target, k.user) for k in links] == [
        (wages.id, 1, "call", "c1", "wangfang")]  # fmt: skip
