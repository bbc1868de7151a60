"""``hotline orders`` on a real SQLite file, as operators and scripts use it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.core.localtime import DAY_MS
from hotline.host.clock import wall_ms
from hotline.stores.access import AccessLog
from hotline.stores.orders import OrderStore
from hotline.web.roles import Role, Scope
from tests.unit.site import site_with_users

USERS = {
    "banzhang01": {"role": Role.SUPERVISOR, "scope": Scope(all=True)},
    "wangfang": {"role": Role.AGENT, "agent": "1001"},
    "lvhua01": {"role": Role.DEPARTMENT},
    "zhujian01": {"role": Role.DEPARTMENT},
    "nobody01": {"role": Role.DEPARTMENT},  # in no department's handlers
    "jijian01": {"role": Role.AUDITOR},
    "admin": {"role": Role.ADMIN},
}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return site_with_users(tmp_path, monkeypatch, USERS)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["orders", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_order_goes_round_the_loop(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "create", "--as", "wangfang", "--type", "投诉举报",
                       "--category", "绿化", "--content", "树枝压电线，市民13812345678反映",
                       "--phone", "13812345678", "--call", "1765000000.1")  # fmt: skip
    assert code == 0
    order = out.strip()
    assert order.endswith("-0001")
    assert run(capsys, "dispatch", order, "--to", "greening", "--as", "banzhang01")[0] == 0
    # another department does not even see it
    code, _, err = run(capsys, "sign", order, "--as", "zhujian01")
    assert (code, err.strip()) == (1, f"hotline: no order '{order}'")
    for argv in (
        ("sign", order), ("return", order, "--reason", "不在管辖范围"),
    ):  # fmt: skip
        assert run(capsys, *argv, "--as", "lvhua01")[0] == 0
    code, _, err = run(capsys, "review", order, "accept", "--why", "ok", "--as", "banzhang01")
    assert code == 1
    assert "needs the department to send it to (--to)" in err
    code, out, _ = run(capsys, "review", order, "accept", "--why", "确非绿化", "--to", "housing",
                       "--as", "banzhang01", "--format", "json")  # fmt: skip
    assert code == 0
    assert json.loads(out)["department"] == "housing"
    for argv in (("sign", order), ("reply", order, "--text", "已修剪", "--contact", "上门"),
                 ("finish", order, "--evidence", "照片", "--attach", "a.jpg")):  # fmt: skip
        assert run(capsys, *argv, "--as", "zhujian01")[0] == 0, argv
    assert run(capsys, "review", order, "accept", "--why", "ok", "--as", "banzhang01")[0] == 0
    code, out, _ = run(capsys, "visit", order, "--resolved", "yes", "--rating", "满意",
                       "--as", "banzhang01")  # fmt: skip
    assert code == 0
    assert "评价" in out
    code, out, _ = run(capsys, "show", order, "--as", "jijian01", "--format", "json")
    doc = json.loads(out)
    assert [e["action"] for e in doc["timeline"]] == [
        "create", "dispatch", "sign", "return", "accept", "sign", "reply", "finish", "accept",
        "visit",
    ]  # fmt: skip
    assert doc["order"]["callers"][0]["phone"] == "138****5678"
    assert "13812345678" not in out  # masked in the content too
    assert run(capsys, "list", "--as", "lvhua01", "--format", "json")[1].count(order) == 1
    code, out, _ = run(capsys, "list", "--state", "评价", "--as", "banzhang01")
    assert order in out
    month = run(capsys, "report", "--month", _month(), "--as", "banzhang01", "--format", "csv")
    rows = {r["department"]: r for r in csv.DictReader(io.StringIO(month[1]))}
    assert rows["housing"]["按时办结率"] == "100.0% (1/1)"
    assert rows["greening"]["退单率 accepted"] == "100.0% (1/1)"
    assert OrderStore.open(db).verify() is None
    reads = AccessLog.open(db).entries(action="order.show")
    assert [(e.entry.user, e.entry.target) for e in reads] == [("jijian01", order)]
    assert json.loads(reads[0].entry.detail)["via"].startswith("cli:")


def _month() -> str:
    import datetime as dt

    from hotline.core.localtime import CHINA

    return dt.datetime.fromtimestamp(wall_ms() // 1000, CHINA).strftime("%Y-%m")


def test_who_may_do_what(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "create", "--as", "wangfang", "--type", "咨询", "--category",
                       "社保", "--content", "社保卡怎么补办",
                       "--answer", "带身份证到社保大厅")  # fmt: skip
    order = out.strip()
    assert "办结" in run(capsys, "show", order, "--as", "banzhang01")[1]
    cases = [
        (("dispatch", order, "--to", "greening", "--as", "wangfang"), 1, "办结: dispatch is not"),
        (("sign", order, "--as", "jijian01"), 1, "auditor: they read orders"),
        (("list", "--as", "admin"), 2, "admin is an admin"),
        (("list", "--as", "nobody01"), 2, "handles for no department"),
        (("list", "--as", "ghost"), 2, "no user 'ghost'"),
        (("report", "--month", "2026-13", "--as", "banzhang01"), 2, "write YYYY-MM"),
        (("report", "--month", "2026-11", "--as", "lvhua01"), 1, "for the centre and auditors"),
        (("dispatch", "20000101-0009", "--to", "greening", "--as", "banzhang01"), 1, "no order"),
        (("findings", "--department", "moon", "--as", "banzhang01"), 2, "no department"),
        (("chase", "--as", "lvhua01"), 1, "chasing orders is the centre's"),
    ]
    for argv, want, said in cases:
        code, _, err = run(capsys, *argv)
        assert (code, said in err) == (want, True), (argv, err)
    assert json.loads(run(capsys, "chase", "--as", "banzhang01", "--format", "json")[1]) == []
    code, out, _ = run(capsys, "departments", "--as", "lvhua01", "--format", "json")
    assert {d["code"]: d["name"] for d in json.loads(out)}["greening"] == "绿化市容局"


def test_a_duplicate_is_proposed_and_merged(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "create", "--as", "wangfang", "--type", "求助", "--category", "供水",
                "--content", "小区停水三天了，一直没有来水", "--phone", "13900000001",
                "--place", "和平路1号")[1].strip()  # fmt: skip
    code, out, err = run(capsys, "create", "--as", "wangfang", "--type", "求助", "--category",
                         "供水", "--content", "小区停水三天，还是没有来水", "--phone",
                         "13900000002", "--place", "和平路1号")  # fmt: skip
    second = out.strip()
    assert f"possible duplicate: {first} (same place and category" in err
    code, out, _ = run(capsys, "merge", second, "--into", first, "--as", "wangfang",
                       "--format", "json")  # fmt: skip
    assert code == 0
    assert [c["phone"] for c in json.loads(out)["callers"]] == ["139****0001", "139****0002"]
    shown = run(capsys, "show", second, "--as", "banzhang01", "--format", "json")[1]
    assert json.loads(shown)["order"]["merged_into"] == first
    # 供水 求助: four working hours, not three days
    run(capsys, "dispatch", first, "--to", "housing", "--as", "banzhang01")
    deadline = json.loads(run(capsys, "show", first, "--as", "banzhang01", "--format",
                              "json")[1])["order"]["deadline"]  # fmt: skip
    assert deadline - wall_ms() <= 3 * DAY_MS  # 4 working hours end within a long weekend


def test_a_broken_centre_file_is_a_clear_error(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "center.yaml"
    bad.write_text("teams: {}\nagents: {}\norders: {departments: {x: {handlers: 5}}}\n", "utf-8")
    monkeypatch.setenv("HOTLINE_CENTER", str(bad))
    code, _, err = run(capsys, "list", "--as", "banzhang01")
    assert code == 2
    assert "orders.departments.x.name: missing" in err
    assert "orders.departments.x.handlers: expected a list" in err
