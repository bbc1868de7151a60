"""The systemd units and the logrotate configuration `hotline systemd` / `hotline logrotate`
write: valid for systemd, each service a real hotline command, restarted on failure,
logging to the journal, reading the site's hotline.env; queue_log rotated so that the
controller's tail loses nothing (renamed, not recreated, Asterisk told to reopen)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hotline.cli.main import build_parser, main
from hotline.host import units

ROOT = Path(__file__).resolve().parents[2]


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections → key → values (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), raw
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting outside a section: {raw}"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {raw}"
        current.setdefault(key, []).append(value)
    return sections


@pytest.fixture
def written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    assert main(["init", str(site)]) == 0
    monkeypatch.setenv("HOTLINE_SITE", str(site))
    assert main(["systemd", "--out", str(tmp_path / "units")]) == 0
    return tmp_path / "units"


def test_every_service_runs_a_hotline_command_restarted_and_journaled(written: Path) -> None:
    env_file = str(written.parent / "site" / "hotline.env")
    commands = []
    for name in units.SERVICES:
        unit = parse_unit((written / name).read_text())
        service = unit["Service"]
        assert service["Restart"] == ["on-failure"], name
        assert service["EnvironmentFile"] == [env_file], name
        assert service["StandardOutput"] == ["journal"], name
        assert unit["Install"]["WantedBy"] == ["hotline.target"], name
        assert unit["Unit"]["PartOf"] == ["hotline.target"], name
        defaults = dict(
            pair.split("=", 1) for line in service.get("Environment", []) for pair in line.split()
        )
        (start,) = service["ExecStart"]
        for key, value in defaults.items():
            start = start.replace("${" + key + "}", value)
        assert "$" not in start, start  # every variable it uses has a default
        argv = shlex.split(start)
        assert argv[:3] == [sys.executable, "-m", "hotline"], start
        args = build_parser().parse_args(argv[3:])  # a command hotline accepts
        assert callable(args.handler)
        commands.append(" ".join(argv[3:5]))
    # what `hotline run` starts, each in its own unit
    assert commands == ["redis start", "pbx start", "controller", "stt worker", "web --host"]
    target = parse_unit((written / units.TARGET).read_text())
    assert target["Unit"]["Wants"][0].split() == list(units.SERVICES)


def test_systemd_analyze_verifies_the_units(written: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    files = [str(written / name) for name in (units.TARGET, *units.SERVICES)]
    done = subprocess.run([analyze, "verify", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # not even a warning


def test_systemd_without_a_site_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HOTLINE_SITE", raising=False)
    assert main(["systemd", "--out", str(tmp_path)]) == 2
    assert "hotline init DIR" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def blocks(text: str) -> dict[str, list[str]]:
    """logrotate: the path patterns of each block → its directives (scripts as one line)."""
    out: dict[str, list[str]] = {}
    lines = iter(ln.strip() for ln in text.splitlines())
    for line in lines:
        if not line or line.startswith("#"):
            continue
        assert line.endswith("{"), line
        body: list[str] = []
        for inner in lines:
            if inner == "}":
                break
            if inner == "postrotate":
                script = []
                for step in lines:
                    if step == "endscript":
                        break
                    script.append(step)
                body.append("postrotate " + "; ".join(script))
            elif inner:
                body.append(inner)
        out[line[:-1].strip()] = body
    return out


def test_logrotate_renames_queue_log_and_has_asterisk_reopen_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(run))
    assert main(["logrotate", "--out", str(tmp_path / "hotline")]) == 0
    config = blocks((tmp_path / "hotline").read_text())
    queue_log = config[f"{run}/asterisk/log/queue_log"]
    assert "nocreate" in queue_log  # the tail reads the renamed file until Asterisk reopens
    assert "delaycompress" in queue_log
    assert "copytruncate" not in queue_log  # would lose lines written since the last read
    (script,) = [d for d in queue_log if d.startswith("postrotate ")]
    command = script.removeprefix("postrotate ").split(">")[0]
    argv = shlex.split(command)
    assert argv[0] == f"HOTLINE_RUN_DIR={run}"
    assert argv[1:6] == [sys.executable, "-m", "hotline", "pbx", "cli"]
    assert argv[6:] == ["logger", "reload"]
    assert callable(build_parser().parse_args(argv[4:]).handler)
    for patterns in config:
        assert all(p.startswith(f"{run}/") for p in patterns.split()), patterns
    assert "copytruncate" in config[f"{run}/logs/*.log {run}/asterisk/log/console.log "
                                    f"{run}/redis/redis.log"]  # fmt: skip


def test_the_templates_are_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = data["package-data"]["hotline.host"]
    host = ROOT / "src" / "hotline" / "host"
    shipped = {p.relative_to(host) for g in globs for p in host.glob(g)}
    assert {Path("systemd") / n for n in (units.TARGET, *units.SERVICES)} <= shipped
    assert Path("logrotate/hotline") in shipped
