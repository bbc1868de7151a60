"""A site for the command-line tests: HOTLINE_DB and HOTLINE_RUN_DIR under a temporary
directory, and web accounts (the users ``--as`` names) in its history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from hotline.web.accounts import Accounts


def site_with_users(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    users: Mapping[str, Mapping[str, Any]],
    disabled: Iterable[str] = (),
) -> Path:
    """The site's database, with USERS (name -> Accounts.add keywords) and DISABLED."""
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    accounts = Accounts.open(db, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    for name, spec in users.items():
        accounts.add(name, "a long password", now=0, **spec)
    for name in disabled:
        accounts.set_disabled(name)
    accounts.close()
    return db
