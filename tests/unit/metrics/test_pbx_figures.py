"""Figures over the whole centre and per PBX: ``metrics report --by pbx`` and ``--pbx``,
``metrics explain`` naming the call's PBX. The centre's figure is the same formula over the
union of the PBXs' calls, never an average of their rates."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.core.records import AgentChange, AgentStatus, PauseSetBy
from hotline.stores.history import History

from .calls import T0, S, abandoned, answered

SPAN = ["--from", "2026-11-25", "--to", "2026-11-25"]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("HOTLINE_PBXS", "pbx2")
    for key, value in {"AMI_HOST": "127.0.0.3", "AMI_SECRET": "x", "QUEUE_LOG": "/q",
                       "RECORDINGS": "/r"}.items():  # fmt: skip
        monkeypatch.setenv(f"HOTLINE_PBX_PBX2_{key}", value)
    path = tmp_path / "h.sqlite3"
    history = History.open(path)
    history.save_calls([
        # pbx1: 3 answered in 15 s, one stored before PBXs were named ('' is the default)
        replace(answered("1.1", 5 * S), pbx="pbx1"),
        replace(answered("1.2", 10 * S, t_q=T0 + S), pbx="pbx1"),
        answered("1.3", 14 * S, t_q=T0 + 2 * S),
        # pbx2: the same Uniqueid, 1 answered late, 1 abandoned
        replace(answered("pbx2:1.1", 40 * S), pbx="pbx2"),
        replace(abandoned("pbx2:1.2", 30 * S, t_q=T0 + S), pbx="pbx2"),
    ])  # fmt: skip
    # an agent's states are the centre's, not a PBX's: a report by PBX has them in the total
    history.append_journal([
        AgentChange(t=T0 - 60 * S, agent="1007", kind="login", queue="labour",
                    status=AgentStatus.READY),
        AgentChange(t=T0 + 90 * S, agent="1007", kind="pause", queue="labour", reason="toilet",
                    set_by=PauseSetBy.SELF, status=AgentStatus.BREAK),
    ])  # fmt: skip
    history.close()
    return path


def run(db: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["metrics", *argv, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_per_pbx_figures_add_up_to_the_centres(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, _ = run(db, capsys, "report", *SPAN, "--by", "pbx", "--format", "json")
    assert code == 0
    doc = json.loads(text)
    groups = {g["key"]: g["counts"] for g in doc["groups"]}
    # the 15 s rate first, over the union: 3 / 5, not the mean of 3/3 and 0/2
    first, *_ = doc["total"]["figures"].items()
    assert first == ("sl_strict", {"value": 0.6, "numerator": 3, "denominator": 5, "unit": "ratio"})
    assert set(groups) == {"pbx1", "pbx2"}
    assert (groups["pbx1"]["R"], groups["pbx1"]["A15"]) == (3, 3)
    assert (groups["pbx2"]["R"], groups["pbx2"]["A15"], groups["pbx2"]["Ab"]) == (2, 0, 1)
    total = doc["total"]["counts"]
    for name in ("R", "A", "A15", "Ab"):
        assert total[name] == groups["pbx1"][name] + groups["pbx2"][name]
    code, text, _ = run(db, capsys, "report", *SPAN, "--pbx", "pbx2", "--format", "json")
    assert json.loads(text)["total"]["counts"]["R"] == 2
    code, table, _ = run(db, capsys, "report", *SPAN, "--pbx", "pbx1")
    assert "15-second answer rate (strict): 100.00%  [3 / 3]" in table


def test_an_unknown_pbx_is_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(db, capsys, "report", *SPAN, "--pbx", "pbx9")
    assert code == 1
    assert "--pbx 'pbx9': this centre's PBXs are pbx1, pbx2" in err


def test_explain_names_the_calls_pbx(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(db, capsys, "explain", "pbx2:1.1", "--format", "json")
    assert code == 0
    assert json.loads(text)["pbx"] == "pbx2"
    code, text, _ = run(db, capsys, "explain", "1.3")
    assert text.startswith("PBX pbx1 / 交换机 pbx1\n")
