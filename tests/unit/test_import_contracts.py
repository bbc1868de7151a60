"""Import contracts: the pure core (protocol, reducers, formulas, renderers) does no I/O.

Checked on the source (ast), so a forbidden import anywhere in a core module fails, even
inside a function or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hotline

PACKAGE = Path(hotline.__file__).parent

# Modules that must stay pure. Add each new reducer, formula and renderer here.
CORE = [
    "core/__init__.py",
    "core/validate.py",
    "core/localtime.py",
    "core/reader.py",
    "ami/protocol.py",
    "ami/message.py",
    "ami/errors.py",
    "ami/dump.py",
    "pbx/render.py",
    "core/records.py",
    "ivr/model.py",
    "ivr/loader.py",
    "ivr/asterisk.py",
    "ivr/prompts.py",
    "queuelog/__init__.py",
    "queuelog/parse.py",
    "queuelog/calls.py",
    "queuelog/agents.py",
    "queuelog/build.py",
    "queuelog/counts.py",
    "ami/timestamps.py",
    "calls/state.py",
    "queues/state.py",
    "agents/__init__.py",
    "agents/model.py",
    "agents/state.py",
    "agents/status.py",
    "agents/timeline.py",
    "metrics/__init__.py",
    "metrics/params.py",
    "metrics/timefmt.py",
    "metrics/populations.py",
    "metrics/explain.py",
    "metrics/formulas.py",
    "metrics/report.py",
    "metrics/render.py",
    "metrics/asterisk.py",
    "metrics/merge.py",
    "metrics/agenttime.py",
    "metrics/changes.py",
    "metrics/charts.py",
    "metrics/sums.py",
    "watchdog/__init__.py",
    "watchdog/alerts.py",
    "watchdog/audit.py",
    "watchdog/basis.py",
    "watchdog/config.py",
    "watchdog/engine.py",
    "watchdog/escalation.py",
    "watchdog/evidence.py",
    "watchdog/render.py",
    "watchdog/rules.py",
    "watchdog/report.py",
    "watchdog/shifts.py",
    "watchdog/spans.py",
    "watchdog/track.py",
    "stores/memory.py",
    "transcripts/transcript.py",
    "transcripts/fulltext.py",
    "transcripts/redact.py",
    "transcripts/turns.py",
    "recordings/retention.py",
    "recordings/voiced.py",
    "stt/jobs.py",
    "recordings/errors.py",
    "web/roles.py",
    "web/throttle.py",
    "web/charts.py",
    "web/board.py",
    "web/i18n.py",
    "web/filters.py",
    "web/errors.py",
]

# Anything that touches sockets, files, processes, clocks, randomness or the environment.
FORBIDDEN = {
    "asyncio",
    "socket",
    "selectors",
    "ssl",
    "subprocess",
    "os",
    "shutil",
    "pathlib",
    "io",
    "time",
    "random",
    "secrets",
    "uuid",
    "threading",
    "multiprocessing",
    "signal",
    "sqlite3",
    "logging",
    "tempfile",
    "urllib",
    "http",
    "redis",
    "vosk",
    "faster_whisper",
    "sounddevice",
    "starlette",
    "httpx",
    "hotline.ami.client",
    "hotline.stores",
    "hotline.pbx.runner",
    "hotline.pbx.process",
    "hotline.pbx.instance",
    "hotline.cli.main",
    "hotline.host.settings",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


# datetime's values are pure; reading the clock is not (``now`` is a parameter)
CLOCK_READS = {"now", "today", "utcnow"}


def clock_reads(path: Path) -> list[str]:
    return [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io(module: str) -> None:
    path = PACKAGE / module
    assert path.is_file(), f"{module} is listed as core but does not exist"
    assert sorted(n for n in imported_modules(path) if forbidden(n)) == []
    assert clock_reads(path) == []


def test_the_check_catches_a_clock_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import datetime as dt\nx = dt.date(2026, 1, 1)\ny = dt.datetime.now()\n")
    assert clock_reads(bad) == ["line 3: .now()"]


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import json\nfrom asyncio import sleep\nimport os.path\n")
    assert sorted(n for n in imported_modules(bad) if forbidden(n)) == ["asyncio", "os.path"]
