"""Fixtures of the controller's component tests: a real history on a temporary SQLite
file, the in-memory live store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.stores.history import History
from hotline.stores.live import MemoryLive


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    store = History.open(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def live() -> MemoryLive:
    return MemoryLive()
