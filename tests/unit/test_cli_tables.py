"""Listings of the CLI stay aligned by display width with Chinese text (issue #14); with
ASCII data within the old fixed widths they print what they always printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli import ivr
from hotline.cli.ivr import _route_lines
from hotline.cli.main import main
from hotline.host.settings import DEFAULT_FLOW
from hotline.ivr.model import Route, routes
from hotline.ivr.prompts import Prompt
from hotline.pbx import install
from hotline.pbx.install import read_flow
from hotline.pbx.voice import AudioStats, BuiltPrompt, Source
from hotline.web.accounts import Accounts
from hotline.web.roles import Role, Scope, User

from .columns import line_up

FLOW = DEFAULT_FLOW


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_DB", str(tmp_path / "h.sqlite3"))
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    return tmp_path


def users_list(
    users: list[User], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    # accounts made before names were checked, or by hand: the listing shows what is stored
    monkeypatch.setattr(Accounts, "users", lambda self: users)
    assert main(["users", "list"]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.usefixtures("env")
def test_users_list_lines_up_chinese_and_long_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = [
        User("王芳", Role.AGENT, agent="1001"),
        User("li", Role.SUPERVISOR, scope=Scope({"a"})),
        User("x" * 32, Role.AUDITOR, can_unmask=True, disabled=True),
    ]
    lines = users_list(users, monkeypatch, capsys)
    assert line_up(lines, ["agent", "supervisor", "auditor"]), lines
    assert line_up(lines, ["active", "active", "disabled"]), lines
    assert line_up(lines, ["1001", "team a", "may unmask"]), lines


@pytest.mark.usefixtures("env")
def test_users_list_of_ascii_names_is_as_before(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = [User("li", Role.AGENT, agent="1001"), User("root", Role.ADMIN)]
    assert users_list(users, monkeypatch, capsys) == [
        f"{'li':<20} {'agent':<11} {'active':<9} 1001",
        f"{'root':<20} {'admin':<11} active",  # no trailing blanks now
    ]


def test_ivr_routes_line_up_chinese_and_long_queues() -> None:
    found = [
        Route(("1", "1"), ("main", "a"), "物业", "咨询", "zh"),
        Route(("2",), ("main",), "environment-protection", "complaint", "en"),
        Route(("",), ("main",), "intake", "operator", "zh"),
    ]
    lines = _route_lines(found)
    assert line_up(lines, ["zh", "en", "zh"]), lines
    assert line_up(lines, ["物业", "environment", "intake"]), lines
    assert line_up(lines, ["咨询", "complaint", "operator"]), lines


def test_ivr_routes_of_the_shipped_flow_are_as_before() -> None:
    flow, _ = read_flow(FLOW)
    lines = _route_lines(routes(flow))
    assert len(lines) == 40
    old = [
        f"{' '.join(d or '(none)' for d in r.digits):<16} {r.language}  {r.queue:<12} {r.tag}"
        for r in routes(flow)
    ]
    assert lines == old


def test_prompts_build_lines_up_long_names(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # prompt names are [a-z0-9-] (Asterisk's Playback), so no Chinese here: a long name
    # is what used to push a row out of line
    built = [
        BuiltPrompt(Prompt(name, lang, "…"), env / f"{name}.wav", source, 1.0, "")
        for name, lang, source in [
            ("welcome", "zh", Source.RECORDED),
            ("after-hours-holiday-notice", "en", Source.SYNTHESISED),
        ]
    ]
    stats = AudioStats(8000, 1, 16, "Signed PCM", 1.0, -20.0, -3.0)
    monkeypatch.setattr(install, "read_flow", lambda path: (None, ""))
    monkeypatch.setattr(install, "build_flow_prompts", lambda *args: built)
    monkeypatch.setattr(ivr, "audio_stats", lambda path: stats)
    assert main(["prompts", "build", str(FLOW)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert line_up(lines, ["recorded", "synthesised"]), lines
    assert line_up(lines, ["8000 Hz"] * 2), lines
    del built[1:]  # within the old widths: as before
    assert main(["prompts", "build", str(FLOW)]) == 0
    assert capsys.readouterr().out == f"zh/{'welcome':<18} {'recorded':<11} {stats.describe()}\n"
