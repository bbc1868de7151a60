"""`make bench` (bench/run.py): every benchmark in it, quick flags each script accepts, a
failure or a process left running fails the run, a quick run keeps its data apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bench import run as bench_run

# scripts of bench/ that are not benchmarks of their own (README.md says what each is)
HELPERS = {"bed", "capture", "corpus", "datadir", "e2e", "fuzz", "load_check", "load_sip",
           "peers", "replay", "run", "speech"}  # fmt: skip


def test_every_benchmark_script_is_run() -> None:
    scripts = {p.stem for p in bench_run.BENCH.glob("*.py")}
    listed = {b.name for b in bench_run.BENCHMARKS}
    assert scripts - HELPERS == listed
    readme = (bench_run.BENCH / "README.md").read_text(encoding="utf-8")
    for name in sorted(scripts):
        assert f"`{name}.py`" in readme, f"bench/README.md does not say what {name}.py is"


@pytest.mark.parametrize("bench", bench_run.BENCHMARKS, ids=lambda b: b.name)
def test_quick_flags_are_the_scripts_own(bench: bench_run.Benchmark) -> None:
    source = bench.script.read_text(encoding="utf-8")
    accepted = set(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", source))
    given = {a for a in bench.quick if a.startswith("--")}
    assert given, f"{bench.name}: a quick run must make it smaller"
    assert given <= accepted, f"{bench.name}: {sorted(given - accepted)} not among {accepted}"


def fake(tmp: Path, name: str, body: str) -> bench_run.Benchmark:
    (tmp / f"{name}.py").write_text(body, encoding="utf-8")
    return bench_run.Benchmark(name, ("--quick-size",), "nothing")


def test_a_quick_run_keeps_its_data_apart_and_a_failure_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_run, "BENCH", tmp_path)
    monkeypatch.delenv("HOTLINE_BENCH_DATA", raising=False)
    said = "import os, sys; print(sys.argv[1:], os.environ['HOTLINE_BENCH_DATA'])\n"
    monkeypatch.setattr(
        bench_run,
        "BENCHMARKS",
        (fake(tmp_path, "fine", said), fake(tmp_path, "broken", "raise SystemExit(3)\n")),
    )
    out = tmp_path / "out"
    assert bench_run.main(["--quick", "--out", str(out)]) == 1
    quick_data = tmp_path / ".data" / "quick"
    assert (out / "fine.log").read_text().splitlines()[1] == f"['--quick-size'] {quick_data}"
    summary = (out / "summary.md").read_text()
    assert "| fine | ok |" in summary
    assert "| broken | exit 3 |" in summary
    assert "=== broken: FAILED (exit 3)" in capsys.readouterr().out


def test_a_process_left_running_is_named_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_run, "BENCH", tmp_path)
    pidfile = tmp_path / "pid"
    leaky = (
        "import subprocess, sys\n"
        "p = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    monkeypatch.setattr(bench_run, "BENCHMARKS", (fake(tmp_path, "leaky", leaky),))
    try:
        started = time.monotonic()
        assert bench_run.main(["--quick", "--out", str(tmp_path / "out")]) == 1
        assert time.monotonic() - started < 30  # the sleep holds the pipe: not waited for
        pid = int(pidfile.read_text())
        summary = (tmp_path / "out" / "summary.md").read_text()
        assert "| leaky | ok |" in summary
        assert summary.rstrip().endswith("| 1 |")
        assert f"=== leaky: left running: {pid} sleep 60" in capsys.readouterr().out
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), 9)


def test_an_unknown_benchmark_is_refused() -> None:
    with pytest.raises(SystemExit):
        bench_run.main(["--only", "nosuch"])
    done = subprocess.run(
        [sys.executable, str(bench_run.BENCH / "run.py"), "--only", "nosuch"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown benchmarks ['nosuch']" in done.stderr
