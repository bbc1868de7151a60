"""``hotline kb`` on a real SQLite file: answers, versions, search, proposals, links and
the contradictions they reveal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.host.clock import wall_ms
from hotline.orders.model import Action, Entry, OrderType, Side, State
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.orders import OrderStore
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript
from hotline.web.roles import Role, Scope
from tests.unit.site import site_with_users
from tests.unit.test_history import answered

USERS = {
    "banzhang01": {"role": Role.SUPERVISOR, "scope": Scope(all=True)},
    "admin01": {"role": Role.ADMIN},
    "wangfang": {"role": Role.AGENT, "agent": "1001"},
    "jijian01": {"role": Role.AUDITOR},
    "gone01": {"role": Role.SUPERVISOR},
}
WAGES = "可向劳动保障监察大队投诉，我们转交劳动监察部门在5个工作日内联系您。"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return site_with_users(tmp_path, monkeypatch, USERS, disabled=["gone01"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["kb", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], category: str, title: str, text: str,
        *more: str) -> str:  # fmt: skip
    code, out, err = run(capsys, "add", "--category", category, "--title", title, "--text", text,
                         *more, "--as", "banzhang01")  # fmt: skip
    assert code == 0, err
    return out.strip()


def test_add_edit_show_and_search(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wages = add(capsys, "欠薪", "农民工工资被拖欠怎么办", WAGES, "--tag", "欠薪", "--serves",
                "unpaid-wages", "--valid-from", "2026-01-01")  # fmt: skip
    assert wages == "1"
    add(capsys, "供水", "停水通知查询", "计划停水提前24小时通知。突发停水请拨打96116。")
    code, out, _ = run(capsys, "edit", "1", "--text", WAGES.replace("5个", "15个"),
                       "--seen", "1", "--as", "banzhang01")  # fmt: skip
    assert code == 0
    assert out.startswith("answer 1 version 2: text: +1 −0 characters in 1 place")
    code, out, _ = run(capsys, "show", "1", "--versions", "--format", "json")
    doc = json.loads(out)
    assert (doc["version"], doc["tags"], doc["serves"]) == (2, ["欠薪"], ["unpaid-wages"])
    assert [(v["version"], v["by"], v["change"][:8]) for v in doc["versions"]] == [
        (1, "banzhang01", "new answ"), (2, "banzhang01", "text: +1"),
    ]  # fmt: skip
    code, out, _ = run(capsys, "show", "1", "--versions")
    assert "农民工工资被拖欠怎么办" in out
    assert "what changed" in out
    # the transcripts' search: any substring, all terms
    code, out, _ = run(capsys, "search", "监察 15个工作日", "--format", "json")
    assert [(h["answer"], h["version"]) for h in json.loads(out)] == [(1, 2)]
    # numbers are whole words: 5 is not in 15; the old version is found among all versions
    code, out, _ = run(capsys, "search", "5个工作日内联系", "--format", "json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, "search", "5个工作日内联系", "--all-versions", "--format", "json")
    assert [(h["answer"], h["version"]) for h in json.loads(out)] == [(1, 1)]
    code, out, _ = run(capsys, "search", "工作日内联系", "--all-versions", "--format", "json")
    assert [(h["answer"], h["version"]) for h in json.loads(out)] == [(1, 2), (1, 1)]
    code, out, _ = run(capsys, "search", "停水")
    assert code == 0
    assert "停水通知查询" in out
    assert "农民工" not in out


def test_bad_input_and_the_wrong_people_are_refused(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add(capsys, "欠薪", "t", WAGES)
    cases = [
        (("add", "--category", "欠薪", "--title", "t", "--text", "x", "--as", "wangfang"),
         2, "wangfang is an agent: only an admin or supervisor may add or edit answers"),
        (("add", "--category", "欠薪", "--title", "t", "--text", "x", "--as", "nobody"),
         2, "no user 'nobody'"),
        (("link", "1", "--call", "c1", "--as", "jijian01"), 2, "jijian01 is an auditor"),
        (("edit", "1", "--title", "x", "--as", "gone01"), 2, "gone01's account is disabled"),
        (("add", "--category", "", "--title", "t", "--text", "x", "--as", "banzhang01"),
         1, "an answer needs a category"),
        (("add", "--category", "欠薪", "--title", "t", "--text", "x", "--valid-from", "soon",
          "--as", "banzhang01"), 1, "soon"),
        (("edit", "1", "--as", "banzhang01"), 1, "nothing to change"),
        (("edit", "1", "--text", WAGES, "--as", "banzhang01"), 1, "changes nothing"),
        (("edit", "1", "--title", "x", "--seen", "7", "--as", "banzhang01"), 1,
         "made on version 7"),
        (("edit", "x1", "--title", "x", "--as", "banzhang01"), 1, "an answer's id is a number"),
        (("show", "9"), 1, "no answer 9"),
        (("search", "物" * 201), 1, "at most 200"),
        (("link", "1", "--call", "nope", "--as", "wangfang"), 1, "no call 'nope'"),
        (("link", "1", "--order", "20260101-0001", "--as", "wangfang"), 1, "no order"),
        (("propose", "--call", "nope"), 1, "no call 'nope'"),
        (("conflicts", "--days", "-1"), 1, "--days -1"),
    ]  # fmt: skip
    for argv, want_code, says in cases:
        code, _, err = run(capsys, *argv)
        assert (code, says in err) == (want_code, True), (argv, err)


def test_propose_for_a_stored_call(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, "欠薪", "农民工工资被拖欠怎么办", WAGES, "--serves", "unpaid-wages")
    add(capsys, "欠薪", "申请劳动仲裁的条件", "劳动争议申请仲裁的时效期间为一年。",
        "--serves", "unpaid-wages")  # fmt: skip
    add(capsys, "噪声", "夜间施工噪声扰民", "夜间22点至次日6点禁止施工。")
    from hotline.stores.history import History

    history = History.open(db)
    history.save_calls([answered("c1", tag="unpaid-wages"), answered("c2", tag="operator")])
    history.close()
    transcripts = TranscriptStore.open(db)
    said = "老板 拖欠 工资 我 想 申请 仲裁"
    transcripts.save(Transcript("c1", Leg.CALLER, "vosk", "m", "zh", said, (), 1000,
                                "ab" * 32, 1))  # fmt: skip
    transcripts.close()
    code, out, _ = run(capsys, "propose", "--call", "c1", "--format", "json")
    doc = json.loads(out)
    assert (doc["tag"], doc["transcribed"]) == ("unpaid-wages", True)
    assert [(a["answer"], a["level"]) for a in doc["answers"]] == [(2, 2), (1, 2)]
    assert "仲裁" in doc["answers"][0]["shared"]
    code, out, _ = run(capsys, "propose", "--call", "c2")
    assert code == 0
    assert "no transcript" in out
    log = AccessLog.open(db)
    assert [(e.entry.action, e.entry.target) for e in log.entries()] == [
        ("kb propose", "c1"), ("kb propose", "c2"),
    ]  # fmt: skip
    assert "农民工" not in out  # the IVR said operator, and nothing was said yet


def test_links_reveal_two_answers_to_one_caller(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Hengshui case: one citizen, one matter, two answers within days."""
    add(capsys, "欠薪", "农民工工资被拖欠怎么办", WAGES)
    add(capsys, "欠薪", "欠薪请走劳动仲裁", "此类欠薪不属于监察受理范围，请申请劳动仲裁。")
    from hotline.stores.history import History

    history = History.open(db)
    history.save_calls([answered("c1", caller="13812345678"), answered("c2", caller="13812345678"),
                        answered("c3", caller="13900000000")])  # fmt: skip
    history.close()
    orders = OrderStore.open(db)
    order = orders.create(lambda oid: Entry(order=oid, t=wall_ms(), user="wangfang",
                                            side=Side.INTAKE, action=Action.CREATE, before=None,
                                            after=State.RECEIVED, text="工地欠薪",
                                            type=OrderType.COMPLAINT, category="欠薪",
                                            phone="13900000000", call_id="c3"),
                          day="20261207")  # fmt: skip
    orders.close()
    for argv in (("1", "--call", "c1"), ("2", "--call", "c2"), ("1", "--call", "c3"),
                 ("2", "--order", order.id)):  # fmt: skip
        code, out, err = run(capsys, "link", *argv, "--as", "wangfang")
        assert code == 0, err
    code, out, _ = run(capsys, "link", "1", "--call", "c1", "--as", "banzhang01", "--format",
                       "json")  # fmt: skip
    assert json.loads(out)["by"] == "wangfang"  # linked once: the first stands
    code, out, _ = run(capsys, "conflicts", "--format", "json")
    found = json.loads(out)
    assert [(c["first"]["target"], c["second"]["target"], c["why"]) for c in found] == [
        ("c1", "c2", ["same caller"]),
        ("c3", order.id, ["same caller", f"same order {order.id}"]),
    ]
    assert found[0]["first"]["caller"] == "138****5678"  # masked
    assert found[0]["difference"].startswith("different answers: 1 “农民工工资被拖欠怎么办”")
    code, out, _ = run(capsys, "conflicts")
    assert "same caller" in out
    code, out, _ = run(capsys, "conflicts", "--days", "0", "--since", "2099-01-01")
    assert code == 0
    assert "same caller" not in out
    # each look at callers and their orders is in the access log
    log = AccessLog.open(db)
    assert [(e.entry.action, json.loads(e.entry.detail)["found"]) for e in log.entries()] == [
        ("kb conflicts", 2), ("kb conflicts", 2), ("kb conflicts", 0),
    ]  # fmt: skip
    assert log.verify() is None


