"""``hotline agents audit`` and ``hotline agents report``: the watchdog over past data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hotline.cli import agents
from hotline.cli.common import CLIError, report
from hotline.host.settings import Settings
from hotline.queuelog import ParseProblem, build, parse_lines
from hotline.stores.history import History

from .scenes import wuyi

WUYI = wuyi().text


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hotline")
    sub = top.add_subparsers(dest="command", required=True)
    agents.add_parsers(sub)
    return top


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"HOTLINE_RUN_DIR": str(tmp_path / "run")})


@pytest.fixture
def queue_log(tmp_path: Path) -> Path:
    path = tmp_path / "queue_log"
    path.write_text(WUYI, encoding="utf-8")
    return path


def run(settings: Settings, *argv: str) -> int:
    args = parser().parse_args(["agents", *argv])
    try:
        return agents.run_agents(settings, args)
    except CLIError as exc:
        return report(exc)  # as hotline.cli.main does


def test_the_agents_command_lists_audits_and_reports() -> None:
    assert parser().parse_args(["agents", "list"]).agents_command == "list"
    sub = parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    actions = sub.choices["agents"]._subparsers._group_actions[0]
    assert set(actions.choices) == {"list", "audit", "report"}


def test_audit_json(
    settings: Settings, queue_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "audit", "--queue-log", str(queue_log), "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["alerts"]) == 12
    harm = next(a for a in doc["alerts"] if a["rule"] == "paused_while_waiting")
    assert (harm["agent"], harm["cost"]["missed"]) == ("王芳", 21)
    assert harm["evidence"]["journal"][0] == {
        "t": harm["start"], "agent": "王芳", "kind": "pause", "queue": "intake", "reason": "busy"
    }  # fmt: skip
    assert [s["action"] for s in harm["escalation"]] == ["note_agent", "alert_supervisor"]
    assert [p["line"] for p in doc["problems"]] == [131, 132, 134]
    assert doc["unknown_events"] == {"FROBNICATE": 1}


def test_audit_table(
    settings: Settings, queue_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "audit", "--queue-log", str(queue_log)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["raised", "rule", "agent"]
    assert "paused_while_waiting 有来电排队时示忙" in out
    assert "12 alerts, 3 lines not understood" in out
    assert "unknown events (ignored): FROBNICATE ×1" in out


def test_a_missing_file_or_bad_config_is_an_error_not_a_crash(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "audit", "--queue-log", str(tmp_path / "nope")) == 1
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "center.yaml"
    bad.write_text("watchdog: {thresholds: {busy_max_minutes: -1}}\n", encoding="utf-8")
    assert run(settings, "audit", "--queue-log", str(bad), "--config", str(bad)) == 2
    assert "busy_max_minutes" in capsys.readouterr().err
    assert run(settings, "report", "--date", "2026-11-23", "--db", str(tmp_path / "none.db")) == 1
    assert "no history" in capsys.readouterr().err
    assert run(settings, "report", "--date", "23/11/2026", "--queue-log", str(bad)) == 2


def test_report_from_the_history_equals_the_report_from_the_queue_log(
    settings: Settings, queue_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = build(
        e for e in parse_lines(WUYI.splitlines(keepends=True)) if not isinstance(e, ParseProblem)
    )
    db = tmp_path / "hotline.sqlite3"
    history = History.open(db)
    history.append_journal(built.agent_changes)
    history.save_calls(built.calls)
    history.close()
    args = ["report", "--date", "2026-11-23", "--format", "json"]
    assert run(settings, *args, "--db", str(db)) == 0
    from_db = json.loads(capsys.readouterr().out)
    assert run(settings, *args, "--queue-log", str(queue_log)) == 0
    from_log = json.loads(capsys.readouterr().out)
    assert from_db == from_log
    wang = next(a for a in from_db["agents"] if a["agent"] == "王芳")
    assert (wang["alerts"], wang["ring_no_answers"]) == (12, 3)


def test_report_table_csv_team_and_shift(
    settings: Settings, queue_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = ["--queue-log", str(queue_log)]
    assert run(settings, "report", "--date", "2026-11-23", "--team", "team-a", *log) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "2026-11-23 team-a"
    assert [line.split()[0] for line in table[2:5]] == ["张伟", "李娜", "王芳"]
    assert "(3 queue_log lines not understood, left out)" in table[-1]
    assert run(settings, "report", "--date", "2026-11-23", "--format", "csv", *log) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    shift = ["--team", "team-a", "--shift", "evening", "--format", "json"]
    assert run(settings, "report", "--date", "2026-11-23", *shift, *log) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == []  # they left at 16:00
    assert run(settings, "report", "--date", "2026-11-23", "--shift", "day", *log) == 2
    assert "--shift needs --team" in capsys.readouterr().err
