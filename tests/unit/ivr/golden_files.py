"""Golden files: a renderer's output is compared with a reviewed file in golden/.

After a deliberate change to a renderer or to flows/12345.yaml, regenerate them with
`UPDATE_GOLDEN=1 pytest tests/unit/ivr` and review the diff before committing.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def read_golden(path: Path) -> str:
    if not path.is_file():
        pytest.fail(f"no golden file {path}: run with UPDATE_GOLDEN=1 and review it")
    return path.read_text(encoding="utf-8")


def check_golden(path: Path, text: str, lines: Callable[[str], list[str]] | None = None) -> None:
    """``text`` is the content of golden file ``path``; with UPDATE_GOLDEN=1 it becomes it.

    ``lines`` turns a text into the lines a mismatch is shown with (default: as is).
    """
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = read_golden(path)
    if text != expected:
        split = lines or (lambda t: t.splitlines(keepends=True))
        diff = "".join(difflib.unified_diff(split(expected), split(text), "golden", "rendered"))
        pytest.fail(f"{path.name} differs (UPDATE_GOLDEN=1 to accept):\n{diff}")
