"""Parameter and formula changes: recorded with who, when and why, never silent."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.metrics import Params
from hotline.metrics.changes import ChangeKind, in_force, param_change, params_at, registry_change
from hotline.metrics.formulas import REVISION, registry_hash
from hotline.metrics.params import MetricsError
from hotline.stores.history import History
from hotline.stores.metrics import MetricsStore

from ..columns import line_up
from .calls import DAY, HOUR, T0, S, answered, callback_at_offer
from .test_cli import CLI, cli  # noqa: F401 - the fixture


def test_set_show_and_report_say_who_and_when(cli: CLI) -> None:  # noqa: F811
    History.open(cli.db).save_calls([answered("a", 17 * S, t_q=T0 - 2 * DAY)])
    code, out, err = cli("params", "set", "threshold_s", "20", "--by", "张三", "--why", "市局口径")
    assert (code, err) == (0, "")
    assert "threshold T 15 s → 20 s by 张三 (市局口径)" in out
    code, out, _ = cli("params", "show")
    assert "in force: T = 20 s, S = 0 s, N = 7 days" in out
    assert f"formulas revision {REVISION}" in out
    assert "by hotline 0.1.0" in out  # the registry in use, recorded by the software
    code, out, _ = cli("report", "--from", "2026-11-23", "--to", "2026-11-23", "--format", "json")
    doc = json.loads(out)
    assert doc["params_from"] == "recorded"
    # the change took effect when it was recorded (now), never back-dated: an earlier window
    # keeps the rule that was in force then
    assert doc["formula_version"]["params"]["threshold_ms"] == 15_000
    assert doc["total"]["counts"]["A15"] == 0  # 17 s > 15 s
    code, out, _ = cli("report", "--from", "2026-11-23", "--to", "2026-11-23", "--threshold", "20")
    assert "not those recorded in force" in out
    assert "T = 20 s" in out


def test_bad_changes_are_refused_and_nothing_is_written(cli: CLI) -> None:  # noqa: F811
    for argv, why in [
        (["threshold_s", "abc"], "is not a number"),
        (["threshold_s", "-1"], "non-negative"),
        (["threshold_s", "0.0001"], "to the ms"),
        (["repeat_days", "0"], "use 1 or more"),
        (["repeat_days", "1.5"], "whole number"),
        (["threshold_s", "15"], "already"),
    ]:
        code, _, err = cli("params", "set", *argv, "--by", "张三", "--why", "x")
        assert code == 1, argv
        assert why in err, (argv, err)
    code, _, err = cli("params", "set", "threshold_s", "20", "--by", "张三", "--why", " ")
    assert (code, "never silent" in err) == (1, True)
    store = MetricsStore.open(cli.db)
    assert [c.kind for c in store.changes()] == [ChangeKind.REGISTRY]
    store.close()


def test_the_changes_table_is_append_only(tmp_path: Path) -> None:
    store = MetricsStore.open(tmp_path / "h.db")
    store.record(param_change(Params(), "threshold_s", "20", by="a", why="b", at=T0, revision=2))
    for sql in ("UPDATE metrics_changes SET by = 'x'", "DELETE FROM metrics_changes"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.connection.execute(sql)
    with pytest.raises(MetricsError, match="back-dating"):
        store.record(
            param_change(Params(), "threshold_s", "25", by="a", why="b", at=T0 - 1, revision=2)
        )
    versions = store.connection.execute("SELECT * FROM schema_components").fetchall()
    assert ("metrics", 2) in versions
    store.close()


def test_a_new_registry_is_recorded_once(tmp_path: Path) -> None:
    store = MetricsStore.open(tmp_path / "h.db")
    first = store.note_registry(at=T0, by="hotline 0.1.0")
    assert first is not None
    assert (first.value, first.revision, first.previous) == (registry_hash(), REVISION, "")
    assert store.note_registry(at=T0 + 1, by="hotline 0.1.0") is None
    newer = registry_change("f" * 64, REVISION + 1, store.changes(), by="hotline 0.2", at=T0 + 2)
    assert newer is not None
    assert (newer.previous, newer.text()) == (
        registry_hash(),
        f"formulas revision {REVISION + 1} (registry sha256 ffffffffffff…)",
    )
    store.close()


def test_a_window_over_a_change_is_cut_and_says_so(cli: CLI) -> None:  # noqa: F811
    History.open(cli.db).save_calls(
        [answered("a", 17 * S, t_q=T0), answered("b", 17 * S, t_q=T0 + 2 * HOUR)]
    )
    store = MetricsStore.open(cli.db)
    store.note_registry(at=T0 - DAY, by="hotline 0.1.0")
    change = param_change(Params(), "threshold_s", "20", by="张三", why="市局口径", at=T0 + HOUR,
                          revision=REVISION)  # fmt: skip
    store.record(change)
    periods = in_force(store.changes(), T0 - HOUR, T0 + 3 * HOUR)
    store.close()
    assert [(p.since, p.params.threshold_ms) for p in periods] == [
        (T0 - HOUR, 15_000),
        (T0 + HOUR, 20_000),
    ]
    assert params_at([change], T0 + HOUR - 1).threshold_ms == 15_000
    _code, out, _ = cli("report", "--from", "2026-11-25", "--to", "2026-11-25", "--format", "json")
    doc = json.loads(out)
    assert [p["params"]["threshold_ms"] for p in doc["in_force"]] == [15_000, 20_000]
    assert doc["in_force"][1]["changed_by"]["by"] == "张三"
    assert doc["in_force"][0]["registry"]["revision"] == REVISION
    assert any("spans 1 recorded change(s)" in n and "张三" in n for n in doc["notes"])
    _, out, _ = cli("report", "--from", "2026-11-25", "--to", "2026-11-25")
    assert "in force from 2026-11-25T11:00:00.000+08:00: T = 20 s" in out


def test_callbacks_line_up_chinese_queues_and_names(cli: CLI) -> None:  # noqa: F811
    # queue names come from the queue_log as the PBX wrote them: an imported one may be Chinese
    chinese = callback_at_offer("c1", t_q=T0)
    visit = replace(chinese.visits[0], queue="物业投诉")
    History.open(cli.db).save_calls([
        replace(chinese, visits=(visit,)), callback_at_offer("1795463379.22", t_q=T0 + S),
    ])  # fmt: skip
    assert cli("callback-done", "c1", "--by", "王芳")[0] == 0
    code, out, _ = cli("callbacks")
    lines = out.splitlines()[:-1]
    assert code == 0
    assert line_up(lines, ["物业投诉", "intake"]), out
    assert line_up(lines, ["requested"] * 2), out
    assert line_up(lines, ["done", "open"]), out
    assert out.splitlines()[-1] == "2 callbacks (1 open)"


def test_callbacks_done_by_whom(cli: CLI) -> None:  # noqa: F811
    History.open(cli.db).save_calls([callback_at_offer("c1", t_q=T0), callback_at_offer("c2")])
    code, out, _ = cli("callbacks", "--open")
    assert "2 callbacks (2 open)" in out
    code, out, _ = cli("callback-done", "c1", "--by", "王芳")
    assert (code, out.strip()) == (0, "callback c1 done by 王芳")
    code, _, err = cli("callback-done", "c1", "--by", "王芳")
    assert (code, "no open callback" in err) == (1, True)
    code, out, _ = cli("report", "--from", "2026-11-25", "--to", "2026-11-25", "--format", "json")
    figures = json.loads(out)["total"]["figures"]
    assert (figures["callbacks"]["numerator"], figures["callbacks_done"]["numerator"]) == (2, 1)
    assert figures["callback_completion"]["value"] == 0.5
