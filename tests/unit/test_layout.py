"""The package layout rules of docs/architecture.md, enforced."""

from __future__ import annotations

import sys
from pathlib import Path

import hotline

PACKAGE = Path(hotline.__file__).parent


def test_no_module_is_named_after_the_standard_library() -> None:
    # A top-level `queue/` once broke asyncio.to_thread ("module 'queue' has no attribute
    # 'SimpleQueue'"): anything that lands on sys.path must not shadow the stdlib.
    clashes = []
    for path in PACKAGE.rglob("*"):
        if path.name == "__pycache__" or path.suffix not in ("", ".py"):
            continue
        if path.suffix == "" and not path.is_dir():
            continue
        name = path.stem
        if name in sys.stdlib_module_names:
            clashes.append(str(path.relative_to(PACKAGE.parent)))
    assert clashes == []


def test_one_importable_name() -> None:
    src = PACKAGE.parent
    assert sorted(p.name for p in src.iterdir() if not p.name.endswith(".egg-info")) == ["hotline"]
