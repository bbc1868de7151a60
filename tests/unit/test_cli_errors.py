"""Every failure of the ``hotline`` CLI is reported one way: ``hotline: MESSAGE`` on stderr,
nothing on stdout, exit 1 (the data, a file, a service) or 2 (the command line or the
configuration), never a traceback. One error type, hotline.cli.common.CLIError, carries it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hotline.cli
from hotline.cli.main import main
from hotline.host.settings import DEFAULT_FLOW

CLI = Path(hotline.cli.__file__).parent
FLOW = DEFAULT_FLOW


@pytest.fixture(autouse=True)
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("HOTLINE_DB", str(tmp_path / "h.sqlite3"))


FAILURES = [
    (["metrics", "report", "--from", "yesterday", "--to", "2026-11-25"], 1, "YYYY-MM-DD"),
    (["metrics", "import-queue-log", "/nonexistent/queue_log"], 1, "no such file"),
    (["metrics", "callback-done", "nope", "--by", "王芳"], 1, "no open callback"),
    (["transcripts", "search", "物业", "--purpose", " "], 1, "say why you look"),
    (["transcripts", "search", "物" * 300, "--purpose", "P"], 1, "at most 200"),
    (["access", "list", "--from", "yesterday"], 1, "YYYY-MM-DD"),
    (["retention", "release", "c1", "--reason", "x", "--by", "y"], 1, "not on hold"),
    (["retention", "plan", "--now", "yesterday"], 1, "YYYY-MM-DD"),
    (["calls", "list", "--since", "yesterday"], 1, "--since 'yesterday'"),
    (["alerts", "list", "--since", "yesterday"], 1, "--since 'yesterday'"),
    (["notice", "on", "--as", "张三"], 1, "name the announcement"),
    (["agents", "audit", "--queue-log", "/nonexistent/queue_log"], 1, "cannot read"),
    (["agents", "report", "--date", "23/11/2026", "--queue-log", "x"], 2, "--date"),
    (["ami", "dump", "/nonexistent/capture.raw"], 1, "cannot read"),
    (["ivr", "twiml", str(FLOW), "entry", "--lang", "xx"], 1, "language 'xx'"),
    (["ivr", "routes", "/nonexistent/flow.yaml"], 1, "cannot read"),
]


@pytest.mark.parametrize(
    ("argv", "code", "says"), FAILURES, ids=[" ".join(f[0][:2]) for f in FAILURES]
)
def test_a_failure_is_one_line_on_stderr_and_an_exit_code(
    argv: list[str], code: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("hotline: ")
    assert says in err
    assert "Traceback" not in err


def test_a_bad_environment_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_AMI_PORT", "amiport")
    assert main(["redact"]) == 2
    assert capsys.readouterr().err == "hotline: HOTLINE_AMI_PORT='amiport' is not a port number\n"


def test_the_cli_has_one_error_type() -> None:
    """No command module defines its own exception: they raise common.CLIError."""
    defined = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception"))
                for b in node.bases
            ):
                defined.append(f"{path.name}:{node.name}")
    assert defined == ["common.py:CLIError"]
