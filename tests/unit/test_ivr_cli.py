"""`hotline ivr check|render|routes|twiml` on the shipped flow and on broken ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hotline.host.settings import DEFAULT_FLOW

FLOW = DEFAULT_FLOW


def hotline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_accepts_the_shipped_flow() -> None:
    out = hotline("ivr", "check", str(FLOW))
    assert out.returncode == 0, out.stderr
    assert "ok: 5 menus, 4 queues, 40 routes" in out.stdout


def test_check_names_every_bad_node(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        FLOW.read_text(encoding="utf-8")
        .replace("{queue: property, tag: inquiry}", "{queue: houseing, tag: inquiry}")
        .replace("timeout: 900", "timeout: forever"),
        encoding="utf-8",
    )
    out = hotline("ivr", "check", str(bad))
    assert out.returncode == 1
    assert "menus.inquiry.options.1: unknown queue 'houseing'" in out.stderr
    assert "queues.intake.timeout: expected int, got 'forever'" in out.stderr


def test_check_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    out = hotline("ivr", "check", str(tmp_path / "none.yaml"))
    assert out.returncode == 1
    assert "cannot read the flow" in out.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("menus: [1, 2\n")
    out = hotline("ivr", "check", str(broken))
    assert out.returncode == 1
    assert "not valid YAML" in out.stderr


def test_render_writes_the_dialplan_and_queues(tmp_path: Path) -> None:
    out = hotline("ivr", "render", str(FLOW), "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "extensions-hotline.conf",
        "queues-hotline.conf",
    ]
    assert "[hotline-menu-main]" in (tmp_path / "extensions-hotline.conf").read_text()


def test_routes_and_twiml() -> None:
    routes = hotline("ivr", "routes", str(FLOW))
    assert routes.returncode == 0
    assert len(routes.stdout.splitlines()) == 40
    twiml = hotline("ivr", "twiml", str(FLOW), "main", "--lang", "en")
    assert twiml.returncode == 0, twiml.stderr
    assert "<Gather" in twiml.stdout
    assert "press 0 for an operator" in twiml.stdout
    unknown = hotline("ivr", "twiml", str(FLOW), "nope")
    assert unknown.returncode == 1
    assert "no menu 'nope'" in unknown.stderr
