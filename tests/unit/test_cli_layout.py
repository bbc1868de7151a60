"""How hotline.cli is put together, enforced on the import graph (grimp; imports inside
functions count).

- No module of hotline.cli is in an import cycle.
- A command group's module imports the shared modules (common, live, progress) and
  its own parts (``metrics`` → ``metrics_load``, ``agents`` → ``agents_audit``), never
  another group: only ``main`` knows every group.
- Every command names its handler (main has no table of its own to forget one in).
"""

from __future__ import annotations

import grimp
import pytest

SHARED = {"common", "live", "progress"}

GRAPH = grimp.build_graph("hotline")
CLI = sorted(m for m in GRAPH.find_children("hotline.cli"))


def short(module: str) -> str:
    return module.removeprefix("hotline.cli.")


def cli_imports(module: str) -> set[str]:
    return {
        m for m in GRAPH.find_modules_directly_imported_by(module) if m.startswith("hotline.cli.")
    }


@pytest.mark.parametrize("module", CLI, ids=short)
def test_no_cli_module_is_in_an_import_cycle(module: str) -> None:
    cycles = [
        GRAPH.find_shortest_chain(importer=imported, imported=module)
        for imported in GRAPH.find_modules_directly_imported_by(module)
    ]
    assert [chain for chain in cycles if chain] == []


@pytest.mark.parametrize("module", [m for m in CLI if short(m) != "main"], ids=short)
def test_a_command_module_imports_no_other_command(module: str) -> None:
    name = short(module)
    group = name.split("_")[0]
    allowed = SHARED | {m for m in map(short, CLI) if m.split("_")[0] == group}
    assert sorted(short(m) for m in cli_imports(module) if short(m) not in allowed) == []


def test_the_shared_modules_import_no_command() -> None:
    for name in SHARED:
        assert {short(m) for m in cli_imports(f"hotline.cli.{name}")} <= SHARED


def test_the_check_sees_an_import_inside_a_function() -> None:
    # hotline.stores.rollup is imported only inside functions (numpy is heavy)
    assert "hotline.stores.rollup" in GRAPH.find_modules_directly_imported_by(
        "hotline.cli.metrics_params"
    )


def test_every_command_names_its_handler() -> None:
    from hotline.cli.main import build_parser

    parser = build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    missing = [
        name
        for name, command in sub.choices.items()  # type: ignore[attr-defined]
        if not callable(command.get_default("handler"))
    ]
    assert missing == []
    assert sorted(sub.choices) == [  # type: ignore[attr-defined]
        "access", "agent", "agents", "alerts", "ami", "audit", "backup", "calls", "controller",
        "db", "init", "ivr", "kamailio", "kb", "logrotate", "metrics", "notice", "orders", "pbx",
        "play", "prompts", "qa", "recall",
        "redact", "redis", "restore", "retention", "run", "sim", "stt", "supervise", "systemd",
        "transcribe",
        "transcripts", "transfer", "users", "web",
    ]  # fmt: skip


def test_the_zone_and_the_day_come_from_core_localtime() -> None:
    """No cli module spells the centre's zone or the day's length itself (hotline.core.localtime;
    common.ZONE is the zone database's object for it)."""
    import re
    from pathlib import Path

    import hotline.cli

    own = re.compile(r"86_?400_?000|ZoneInfo\(\s*\"Asia/Shanghai\"|=\s*\"Asia/Shanghai\"")
    found = [
        f"{path.name}:{n}"
        for path in sorted(Path(hotline.cli.__file__).parent.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own.search(line)
    ]
    assert found == []
