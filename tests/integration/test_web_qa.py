"""Quality inspection in the web app, in process on real SQLite and Redis: an inspector finds
a flagged call on /qa with its evidence, scores it beside the players and turns, the agent
appeals on /me/qa, a second inspector settles; hostile and malformed requests are refused
with a clear answer, and every read is in the access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2 as httpx
import pytest
import pytest_asyncio

from hotline.core.records import CallRecord, EndReason, QueueVisit
from hotline.host.settings import Settings
from hotline.qa.sampling import week_of
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores.qa import QaStore
from hotline.stt.flagging import flag_call
from hotline.web.context import Services
from hotline.web.roles import Role
from tests.integration.test_web_audit import a_wav
from tests.integration.webapp import (
    CALLER_WORDS,
    PASSWORD,
    Web,
    close_web,
    csrf,
    fixture_transcript,
    make_web,
)

pytestmark = pytest.mark.asyncio
CALL = "1796000000.9"
T0 = 1_796_000_000_000
WEEK = week_of(T0 + 5000)
PHONE = "13812345678"
# once the caller is done, the agent answers without a greeting, with a forbidden phrase
DISMISSIVE = [("这个", 3500, 3800), ("不归", 3800, 4200), ("我们", 4200, 4500), ("管", 4500, 4800)]
FULL = {"item.greeting": "8", "item.listening": "15", "item.accuracy": "20",
        "item.recording": "25", "item.courtesy": "10", "item.dismissive": "fail",
        "item.abusive": "pass"}  # fmt: skip


def save_flagged_call(
    s: Services, call_id: str, tmp: Path, agent_words: list[tuple[str, int, int]], t0: int = T0
) -> QaStore:
    """A call answered by 王芳, both legs recorded and transcribed, flagged by the centre's
    rules (the STT worker's own step)."""
    s.history.save_calls([
        CallRecord(call_id=call_id, caller=PHONE, t_arrival=t0,
                   visits=(QueueVisit("labour", t0 + 2000, 1, t0 + 5000, "CONNECT"),),
                   t_answer=t0 + 5000, agent="王芳", t_end=t0 + 30_000,
                   end_reason=EndReason.ANSWERED)
    ])  # fmt: skip
    legs = [describe(call_id, leg, a_wav(tmp / f"{call_id}-{leg.value}.wav"))
            for leg in (Leg.CALLER, Leg.AGENT)]  # fmt: skip
    s.history.save_recordings(legs, at=t0 + 31_000)
    s.transcripts.save(fixture_transcript(call_id, Leg.CALLER, CALLER_WORDS))
    s.transcripts.save(fixture_transcript(call_id, Leg.AGENT, agent_words))
    store = QaStore.open(s.settings.db)
    found = flag_call(s.history, s.transcripts, store, s.center.qa.flags, lambda _: "team-a",
                      call_id)  # fmt: skip
    assert found
    assert "forbidden_phrase" in {f.rule.value for f in found}
    return store


@pytest_asyncio.fixture
async def web(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[Web]:
    app = await make_web(settings, tmp_path / "qa.sqlite3", redis_url)
    app.services.accounts.add("lina", PASSWORD, now=app.services.clock(), role=Role.AGENT,
                              agent="1002")  # fmt: skip
    save_flagged_call(app.services, CALL, tmp_path, DISMISSIVE).close()
    yield app
    await close_web(app)


async def with_purpose(client: httpx.AsyncClient, back: str = "") -> str:
    token = await csrf(client)
    r = await client.post("/audit/purpose", data={"csrf": token, "purpose": "质检2026-48",
                                                  "back": back})  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == (back or "/audit/search")
    return token


def qa(web: Web) -> QaStore:
    store = web.services.qa
    if store is None:
        store = web.services.qa = QaStore.open(web.services.settings.db)
    return store


async def test_a_flagged_call_is_scored_appealed_and_settled_by_another(web: Web) -> None:
    async with web.signed_in("zhijian01") as inspector:
        # no purpose yet: the purpose form, and nothing of any call
        first = await inspector.get("/qa")
        assert first.status_code == 200
        assert 'name="back" value="/qa"' in first.text
        assert CALL not in first.text
        assert web.services.access_log.entries(user="zhijian01") == []
        token = await with_purpose(inspector, back="/qa")
        listed = await inspector.get("/qa", params={"week": WEEK})
        assert listed.status_code == 200, listed.text
        flagged = listed.text.split(f'data-call="{CALL}"', 1)[1].split("</section>")[0]
        assert 'data-rule="forbidden_phrase"' in flagged
        assert "不归我们管" in flagged
        assert 'data-rule="greeting_missing"' in flagged
        assert "0:03–0:04" in flagged  # when it was said
        page = await inspector.get(f"/qa/calls/{CALL}")
        assert page.status_code == 200, page.text
        assert page.text.count("<audio") == 2  # the auditor's players, one per leg
        assert 'data-start="3800"' in page.text  # the turns, word by word
        assert PHONE not in page.text
        assert "138****5678" in page.text
        assert 'name="item.dismissive" value="fail"' in page.text
        scored = await inspector.post(f"/qa/calls/{CALL}/score",
                                      data={"csrf": token, "form": "service", **FULL,
                                            "note": "推诿：不归我们管"})  # fmt: skip
        assert scored.status_code == 303, scored.text
        again = await inspector.post(f"/qa/calls/{CALL}/score",
                                     data={"csrf": token, "form": "service", **FULL})  # fmt: skip
        assert again.status_code == 409
        assert "appeal" in again.text
    (score,) = qa(web).effective_scores()
    assert (score.score.reviewer, score.score.total, score.score.failed) == (
        "zhijian01", 0.0, ("dismissive",))  # fmt: skip
    assert score.score.answers["greeting"] == 8
    assert score.score.note == "推诿：不归我们管"
    log = web.services.access_log
    assert [(e.entry.action, e.entry.target, e.entry.purpose)
            for e in log.entries(user="zhijian01")] == [
        ("qa_list", WEEK, "质检2026-48"), ("show", CALL, "质检2026-48")]  # fmt: skip

    async with web.signed_in("wangfang") as agent:
        mine = await agent.get("/me/qa")
        assert mine.status_code == 200
        assert f'data-score="{score.id}"' in mine.text
        assert "zhijian01" not in mine.text  # the agent sees the score, not who gave it
        token = await csrf(agent)
        why = {"csrf": token, "score_id": str(score.id), "reason": "已转办，并非推诿"}
        appealed = await agent.post("/me/qa/appeal", data=why)
        assert appealed.status_code == 303, appealed.text
        twice = await agent.post("/me/qa/appeal", data={"csrf": token,
                                 "score_id": str(score.id), "reason": "再申诉"})  # fmt: skip
        assert twice.status_code == 409
    (appeal,) = qa(web).appeals(state="open")
    assert (appeal.agent, appeal.reason) == ("王芳", "已转办，并非推诿")

    async with web.signed_in("zhijian01") as inspector:
        await with_purpose(inspector)
        page = await inspector.get(f"/qa/calls/{CALL}")
        assert f'action="/qa/appeals/{appeal.id}/settle"' not in page.text  # not theirs
        token = await csrf(inspector)
        own = await inspector.post(f"/qa/appeals/{appeal.id}/settle",
                                   data={"csrf": token, "decision": "uphold"})  # fmt: skip
        assert own.status_code == 403
        assert "另一名质检员" in own.text
    async with web.signed_in("jijian01") as second:
        await with_purpose(second)
        page = await second.get(f"/qa/calls/{CALL}")
        assert f'action="/qa/appeals/{appeal.id}/settle"' in page.text
        token = await csrf(second)
        settled = await second.post(f"/qa/appeals/{appeal.id}/settle",
                                    data={"csrf": token, "decision": "revise", **FULL,
                                          "item.dismissive": "pass",
                                          "note": "录音显示已转办"})  # fmt: skip
        assert settled.status_code == 303, settled.text
    (revised,) = qa(web).effective_scores()
    assert (revised.score.reviewer, revised.replaces, revised.score.total) == (
        "jijian01", score.id, 78.0)  # fmt: skip
    (done,) = qa(web).appeals()
    assert (done.state, done.settled_by, done.decision) == ("revised", "jijian01", "录音显示已转办")
    async with web.signed_in("wangfang") as agent:
        mine = (await agent.get("/me/qa")).text
    assert "已改分" in mine
    assert "录音显示已转办" in mine
    assert ">78<" in mine
    assert log.verify() is None


async def test_hostile_and_malformed_requests_get_a_clear_refusal(web: Web) -> None:
    async with web.signed_in("zhijian01") as inspector:
        token = await csrf(inspector)
        # scoring needs the purpose, like every read of a call
        early = await inspector.post(f"/qa/calls/{CALL}/score",
                                     data={"csrf": token, "form": "service", **FULL})  # fmt: skip
        assert early.status_code == 428
        await with_purpose(inspector)
        assert (await inspector.get("/qa", params={"week": "2026-49"})).status_code == 400
        assert (await inspector.get("/qa/calls/nope..x")).status_code == 404
        assert (await inspector.get("/qa/calls/1796000000.1")).status_code == 404
        # another purpose-back: never an outside address
        r = await inspector.post("/audit/purpose", data={"csrf": token, "purpose": "GD-1",
                                                         "back": "//evil.example/qa"})  # fmt: skip
        assert r.headers["location"] == "/audit/search"
        cases = [
            ({"form": "nope", **FULL}, "nope"),
            ({"form": "service", **{**FULL, "item.accuracy": "31"}}, "accuracy"),
            ({"form": "service", **{**FULL, "item.dismissive": "maybe"}}, "dismissive"),
            ({"form": "service", **{k: v for k, v in FULL.items() if k != "item.greeting"}},
             "greeting"),
            ({"form": "service", **FULL, "item.bonus": "5"}, "bonus"),
            ({"form": "service", **FULL, "note": "长" * 1001}, "1000"),
        ]  # fmt: skip
        for form, named in cases:
            bad = await inspector.post(f"/qa/calls/{CALL}/score",
                                       data={"csrf": token, **form},
                                       headers={"accept": "application/json"})  # fmt: skip
            assert bad.status_code == 400, (form, bad.text)
            assert named in bad.text, bad.text
        assert qa(web).scores(CALL) == []
        ok = await inspector.post(f"/qa/calls/{CALL}/score",
                                  data={"csrf": token, "form": "service", **FULL})  # fmt: skip
        assert ok.status_code == 303
        settle = f"/qa/appeals/{10**15}/settle"
        assert (await inspector.post(settle, data={"csrf": token})).status_code == 404
        assert (
            await inspector.post("/qa/appeals/x/settle", data={"csrf": token})
        ).status_code == 404
    (score,) = qa(web).effective_scores()
    async with web.signed_in("lina") as other:  # 李娜, another agent
        token = await csrf(other)
        theirs = await other.post("/me/qa/appeal", data={"csrf": token,
                                  "score_id": str(score.id), "reason": "我要申诉"})  # fmt: skip
        assert theirs.status_code == 404
        assert f'data-score="{score.id}"' not in (await other.get("/me/qa")).text
    async with web.signed_in("wangfang") as agent:
        token = await csrf(agent)
        for form, status in (({"score_id": "abc", "reason": "x"}, 400),
                             ({"score_id": str(score.id), "reason": "  "}, 400),
                             ({"score_id": "-1", "reason": "x"}, 400),
                             ({"score_id": str(score.id + 99), "reason": "x"}, 404)):  # fmt: skip
            r = await agent.post("/me/qa/appeal", data={"csrf": token, **form})
            assert r.status_code == status, (form, r.text)
        assert (await agent.get("/qa")).status_code == 403  # an agent does not inspect
        ok = await agent.post("/me/qa/appeal", data={"csrf": token, "score_id": str(score.id),
                                                    "reason": "已转办"})  # fmt: skip
        assert ok.status_code == 303
    (appeal,) = qa(web).appeals()
    async with web.signed_in("jijian01") as second:
        token = await csrf(second)
        settle = f"/qa/appeals/{appeal.id}/settle"
        odd = await second.post(settle, data={"csrf": token, "decision": "maybe"})
        assert odd.status_code == 400
        half = await second.post(settle, data={"csrf": token, "decision": "revise",
                                               "item.greeting": "10"})  # fmt: skip
        assert half.status_code == 400
        assert "listening" in half.text
        assert qa(web).appeals()[0].state == "open"


async def test_the_report_per_agent_and_team_over_weeks_as_page_and_csv(
    web: Web, tmp_path: Path
) -> None:
    """Two scored calls in different weeks (one failed a critical item, one revised on
    appeal): the report counts the effective scores, per week; the CSV says the same; the
    read is logged with the purpose; bad ranges and another role are refused."""
    second = "1796600000.3"
    t_second = T0 + 7 * 86_400_000  # the next week
    save_flagged_call(web.services, second, tmp_path, DISMISSIVE, t0=t_second).close()
    weeks = f"{WEEK}..{week_of(t_second + 5000)}"
    async with web.signed_in("zhijian01") as inspector:
        first = await inspector.get("/qa/report")
        assert first.status_code == 200
        assert 'name="back" value="/qa/report"' in first.text
        assert "王芳" not in first.text  # nothing before the purpose
        token = await with_purpose(inspector, back="/qa/report")
        for call, answers in ((CALL, FULL), (second, {**FULL, "item.dismissive": "pass"})):
            scored = await inspector.post(
                f"/qa/calls/{call}/score", data={"csrf": token, "form": "service", **answers}
            )
            assert scored.status_code == 303, scored.text
        span = {"from": WEEK, "to": week_of(t_second + 5000)}
        page = await inspector.get("/qa/report", params=span)
        assert page.status_code == 200, page.text
        row = page.text.split('data-key="王芳"', 1)[1].split("</tr>")[0]
        # two calls, 0 (failed: 推诿) and 78: average 39, one failed call, by its label
        assert "<td>2</td><td>39</td><td>1</td>" in row, row
        assert "推诿、搪塞" in row, row  # the failed item by its form label
        assert " ×1" in row, row
        assert "禁语 ×2" in row, row  # both calls flagged for the forbidden phrase
        assert '<td class="week" title="评分来电 1">0</td>' in row, row
        assert '<td class="week" title="评分来电 1">78</td>' in row, row
        teams = await inspector.get("/qa/report", params={**span, "by": "team"})
        team = teams.text.split('data-key="team-a"', 1)[1].split("</tr>")[0]
        assert "<td>2</td><td>39</td><td>1</td>" in team, team
        csv_ = await inspector.get("/qa/report.csv", params=span)
        assert csv_.status_code == 200
        assert csv_.headers["content-type"].startswith("text/csv")
        lines = csv_.text.splitlines()
        assert (
            lines[0] == f"agent,scored,average,failed_calls,failed_items,flags,{WEEK},{span['to']}"
        )
        flags = "closing_missing:2 forbidden_phrase:2 greeting_missing:2"
        assert lines[1] == f"王芳,2,39.0,1,dismissive:1,{flags},0.0,78.0"
        for bad in ({"from": "2026-49"}, {"from": span["to"], "to": WEEK},
                    {"from": "2020-W01", "to": WEEK}, {"by": "city"}):  # fmt: skip
            refused = await inspector.get("/qa/report", params=bad)
            assert refused.status_code == 400, (bad, refused.text)
    log = web.services.access_log.entries(user="zhijian01")
    reports = [e.entry for e in log if e.entry.action == "qa_report"]
    assert [(e.target, e.purpose) for e in reports] == [(weeks, "质检2026-48")] * 3
    assert '"王芳"' in reports[0].detail
    async with web.signed_in("wangfang") as agent:
        assert (await agent.get("/qa/report")).status_code == 403
