"""``hotline recall list|show|done|report`` on a real SQLite history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.casework.desk import Desk
from hotline.center.config import load_center
from hotline.cli.common import local_day
from hotline.cli.main import main
from hotline.host.clock import wall_ms
from hotline.host.settings import DEFAULT_CENTER
from hotline.orders.model import Actor, OrderType, Side
from hotline.stores.history import History
from hotline.stores.orders import OrderStore

from .scene import A, B, morning


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    return db


def hotline(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missed_callers_are_listed_shown_done_and_reported(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = wall_ms() - 1_200_000  # B's task, done now, is in time day or night
    calls = morning(t0)
    history = History.open(env)
    history.save_calls(calls[:6])
    history.close()
    code, out, _ = hotline(capsys, "recall", "list", "--format", "json", "--unmask")
    assert code == 0, out
    tasks = json.loads(out)
    assert [(t["number"], t["calls"]) for t in tasks] == [(A, ["m1", "m2"]), (B, ["m3"])]
    code, out, _ = hotline(capsys, "recall", "list")
    assert code == 0, out
    assert "138****0001" in out, out  # masked unless asked
    assert A not in out, out
    history = History.open(env)
    history.save_calls(calls[6:])  # A got through
    history.close()
    code, out, _ = hotline(capsys, "recall", "list", "--format", "json")
    assert [t["number"] for t in json.loads(out)] == ["139****0002"]
    b = tasks[1]["id"]
    assert hotline(capsys, "recall", "done", str(b), "--as", "王芳")[0] == 0
    code, out, _ = hotline(capsys, "recall", "show", str(b))
    shown = json.loads(out)
    assert (shown["state"], shown["outcome"], shown["closed_by"]) == ("done", "by_hand", "王芳")
    # preview dialling: the number's earlier calls and its open work orders
    assert [c["call_id"] for c in shown["earlier_calls"]] == ["m3"]
    assert shown["open_orders"] == []
    store = OrderStore.open(env)
    desk = Desk(store, load_center(DEFAULT_CENTER.read_text(encoding="utf-8")).orders)
    made = desk.create(Actor("wangfang", Side.INTAKE), OrderType.COMPLAINT, "物业", "电梯坏了",
                       now=wall_ms(), phone=B, call_id="m3")  # fmt: skip
    store.close()
    shown = json.loads(hotline(capsys, "recall", "show", str(b))[1])
    assert [(o["id"], o["state"]) for o in shown["open_orders"]] == [(made.order.id, "受理")]
    code, out, err = hotline(capsys, "recall", "done", str(b), "--as", "王芳")
    assert code == 1
    assert "done already" in err
    day, today = local_day(t0), local_day(wall_ms())
    code, out, _ = hotline(capsys, "recall", "report", "--from", day, "--to", today,
                           "--format", "json", "--explain")  # fmt: skip
    doc = json.loads(out)
    assert doc["total"]["tasks"] == 2
    assert doc["total"]["got_through"] == 1
    assert doc["total"]["in_time"] == 1
    assert doc["total"]["rate"] == 1.0
    assert set(doc["groups"]) == {"intake", "labour"}
    assert [t["verdict"] for t in doc["tasks"]] == ["got_through", "in_time"]
    code, out, _ = hotline(capsys, "recall", "report", "--from", day, "--to", today, "--by", "day")
    assert code == 0, out
    assert day in out, out
    assert "100.0%" in out, out


def test_bad_requests_get_clear_errors(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = hotline(capsys, "recall", "show", "7")
    assert code == 1
    assert "no recall task 7" in err
    code, _, err = hotline(capsys, "recall", "report", "--from", "2026-12-07", "--to", "2026-12-01")
    assert code == 2
    assert "--to is before --from" in err
    code, _, err = hotline(capsys, "recall", "report", "--from", "yesterday", "--to", "2026-12-01")
    assert code == 1
    assert "yesterday" in err


def test_the_metrics_report_carries_the_recall_figures(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = wall_ms() - 1_200_000
    history = History.open(env)
    history.save_calls(morning(t0))  # A got through; B is owed a call back, not yet due
    history.close()
    day, today = local_day(t0), local_day(wall_ms())
    code, out, _ = hotline(capsys, "metrics", "report", "--from", day, "--to", today,
                           "--format", "json")  # fmt: skip
    assert code == 0, out
    recall = json.loads(out)["recall"]
    assert (recall["tasks"], recall["got_through"], recall["pending"]) == (2, 1, 1)
    code, out, _ = hotline(capsys, "metrics", "report", "--from", day, "--to", today)
    assert code == 0, out
    assert "recall (missed callers called back): 2 tasks (in_time 0, late 0, got_through 1" in out
