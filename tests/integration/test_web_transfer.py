"""The agent's transfer card (issue 20): the call is the one the live feed has the agent on,
never the browser's; the target and the mode go to the controller as ``hotline transfer``
sends them. On the real app (real Redis, a real SQLite file)."""

from __future__ import annotations

import json

import pytest

from hotline.commands.plan import Verb
from hotline.stores.live import Change
from tests.integration.test_web import Controller
from tests.integration.test_web_agent import live, ready
from tests.integration.webapp import Web, csrf

pytestmark = pytest.mark.asyncio


async def test_an_agent_transfers_the_call_she_is_on(web: Web) -> None:
    await live(web, ready("talking", "1795.42"))
    async with Controller(web) as controller, web.signed_in("wangfang") as client:
        page = await client.get("/me")
        assert page.status_code == 200
        assert 'id="transfer"' in page.text
        assert '<option value="property">' in page.text  # a queue of the flow
        assert '<option value="1002">' in page.text  # another agent
        assert '<option value="1001">' not in page.text  # not herself
        assert '<option value="housing">' in page.text  # a department with a duty number
        assert '<option value="realty">' not in page.text  # one without
        token = await csrf(client)
        r = await client.post(
            "/me/transfer",
            data={"csrf": token, "to": "housing", "mode": "conference", "call": "other.1"},
        )
        assert r.status_code == 200, r.text
        done = await client.post("/me/transfer", data={"csrf": token, "mode": "complete"})
        assert done.status_code == 200, done.text
        bad = await client.post("/me/transfer", data={"csrf": token, "to": "x", "mode": "hop"})
        assert bad.status_code == 400
        nowhere = await client.post("/me/transfer", data={"csrf": token, "mode": "blind"})
        assert nowhere.status_code == 400
    first, second = controller.got
    assert (first.verb, first.agent, first.call, first.target, first.mode) == (
        Verb.TRANSFER, "王芳", "1795.42", "housing", "conference")  # fmt: skip
    assert first.actor == "wangfang"
    assert (second.mode, second.call, second.target) == ("complete", "1795.42", "")


async def test_no_call_no_transfer_and_a_supervisor_has_no_transfer_card(web: Web) -> None:
    await live(web, ready())
    async with Controller(web) as controller, web.signed_in("wangfang") as client:
        token = await csrf(client)
        r = await client.post("/me/transfer", data={"csrf": token, "to": "property"})
        assert r.status_code == 400
        assert "没有通话" in r.text
    assert controller.got == []
    async with web.signed_in("banzhang01") as boss:
        token = await csrf(boss)
        refused = await boss.post("/me/transfer", data={"csrf": token, "to": "property"})
        assert refused.status_code == 403


async def test_a_supervisor_transfers_an_agents_call_from_the_wallboard(web: Web) -> None:
    """The wallboard's 转接至… on a talking agent's row: the call is the one the live feed
    has her on; only a supervisor of her team; the target one of the centre's."""
    other = Change("agent", "刘洋", {"name": "刘洋", "status": "talking", "call_id": "1795.7"})
    await live(web, ready("talking", "1795.42"), other)
    async with Controller(web) as controller, web.signed_in("banzhang01") as boss:
        board = await boss.get("/wallboard")
        assert board.status_code == 200
        meta = json.loads(
            board.text.split('id="meta"', 1)[1].split(">", 1)[1].split("</script>")[0]
        )
        targets = dict(meta["transfer"])
        assert {"property", "1002", "housing"} <= set(targets), targets
        assert "realty" not in targets  # no duty number: cannot be reached
        token = await csrf(boss)
        r = await boss.post("/supervisor/transfer",
                            data={"csrf": token, "agent": "王芳", "to": "property",
                                  "call": "forged.1"})  # fmt: skip
        assert r.status_code == 200, r.text
        for form, status in (
            ({"agent": "刘洋", "to": "property"}, 403),  # team-b: not his team
            ({"agent": "王芳", "to": "nowhere"}, 400),
            ({"agent": "无名", "to": "property"}, 400),
            ({"agent": "李娜", "to": "property"}, 400),  # on no call
        ):
            refused = await boss.post("/supervisor/transfer", data={"csrf": token, **form})
            assert refused.status_code == status, (form, refused.text)
    (sent,) = controller.got
    assert (sent.verb, sent.agent, sent.call, sent.target, sent.mode, sent.actor) == (
        Verb.TRANSFER, "王芳", "1795.42", "property", "blind", "banzhang01")  # fmt: skip
    assert sent.supervisor
    for user in ("wangfang", "jijian01"):
        async with web.signed_in(user) as client:
            token = await csrf(client)
            r = await client.post(
                "/supervisor/transfer", data={"csrf": token, "agent": "王芳", "to": "property"}
            )
            assert r.status_code == 403, (user, r.text)
