"""What import-linter (``.importlinter``, run by ``make check``) cannot say about imports.

import-linter checks the layers and keeps the pure modules away from I/O, transitively. Here:
no module is in an import cycle (imports inside functions and under TYPE_CHECKING count: they
are cycles a reader has to untangle all the same); every package has its place in the layers;
and no pure module reads the clock through ``datetime`` (a value import the contract allows).
"""

from __future__ import annotations

import ast
import configparser
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import grimp
import pytest

import hotline

PACKAGE = Path(hotline.__file__).parent
CONFIG = Path(__file__).resolve().parents[2] / ".importlinter"


def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    assert parser.read(CONFIG), f"{CONFIG} is missing"
    return parser


def listed(section: str, key: str) -> list[str]:
    raw = contracts()[f"importlinter:contract:{section}"][key]
    return [n.strip() for line in raw.splitlines() for n in line.split("|") if n.strip()]


def cycles(imports: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            step = next(todo, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(imports.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def graph(package: str) -> dict[str, set[str]]:
    g = grimp.build_graph(package)
    return {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}


def test_no_module_is_in_an_import_cycle() -> None:
    assert cycles(graph("hotline")) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    pkg = tmp_path / "cyclic_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic_demo import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclic_demo import c\n")
    (pkg / "c.py").write_text("import cyclic_demo.a\n")
    (pkg / "d.py").write_text("from cyclic_demo import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        found = cycles(graph("cyclic_demo"))
    finally:
        sys.path.remove(str(tmp_path))
    assert found == [["cyclic_demo.a", "cyclic_demo.b", "cyclic_demo.c"]]


def test_every_package_has_a_layer() -> None:
    packages = {f"hotline.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} | {
        "hotline.__main__"
    }
    loose = sorted(
        p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"}
    )
    assert loose == [], "modules belong in a package of their layer or domain"
    assert packages == set(listed("layers", "layers"))


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


def pure_files() -> list[Path]:
    files: list[Path] = []
    for module in listed("pure", "source_modules"):
        path = PACKAGE.joinpath(*module.split(".")[1:])
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return files


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_pure_module_does_not_read_the_clock(path: Path) -> None:
    assert path.is_file(), f"{path} is listed as pure but does not exist"
    assert clock_reads(path) == []


def test_the_check_catches_a_clock_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import datetime as dt\nx = dt.date(2026, 1, 1)\ny = dt.datetime.now()\n")
    assert clock_reads(bad) == ["line 3: .now()"]
