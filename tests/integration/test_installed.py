"""hotline installed from its wheel, as a centre would: no checkout on the path at all.

The wheel is built from this tree, installed into a fresh venv outside it, and every step
runs that venv's ``hotline`` from a directory of its own: ``init`` writes the site's files,
the PBX starts with the site's flow, a simulated citizen goes through the IVR into a queue
and is answered, the controller records the call, and the wallboard opens for the admin.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.conftest import bed_env, free_port
from tests.integration.webapp import login

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str | Path], *, timeout: float = 300, **kw: object) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False, **kw
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", out])
    (built,) = out.glob("hotline-*.whl")
    return built


def test_the_wheel_carries_every_file_the_package_tracks(wheel: Path) -> None:
    tracked = run(["git", "-C", ROOT, "ls-files", "src/hotline"]).split()
    wanted = {p.removeprefix("src/") for p in tracked if not p.endswith(".py")}
    names = set(zipfile.ZipFile(wheel).namelist())
    assert wanted - names == set()


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", home])
    run([home / "bin" / "pip", "install", "-q", wheel], timeout=900)
    return home


@pytest.fixture
def site_env(venv: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user who installed the wheel: no PYTHONPATH, cwd outside."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(bed_env(tmp_path / "run"))
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env["HOTLINE_SITE"] = str(tmp_path / "site")
    yield env
    for stop in (["pbx", "stop"], ["redis", "stop"]):
        subprocess.run(["hotline", *stop], env=env, cwd=tmp_path, capture_output=True, timeout=60)


def hotline(env: dict[str, str], cwd: Path, *args: str) -> str:
    return run(["hotline", *args], env=env, cwd=cwd)


def test_an_installed_wheel_runs_a_centre(site_env: dict[str, str], tmp_path: Path) -> None:
    env, cwd = site_env, tmp_path
    where = run([Path(env["PATH"].split(":")[0]) / "python", "-c",
                 "import hotline; print(hotline.__file__)"], env=env, cwd=cwd)  # fmt: skip
    assert "site-packages" in where
    assert str(ROOT) not in where

    out = hotline(env, cwd, "init", env["HOTLINE_SITE"])
    assert "center.yaml" in out
    assert "12345.yaml" in out
    site = Path(env["HOTLINE_SITE"])
    flow = site / "flows" / "12345.yaml"

    hotline(env, cwd, "redis", "start")
    out = hotline(env, cwd, "pbx", "start")
    assert f"installed the flow {flow}" in out, out
    web_port = free_port()
    with (
        subprocess.Popen(["hotline", "controller"], env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as controller,
        subprocess.Popen(["hotline", "web", "--port", str(web_port)], env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as web,
    ):  # fmt: skip
        try:
            time.sleep(3)  # the controller's first resync
            out = hotline(env, cwd, "sim", "--calls", "2", "--rate", "60", "--agents", "2")
            assert "placed 2 calls (0 failed)" in out, out
            calls = wait_for_calls(env, cwd, 2)
            answered = [c for c in calls if c["end_reason"] == "answered" and c["agent"]]
            assert answered, calls
            password = "site-" + os.urandom(6).hex()
            run(["hotline", "users", "add", "boss", "--role", "admin", "--password-stdin"],
                env=env, cwd=cwd, input=password + "\n")  # fmt: skip
            page = asyncio.run(wallboard(web_port, "boss", password))
            assert 'id="live"' in page  # the wallboard's live table, for the admin
        finally:
            for proc in (controller, web):
                proc.terminate()
                proc.wait(timeout=30)


def wait_for_calls(env: dict[str, str], cwd: Path, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 90
    calls: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        calls = json.loads(hotline(env, cwd, "calls", "list", "--format", "json"))
        ended = [c for c in calls if c.get("end_reason")]
        if len(ended) >= count:
            return ended
        time.sleep(1)
    raise AssertionError(f"{count} ended calls expected in the history, got {calls}")


async def wallboard(port: int, user: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(50):
            try:
                await client.get("/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        reply = await login(client, user, password)
        assert reply.status_code in (200, 303), reply.text
        page = await client.get("/wallboard")
        assert page.status_code == 200, page.text
        return page.text
