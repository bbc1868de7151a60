"""Listings of the CLI stay aligned by display width with Chinese text (issue #14); with
ASCII data within the old fixed widths they print what they always printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.web.accounts import Accounts
from hotline.web.roles import Role, Scope, User

from .columns import line_up


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