def test_a_merged_order_is_one_matter_with_the_order_it_went_into(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two citizens' orders on one building site merged: the answers given on either order's
    call are on the same matter, though the callers differ."""
    from hotline.casework.desk import Desk
    from hotline.orders.config import OrdersConfig
    from hotline.orders.model import Actor
    from hotline.stores.history import History

    add(capsys, "欠薪", "农民工工资被拖欠怎么办", WAGES)
    add(capsys, "欠薪", "欠薪请走劳动仲裁", "此类欠薪不属于监察受理范围，请申请劳动仲裁。")
    history = History.open(db)
    history.save_calls([answered("c1", caller="13811111111"),
                        answered("c2", caller="13922222222")])  # fmt: skip
    history.close()
    desk = Desk(OrderStore.open(db), OrdersConfig())
    intake = Actor("wangfang", Side.INTAKE)
    now = wall_ms()
    kept = desk.create(intake, OrderType.COMPLAINT, "欠薪", "某工地拖欠工资", now=now,
                       phone="13811111111", call_id="c1").order  # fmt: skip
    dup = desk.create(intake, OrderType.COMPLAINT, "欠薪", "某工地拖欠工资三个月", now=now,
                      phone="13922222222", call_id="c2").order  # fmt: skip
    desk.merge(intake, dup.id, kept.id, now=now + 1)
    desk.store.close()
    assert run(capsys, "link", "1", "--call", "c1", "--as", "wangfang")[0] == 0
    assert run(capsys, "link", "2", "--order", dup.id, "--as", "wangfang")[0] == 0
    code, out, _ = run(capsys, "conflicts", "--format", "json")
    assert code == 0
    (found,) = json.loads(out)
    assert found["why"] == [f"same order {kept.id}"]
    assert (found["first"]["target"], found["second"]["target"]) == ("c1", dup.id)
