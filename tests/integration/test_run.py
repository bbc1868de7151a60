"""`hotline run` (what `make run` runs): everything starts, traffic flows, Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import httpx2 as httpx

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from hotline.stores import redis_server
from tests.conftest import free_port, hotline
from tests.integration.test_ivr_calls import dial
from tests.speech import mandarin_dir


async def mandarin_call(settings: Settings) -> str:
    """A call to the operator queue (0) that says tests' Mandarin complaint once answered.

    The simulated traffic keeps the agents busy: the call gets a member of its own and the
    queue's priority (QUEUE_PRIO), and the citizen speaks only once bridged (WAIT_BRIDGE).
    """
    spool = settings.pbx_dir / "spool"
    shutil.copy(mandarin_dir() / "complaint-8k.wav", spool / "test-zh-complaint.wav")
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    try:
        await client.action(
            "QueueAdd",
            {"Queue": "intake", "Interface": "Local/9901@hotline-test-agent/n",
             "MemberName": "测试坐席"},
        )  # fmt: skip
        speech = "/srv/hotline/spool/test-zh-complaint"
        return await dial(client, "1-0", WAIT_BRIDGE="1", TALK="4", __AGENT_TALK="30",
                          QUEUE_PRIO="10", SPEECH=speech)  # fmt: skip
    finally:
        await client.close()


def test_run_shows_live_calls_and_agents_then_stops_on_sigint(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    web_port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotline",
            "run",
            "--rate",
            "40",
            "--agents",
            "3",
            "--web-port",
            str(web_port),
            "--stt-engine",
            "whisper",  # the Mandarin call below (the only Vosk model here is Korean)
        ],
        env={**os.environ, **other_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while not lines or not lines[-1].startswith("running; Ctrl-C"):
            assert time.monotonic() < deadline, lines
            line = proc.stdout.readline()
            assert line, f"hotline run exited early: {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line.strip())
        report = "\n".join(lines)
        assert f"unix://{settings.redis_dir}/redis.sock" in report
        assert "Asterisk 22." in report
        assert f"127.0.0.1:{settings.ami_port}" in report
        assert "controller  pid" in report
        assert "stt worker  pid" in report
        assert "40.0 calls/min, 3 agents" in report
        assert pbx.status(settings).state is pbx.PBXState.RUNNING

        # simulated traffic reaches the controller: calls and agents appear
        deadline = time.monotonic() + 60
        while True:
            agents = json.loads(hotline(other_env, "agents", "list", "--format", "json").stdout)
            calls = json.loads(hotline(other_env, "calls", "list", "--format", "json").stdout)
            if len(agents) == 3 and any(c["agent"] for c in calls):
                break
            assert time.monotonic() < deadline, (agents, calls)
            time.sleep(1)
        table = hotline(other_env, "calls", "list")
        assert table.returncode == 0, table.stderr
        assert "language:" in table.stdout  # the IVR path of a simulated citizen
        assert hotline(other_env, "agents", "list").returncode == 0

        # the calls' recorded legs are transcribed by the STT worker as they end
        deadline = time.monotonic() + 90
        while True:
            status = hotline(other_env, "stt", "status").stdout
            done = next(ln for ln in status.splitlines() if ln.startswith("done "))
            if int(done.split()[1]) >= 2:
                break
            assert time.monotonic() < deadline, status
            time.sleep(1)
        assert "0 dead-lettered" in status

        # nothing hotline or its PBX wrote is for other local users: the history (numbers,
        # transcripts, password hashes), recordings, logs, the AMI secret and config
        pbx_dir = settings.pbx_dir
        secret = settings.run_dir / "secrets" / "sip-secret"  # generated (the AMI one is given)
        private = [settings.db, pbx_dir, settings.redis_dir, pbx_dir / "etc" / "manager.conf",
                   pbx_dir / "log" / "queue_log", secret]  # fmt: skip
        legs = list((settings.pbx_dir / "spool" / "recordings").rglob("*-rx.wav"))
        assert legs
        for path in [*private, *legs, *(leg.parent for leg in legs)]:
            assert path.stat().st_mode & 0o007 == 0, f"{path}: {oct(path.stat().st_mode)}"
        assert secret.stat().st_mode & 0o077 == 0

        # a citizen says a Mandarin sentence into the running system: it is transcribed per
        # speaker and an auditor finds the call by a 2-character word
        uid = asyncio.run(mandarin_call(settings))
        db_env = {**other_env, "HOTLINE_DB": str(settings.db)}
        deadline = time.monotonic() + 120
        while True:
            search = hotline(db_env, "transcripts", "search", "物业", "--purpose", "测试-run",
                             "--format", "json")  # fmt: skip
            assert search.returncode == 0, search.stderr
            if uid in search.stdout:
                break
            assert time.monotonic() < deadline, (
                hotline(db_env, "calls", "show", uid).stdout,
                hotline(db_env, "transcripts", "show", uid, "--purpose", "测试-run").stdout,
            )
            time.sleep(2)
        shown = hotline(db_env, "transcripts", "show", uid, "--purpose", "测试-run")
        assert "市民" in shown.stdout, shown.stdout
        # the web app: the first admin's login (printed once) shows the same traffic live
        assert f"web         http://127.0.0.1:{web_port}/" in report
        found = re.search(r"first login: (\S+) / (\S+)", report)
        assert found, report
        with httpx.Client(base_url=f"http://127.0.0.1:{web_port}") as web:
            page = web.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token, page.text
            signed = web.post(
                "/login",
                data={
                    "username": found.group(1),
                    "password": found.group(2),
                    "login_csrf": token.group(1),
                },
            )
            assert signed.status_code == 303, signed.text
            live = web.get("/api/live").json()
            assert len(live["docs"]["agent"]) == 4  # 3 simulated, and the Mandarin call's own
            assert web.get("/healthz").text == "ok"

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    for name in ("web", "simulated traffic", "stt worker", "controller", "asterisk", "redis"):
        assert f"stopping {name}" in out
    assert pbx.status(settings).state is pbx.PBXState.STOPPED
    assert not redis_server.status(settings).running
