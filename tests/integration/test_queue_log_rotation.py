"""queue_log rotated under a running tail, as the shipped logrotate configuration does it:
renamed (no new file), then Asterisk told to reopen (its postrotate script). The tail reads
every line exactly once, in order: those Asterisk still wrote into the renamed file through
the handle it holds, then the new file from byte 0."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.host import units
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.queuelog.tail import QueueLogTail
from tests.unit.test_service_files import blocks


def postrotate(settings: Settings) -> str:
    """The queue_log block's postrotate script of the configuration `hotline logrotate`
    writes for this run directory."""
    config = blocks(units.logrotate(["python3", "-m", "hotline"], settings.run_dir))
    block = config[f"{settings.run_dir}/asterisk/log/queue_log"]
    assert "nocreate" in block
    (script,) = [d.removeprefix("postrotate ") for d in block if d.startswith("postrotate ")]
    return script


def read_until(tail: QueueLogTail, seen: list[str], text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in seen):
        lines, _ = tail.read_new()
        seen.extend(line for line in lines if "rot-" in line)
        if not lines:
            assert time.monotonic() < deadline, (text, seen)
            time.sleep(0.05)


@pytest.mark.asyncio
async def test_rotating_queue_log_loses_no_line_of_a_running_tail(
    other_env: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings.from_env(other_env)
    install.install(settings, settings.flow)
    await asyncio.to_thread(pbx.start, settings)
    log = settings.pbx_dir / "log" / "queue_log"
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()

    async def mark(n: int) -> None:  # ADDMEMBER and REMOVEMEMBER lines naming rot-N
        iface = f"Local/99{n:02d}@hotline-test-agent/n"
        await client.action(
            "QueueAdd", {"Queue": "intake", "Interface": iface, "MemberName": f"rot-{n}"}
        )
        await client.action("QueueRemove", {"Queue": "intake", "Interface": iface})

    seen: list[str] = []
    try:
        with QueueLogTail(log) as tail:
            while tail.read_new()[0]:  # to the end of what the start wrote
                pass
            await mark(1)
            read_until(tail, seen, "rot-1|REMOVEMEMBER")

            os.rename(log, log.with_name("queue_log-20261207"))  # logrotate, nocreate
            await mark(2)  # Asterisk still writes into the renamed file
            read_until(tail, seen, "rot-2|REMOVEMEMBER")
            assert not log.exists()
            assert tail.reset is None

            script = postrotate(settings).replace("python3", sys.executable, 1).split(">")[0]
            env = {**os.environ, **other_env}
            done = subprocess.run(
                ["sh", "-c", script], capture_output=True, text=True, env=env, check=False
            )
            assert done.returncode == 0, done.stderr
            assert log.exists()  # Asterisk reopened queue_log
            await mark(3)
            read_until(tail, seen, "rot-3|REMOVEMEMBER")
            assert tail.resets == 1  # one restart at byte 0, of the new file
    finally:
        await client.close()
    events = [(line.split("|")[3], line.split("|")[4]) for line in seen]
    assert events == [
        (f"rot-{n}", kind) for n in (1, 2, 3) for kind in ("ADDMEMBER", "REMOVEMEMBER")
    ], seen
