"""`hotline metrics import-queue-log | report | explain` on a SQLite file in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from hotline.cli.common import parse_when
from hotline.cli.main import main
from hotline.core.records import EndReason, Precision, Source
from hotline.metrics.merge import COMPLETED_NOTE
from hotline.metrics.render import CSV_HEADER
from hotline.stores.history import History

from .calls import T0, answered, vanished

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LOGS = sorted((FIXTURES / "queue_log").glob("*.queue_log")) + sorted(
    (FIXTURES / "ami" / "scenarios").glob("*.queue_log")
)


class CLI:
    """``hotline metrics ...`` through the real entry point (errors reported as it does)."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = tmp_path / "h.sqlite3"
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = main(["metrics", *argv, "--db", str(self.db)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def rows(self) -> tuple[int, ...]:
        with sqlite3.connect(self.db) as conn:
            return tuple(
                conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("calls", "call_visits", "call_rings")
            )


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CLI:
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    return CLI(tmp_path, capsys)


def test_importing_twice_gives_the_same_rows(cli: CLI) -> None:
    files = [str(p) for p in LOGS]
    code, out, _ = cli("import-queue-log", *files)
    assert code == 0
    first = cli.rows()
    history = History.open(cli.db)
    before = history.calls()
    history.close()
    code, again, _ = cli("import-queue-log", *files)
    assert code == 0
    assert cli.rows() == first
    history = History.open(cli.db)
    assert history.calls() == before
    history.close()
    assert first[0] == 34  # calls of the two fixture logs and the eleven captures
    assert "0 garbage lines" in out
    assert "34 built" in out
    assert "34 stored" in again
    assert "refused at the door" in out  # the limitation, said every time


def test_each_capture_alone_twice(cli: CLI) -> None:
    for path in sorted((FIXTURES / "ami" / "scenarios").glob("*.queue_log")):
        cli("import-queue-log", str(path))
        once = cli.rows()
        cli("import-queue-log", str(path))
        assert cli.rows() == once, path.name


def test_garbage_lines_are_counted_and_reported_not_fatal(cli: CLI, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(
        "1795536100|c1|labour|NONE|ENTERQUEUE||13800000001|1\n"
        "garbage\n"
        "\n"
        "12|c1|labour|NONE|ABANDON|1|1|3\n"
        "1795536100|c1|labour|NONE|BAD EVENT|\n"
        "1795536103|c1|labour|NONE|ABANDON|1|1|3\n"
        "1795536104|c2|labour|NONE|ENTERQ\x00\x00\x00\n"
        "1795536105|c3|labour|NONE|ENTERQUEUE||1380",  # cut off mid-write
        encoding="utf-8",
    )
    code, out, _ = cli("import-queue-log", str(log))
    assert code == 0
    assert "8 lines: 2 entries, 6 garbage lines (skipped, not fatal)" in out
    assert "1 fewer than 5 fields" in out
    assert "queue_log:2: fewer than 5 fields: 'garbage'" in out
    assert cli.rows()[0] == 1


def test_a_missing_file_fails(cli: CLI, tmp_path: Path) -> None:
    code, _, err = cli("import-queue-log", str(tmp_path / "nope"))
    assert code == 1
    assert "no such file" in err


def test_the_controllers_finished_record_wins_and_a_vanished_one_is_completed(cli: CLI) -> None:
    # rec-1 (answered) was finished by the controller; rec-3 vanished from its sight
    ami = answered("rec-1-480992880-i", 312, t_q=1795564385_088, arrival=1795564380_001)
    lost = vanished("rec-3-430949767-i", t_q=1795564412_400)
    history = History.open(cli.db)
    history.save_calls([ami, lost])
    history.close()
    code, out, _ = cli(
        "import-queue-log",
        str(FIXTURES / "ami" / "scenarios" / "answered_agent_hangs_up.queue_log"),
        str(FIXTURES / "ami" / "scenarios" / "abandoned_in_queue.queue_log"),
    )
    assert code == 0
    assert "1 stored" in out
    assert "1 kept as the controller recorded them" in out
    history = History.open(cli.db)
    kept, completed = history.call(ami.call_id), history.call(lost.call_id)
    history.close()
    assert kept == ami
    assert completed is not None
    assert (completed.source, completed.precision) == (Source.QUEUE_LOG, Precision.SECOND)
    assert completed.end_reason is EndReason.ABANDONED_IN_QUEUE
    assert completed.t_arrival == lost.t_arrival  # what only the controller knew
    assert COMPLETED_NOTE in completed.notes


def test_report_in_every_format(cli: CLI) -> None:
    cli("import-queue-log", *(str(p) for p in LOGS))
    span = ["--from", "2026-11-24", "--to", "2026-11-25"]
    code, table, _ = cli("report", *span, "--format", "table")
    assert code == 0
    assert "人工服务15秒接通率 · 15-second answer rate (strict): 34.38%  [11 / 32]" in table
    code, text, _ = cli("report", *span, "--by", "hour", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_HEADER
    assert {r["group"] for r in rows} >= {"total", "2026-11-25 00:00", "2026-11-25 07:00"}
    code, text, _ = cli("report", *span, "--threshold", "20", "--format", "json")
    doc = json.loads(text)
    assert doc["formula_version"]["params"]["threshold_ms"] == 20_000
    assert doc["total"]["counts"]["R"] == 32
    assert doc["data_quality"]["excluded"]["open"] == 2
    assert doc["data_quality"]["from_queue_log"] == 32


def test_report_rejects_bad_dates(cli: CLI) -> None:
    code, _, err = cli("report", "--from", "yesterday", "--to", "2026-11-25")
    assert code == 1
    assert "YYYY-MM-DD" in err
    code, _, err = cli("report", "--from", "2026-11-25", "--to", "2026-11-24")
    assert code == 1


def test_dates_are_shanghai_days_to_inclusive() -> None:
    assert parse_when("2026-11-25") == T0 - 10 * 3_600_000
    assert parse_when("2026-11-25", end=True) == T0 + 14 * 3_600_000
    assert parse_when("2026-11-25T10:00", end=True) == T0
    assert parse_when("2026-11-25T02:00:00+00:00") == T0


def test_explain_a_stored_call(cli: CLI) -> None:
    cli("import-queue-log", *(str(p) for p in LOGS))
    code, out, _ = cli("explain", "rec-5-638926573-i")
    assert code == 0
    assert "times to the second" in out
    assert "entered 劳动保障（含欠薪） (labour) at 2026-11-25 07:53:58" in out
    assert "answered 17 s later by agent agent8004: in R and A, not in A15 (17 s > 15.000 s)" in out
    assert "坐席 agent8004 接听" in out
    assert out.rstrip().splitlines()[-1].startswith("populations: R, A  (T = 15 s, S = 0 s;")
    code, out, _ = cli("explain", "rec-5-638926573-i", "--threshold", "17", "--format", "json")
    doc = json.loads(out)
    assert (doc["populations"], doc["wait_ms"]) == (["R", "A", "A15"], 17_000)
    code, _, err = cli("explain", "no-such-call")
    assert code == 1
    assert "no call 'no-such-call'" in err


def test_report_by_team_with_charts(cli: CLI, tmp_path: Path) -> None:
    History.open(cli.db).save_calls(
        [answered("a", 5_000, agent="王芳"), answered("b", 20_000, agent="刘洋"), vanished("v")]
    )
    out_dir = tmp_path / "charts"
    code, out, err = cli("report", "--from", "2026-11-25", "--to", "2026-11-25", "--by", "team",
                         "--format", "json", "--chart", str(out_dir))  # fmt: skip
    assert code == 0, err
    assert [g["key"] for g in json.loads(out)["groups"]] == ["team-a", "team-b"]
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(f"{n}.{x}" for n in ("volume", "service_level", "waits")
                           for x in ("svg", "png"))  # fmt: skip
    assert (out_dir / "volume.png").read_bytes()[:4] == b"\x89PNG"
    assert "来电量 calls per hour" in (out_dir / "volume.svg").read_text(encoding="utf-8")
    assert err.count("chart: ") == 6


def test_a_report_is_served_from_a_built_rollup_with_the_same_figures(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.stores.rollup import Rollup

    cli("import-queue-log", *(str(p) for p in LOGS))
    span = ["--from", "2026-11-24", "--to", "2026-11-25", "--format", "json"]
    code, from_records, _ = cli("report", *span)
    assert code == 0
    code, out, _ = cli("rollup", "build")
    assert code == 0
    assert out.startswith("rollup build: ")
    served: list[bool] = []
    report = Rollup.report

    def spy(self: Rollup, *args: object, **kw: object) -> object:
        out = report(self, *args, **kw)  # type: ignore[arg-type]
        served.append(out is not None)
        return out

    monkeypatch.setattr(Rollup, "report", spy)
    code, from_rollup, _ = cli("report", *span)
    assert (code, served) == (0, [True])
    assert json.loads(from_rollup) == json.loads(from_records)
