"""The bundled Asterisk: start, status in every state, stop, and a first real call."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.host.settings import Settings
from hotline.pbx import runner as pbx

HOTLINE = [sys.executable, "-m", "hotline"]


def hotline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOTLINE, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_frames(sock: socket.socket, until: float) -> Iterator[dict[str, str]]:
    """AMI messages off a plain socket, parsed naively (independent of hotline.ami)."""
    buffer = b""
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            return
        buffer += chunk
        while b"\r\n\r\n" in buffer:
            frame, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = frame.decode().strip("\r\n").split("\r\n")
            yield dict(line.split(": ", 1) for line in lines if ": " in line)


def test_a_local_call_shows_up_on_a_raw_ami_socket(pbx_running: Settings) -> None:
    s = pbx_running
    with socket.create_connection((s.ami_host, s.ami_port), timeout=5) as sock:
        assert sock.recv(100).startswith(b"Asterisk Call Manager/")
        sock.sendall(
            f"Action: Login\r\nUsername: {s.ami_user}\r\nSecret: {s.ami_secret}\r\n\r\n"
            "Action: Originate\r\nActionID: call-1\r\nChannel: Local/echo@hotline-test\r\n"
            "Application: Wait\r\nData: 1\r\nAsync: true\r\nVariable: WAIT=0.5\r\n\r\n".encode()
        )
        seen: dict[str, dict[str, str]] = {}
        uniqueid = None
        for msg in read_frames(sock, time.monotonic() + 15):
            event = msg.get("Event")
            if msg.get("Response") == "Error":
                pytest.fail(f"AMI refused: {msg}")
            if event == "Newchannel" and msg["Channel"].startswith("Local/echo@hotline-test-"):
                uniqueid = uniqueid or msg["Uniqueid"]
                seen.setdefault("Newchannel", msg)
            if event == "Hangup" and msg.get("Uniqueid") == uniqueid:
                seen["Hangup"] = msg
                break
    assert uniqueid is not None, "no Newchannel for the originated call"
    assert "Hangup" in seen, "the call never hung up"
    # timestampevents = yes: the controller needs sub-second event times
    newchannel_at = float(seen["Newchannel"]["Timestamp"])
    hangup_at = float(seen["Hangup"]["Timestamp"])
    assert abs(newchannel_at - time.time()) < 60
    assert 0.4 < hangup_at - newchannel_at < 10  # Answer, Wait(0.5), Hangup


def test_status_tells_running_and_a_second_start_is_refused(
    pbx_running: Settings, env: dict[str, str]
) -> None:
    status = hotline(env, "pbx", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("running: pid ")
    assert "Asterisk 22." in status.stdout
    again = hotline(env, "pbx", "start")
    assert again.returncode == 1
    assert "already running" in again.stderr


def test_cli_runs_an_asterisk_command(pbx_running: Settings, env: dict[str, str]) -> None:
    out = hotline(env, "pbx", "cli", "queue", "show", "hotline-test")
    assert out.returncode == 0, out.stderr
    assert "hotline-test has 0 calls" in out.stdout
    assert "SL2:0.0% within 15s" in out.stdout  # servicelevel = 15 from queues.conf


def mounts_under(path: Path) -> list[str]:
    return [line for line in Path("/proc/mounts").read_text().splitlines() if str(path) in line]


def test_status_is_true_in_every_state(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    assert hotline(other_env, "pbx", "status").returncode == 3  # never started

    start = hotline(other_env, "pbx", "start")
    assert start.returncode == 0, start.stderr
    status = pbx.status(settings)
    assert status.state is pbx.PBXState.RUNNING
    assert status.pid is not None

    os.kill(status.pid, signal.SIGSTOP)  # frozen: the process exists, AMI does not answer
    try:
        frozen = hotline(other_env, "pbx", "status")
        assert frozen.returncode == 4
        assert "not responding" in frozen.stdout
    finally:
        os.kill(status.pid, signal.SIGCONT)
    assert pbx.status(settings).state is pbx.PBXState.RUNNING

    stop = hotline(other_env, "pbx", "stop")
    assert (stop.returncode, stop.stdout.strip()) == (0, "stopped")
    assert hotline(other_env, "pbx", "status").returncode == 3
    assert mounts_under(settings.pbx_dir) == []

    assert hotline(other_env, "pbx", "start").returncode == 0
    killed = pbx.status(settings).pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)  # a crash: the pid file is stale now
    deadline = time.monotonic() + 10
    while pbx.status(settings).state is not pbx.PBXState.STOPPED:
        assert time.monotonic() < deadline, "status still claims a killed Asterisk runs"
        time.sleep(0.1)
    assert mounts_under(settings.pbx_dir) == []  # the mount namespace died with it
    assert hotline(other_env, "pbx", "start").returncode == 0  # and it starts again


def test_a_busy_port_is_a_clear_error(other_env: dict[str, str]) -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(other_env["HOTLINE_AMI_PORT"])))
        squatter.listen()
        out = hotline(other_env, "pbx", "start")
    assert out.returncode == 1
    assert f"AMI port {other_env['HOTLINE_AMI_PORT']} on 127.0.0.1 is already in use" in out.stderr
    assert "HOTLINE_AMI_PORT" in out.stderr


def test_a_missing_rootfs_is_a_clear_error(other_env: dict[str, str], tmp_path: Path) -> None:
    out = hotline({**other_env, "HOTLINE_ROOTFS": str(tmp_path / "none")}, "pbx", "start")
    assert out.returncode == 1
    assert "no Asterisk rootfs at" in out.stderr
    assert "scripts/setup" in out.stderr


def test_stop_when_stopped_says_so(other_env: dict[str, str]) -> None:
    out = hotline(other_env, "pbx", "stop")
    assert (out.returncode, out.stdout.strip()) == (0, "was not running")
