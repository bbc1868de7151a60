"""Live supervision on the real PBX: a supervisor's baresip joins a citizen's call with an
agent's baresip, in each mode, and who hears whom is measured on the received audio.

Each party speaks its own tone: the citizen 400 Hz, the agent 1000 Hz, the supervisor
2500 Hz. What each party heard is measured as the share of its received audio's energy
near each frequency: the supervisor's and the agent's from baresip's decoded dumps, the
citizen's (a Local channel) from a MixMonitor of what its channel receives. One call per
mode, so a whole recording belongs to one mode and nothing needs aligning in time.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.center.config import Center
from hotline.cli import supervise as cli
from hotline.cli.common import CLIError
from hotline.commands.plan import Command, Verb
from hotline.controller.supervision import Supervision
from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from hotline.pbx.instance import read_center
from hotline.stores.access import AccessLog
from hotline.web.accounts import Accounts
from hotline.web.roles import Role, Scope
from tests.conftest import free_port
from tests.integration import bed
from tests.integration.conftest import OPS_USER
from tests.integration.softphone import Softphone
from tests.integration.test_ivr_calls import dial

pytestmark = pytest.mark.asyncio

CITIZEN_HZ, AGENT_HZ, SUPERVISOR_HZ = 400, 1000, 2500
BEEP_HZ = 1400  # the double beep of hotline-supervise-notify (pbx.instance.double_beep)
HEARD = 0.02  # a tone heard is several % of the received energy (measured: see docs)
NOT_HEARD = 0.002  # a tone not heard is at the noise floor (µ-law, other tones' leakage)
SUPERVISOR_PHONE = "1902"  # 1901 would share the agent 1001's RTP port range (softphone.py)


last_files: list[Path] = []  # the citizen's, the agent's, the supervisor's of the last call


def tone(path: Path, hz: int, seconds: float) -> Path:
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-b", "16", "-c", "1", str(path),
         "synth", str(seconds), "sine", str(hz), "vol", "0.4"],
        check=True,
    )  # fmt: skip
    return path


def share(path: Path, hz: int) -> float:
    """The share of the recording's energy within ±25 Hz of ``hz``."""
    with wave.open(str(path)) as w:
        rate, width = w.getframerate(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
        channels = w.getnchannels()
    assert width == 2, f"{path}: {width * 8}-bit"
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    total = float(power[freqs > 50].sum())
    return float(power[np.abs(freqs - hz) <= 25].sum()) / total if total else 0.0


def seconds_with(path: Path, hz: int, window: float = 0.2) -> float:
    """How long ``hz`` is heard in the recording: 0.2 s windows where it carries a tenth of
    the window's energy."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    size = int(rate * window)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    count = 0
    for start in range(0, len(samples) - size + 1, size):
        power = np.abs(np.fft.rfft(samples[start : start + size])) ** 2
        total = float(power[freqs > 50].sum())
        if total > 1e3 * size and power[np.abs(freqs - hz) <= 25].sum() > 0.1 * total:
            count += 1
    return round(count * window, 1)


def heard(path: Path) -> dict[int, float]:
    tones = (CITIZEN_HZ, AGENT_HZ, SUPERVISOR_HZ, BEEP_HZ)
    return {hz: round(share(path, hz), 4) for hz in tones}


async def ops_action(settings: Settings, name: str, headers: dict[str, str]) -> None:
    """An action the controller's AMI user may not send (MixMonitor needs 'system'): as the
    test bed's operator user (conftest.add_ops_user)."""
    endpoint = dataclasses.replace(
        pbx.endpoint(settings), username=OPS_USER, secret="ops-" + (settings.ami_secret or "")
    )
    client = AMIClient(endpoint)
    await client.connect()
    try:
        await client.action(name, headers)
    finally:
        await client.close()


def new_dump(home: Path, before: set[Path]) -> Path:
    """The decoded (received) audio baresip dumped for the newest call."""
    dumps = [p for p in (home / "dumps").glob("*dec*.wav") if p not in before]
    assert len(dumps) == 1, f"expected one new received dump in {home}: {dumps}"
    return dumps[0]


async def channel_of(ami: AMIClient, uniqueid: str) -> str:
    for ch in await bed.channels(ami):
        if ch.get("Uniqueid") == uniqueid:
            return ch.get("Channel") or ""
    raise AssertionError(f"no channel with uniqueid {uniqueid}")


@pytest_asyncio.fixture
async def phones(
    ami: AMIClient, pbx_running: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Softphone, Softphone]]:
    agent_tone = tone(tmp_path / "agent.wav", AGENT_HZ, 280)
    boss_tone = tone(tmp_path / "supervisor.wav", SUPERVISOR_HZ, 280)
    with (
        Softphone(pbx_running, "1001", tmp_path / "agent", agent_tone) as agent,
        Softphone(
            pbx_running, SUPERVISOR_PHONE, tmp_path / "supervisor", boss_tone, control=free_port()
        ) as boss,
    ):
        await ami.action(
            "QueueAdd",
            {"Queue": "intake", "Interface": "PJSIP/1001", "MemberName": "王芳",
             "StateInterface": "PJSIP/1001"},
        )  # fmt: skip
        yield agent, boss


async def one_call(
    ami: AMIClient, settings: Settings, phones: tuple[Softphone, Softphone], mode: str,
    log: AccessLog, *, center: Center | None = None,
    during: Callable[[], Awaitable[None]] | None = None, speech_s: int = 9,
) -> tuple[dict[int, float], dict[int, float], dict[int, float], str]:  # fmt: skip
    """A citizen's call answered by the agent, joined by the supervisor in ``mode``; what the
    citizen, the agent and the supervisor heard, and the session id. The citizen speaks
    ``speech_s`` seconds and hangs up (the supervisor joins about 2.5 s in)."""
    agent, boss = phones
    spool = settings.pbx_dir / "spool"
    tone(spool / "test-citizen-tone.wav", CITIZEN_HZ, speech_s)
    before = {p for ph in phones for p in (ph.home / "dumps").glob("*.wav")}
    connects = ami.subscribe("AgentConnect")
    spy = ami.subscribe("UserEvent")
    sessions = Supervision(
        center or read_center(settings), ami, log.append, lambda: time.time_ns() // 10**6
    )
    follow = asyncio.create_task(sessions.follow(ami.subscribe(*Supervision.EVENTS)))
    try:
        uid = await dial(
            ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen-tone", WAIT_BRIDGE="1", TALK="1"
        )
        while (await connects.get(timeout=40)).get("MemberName") != "王芳":
            pass
        # what the citizen hears: the read side of its own half of the Local pair
        citizen = await channel_of(ami, uid[:-1] + "c")
        heard_file = f"sup-{mode}-{uid}-citizen.wav"
        await ops_action(
            settings,
            "MixMonitor",
            {"Channel": citizen, "File": f"/srv/hotline/spool/sup-{mode}-{uid}-mix.wav",
             "Options": f"r(/srv/hotline/spool/{heard_file})"},
        )  # fmt: skip
        await asyncio.sleep(1.5)  # the citizen's tone has begun (WAIT_BRIDGE waits 1 s)
        command = Command("c-" + mode, Verb.SUPERVISE, "1001", "banzhang01", supervisor=True,
                          mode=mode, phone=SUPERVISOR_PHONE, call=uid)  # fmt: skip
        reply = await sessions.carry_out(command)
        assert reply.ok, reply.message
        session = reply.details["session"]
        while True:
            ev = await spy.get(timeout=20)
            if ev.get("UserEvent") == "HotlineSpy" and ev.get("Uniqueid") == session:
                break
        if during is not None:
            await during()
        # the citizen's tone ends, the citizen hangs up, the agent's channel goes, ChanSpy
        # (E) ends and the supervisor's channel hangs up: the session ends in the log
        deadline = time.monotonic() + 40
        while sessions.sessions:
            assert time.monotonic() < deadline, f"session {session} never ended"
            await asyncio.sleep(0.2)
    finally:
        follow.cancel()
    await asyncio.sleep(1.0)  # baresip and MixMonitor close their files
    files = (spool / heard_file, new_dump(agent.home, before), new_dump(boss.home, before))
    last_files[:] = files
    return (heard(files[0]), heard(files[1]), heard(files[2]), session)


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_who_hears_the_supervisor_in_each_mode(
    ami: AMIClient, pbx_running: Settings, phones: tuple[Softphone, Softphone], mode: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    log = AccessLog.open(tmp_path / "access.db")
    citizen, agent, boss, session = await one_call(ami, pbx_running, phones, mode, log)
    print(f"{mode}: citizen heard {citizen}, agent heard {agent}, supervisor heard {boss}")
    # the supervisor hears both sides in every mode
    assert boss[CITIZEN_HZ] > HEARD, boss
    assert boss[AGENT_HZ] > HEARD, boss
    # the call itself works both ways
    assert citizen[AGENT_HZ] > HEARD, citizen
    assert agent[CITIZEN_HZ] > HEARD, agent
    assert agent[BEEP_HZ] < NOT_HEARD, agent  # the bundled centre does not tell agents
    # listen: nobody hears the supervisor; whisper: only the agent; barge: both
    agent_hears = mode in ("whisper", "barge")
    citizen_hears = mode == "barge"
    assert (agent[SUPERVISOR_HZ] > HEARD) is agent_hears, agent
    assert (citizen[SUPERVISOR_HZ] > HEARD) is citizen_hears, citizen
    if not agent_hears:
        assert agent[SUPERVISOR_HZ] < NOT_HEARD, agent
    if not citizen_hears:
        assert citizen[SUPERVISOR_HZ] < NOT_HEARD, citizen
    # the access log: who listened to whom, in which mode, how long
    start, end = log.entries()
    assert (start.entry.user, start.entry.action) == ("banzhang01", f"supervise-{mode}")
    assert json.loads(start.entry.detail)["agent"] == "王芳"
    detail = json.loads(end.entry.detail)
    assert end.entry.action == "supervise-end"
    assert detail["session"] == session
    assert detail["joined"] is True
    assert detail["seconds"] > 3
    assert log.verify() is None


async def test_the_supervisor_switches_mode_with_keys(
    ami: AMIClient, pbx_running: Settings, phones: tuple[Softphone, Softphone], tmp_path: Path
) -> None:
    log = AccessLog.open(tmp_path / "access.db")
    boss = phones[1]

    async def keys() -> None:  # listen 2 s, whisper 3 s, then barge
        await asyncio.sleep(2)
        await asyncio.to_thread(boss.command, "sndcode", "5")
        await asyncio.sleep(3)
        await asyncio.to_thread(boss.command, "sndcode", "6")

    citizen, agent, _, _ = await one_call(
        ami, pbx_running, phones, "listen", log, during=keys, speech_s=14
    )
    print(f"switching: citizen heard {citizen}, agent heard {agent}")
    assert agent[SUPERVISOR_HZ] > HEARD, agent  # whispered to after 5
    assert citizen[SUPERVISOR_HZ] > HEARD, citizen  # barged in after 6
    _, end = log.entries()
    detail = json.loads(end.entry.detail)
    assert [m for m, _ in detail["modes"]] == ["listen", "whisper", "barge"]
    # in time: the agent hears the supervisor from the 5 on (2 s after joining), the citizen
    # from the 6 on (3 s later); before the 5 nobody does
    joined = detail["seconds"]
    citizen_s = seconds_with(last_files[0], SUPERVISOR_HZ)
    agent_s = seconds_with(last_files[1], SUPERVISOR_HZ)
    print(
        f"joined {joined} s; the agent heard the supervisor {agent_s} s, the citizen {citizen_s} s"
    )
    assert 2.0 <= agent_s - citizen_s <= 4.0
    assert agent_s <= joined - 1.0


async def test_the_agent_hears_a_beep_when_the_centre_tells_agents(
    ami: AMIClient, pbx_running: Settings, phones: tuple[Softphone, Softphone], tmp_path: Path
) -> None:
    log = AccessLog.open(tmp_path / "access.db")
    center = read_center(pbx_running)
    told = dataclasses.replace(
        center, supervision=dataclasses.replace(center.supervision, notify_agent=True)
    )
    citizen, agent, _, _ = await one_call(ami, pbx_running, phones, "listen", log, center=told)
    print(f"told: citizen heard {citizen}, agent heard {agent}")
    assert citizen[BEEP_HZ] < NOT_HEARD, citizen  # the beep is for the agent alone
    assert agent[BEEP_HZ] > NOT_HEARD, agent


async def test_a_phone_that_is_not_registered_is_not_rung(
    ami: AMIClient, pbx_running: Settings, phones: tuple[Softphone, Softphone], tmp_path: Path
) -> None:
    log = AccessLog.open(tmp_path / "access.db")
    tone(pbx_running.pbx_dir / "spool" / "test-citizen-tone.wav", CITIZEN_HZ, 14)
    connects = ami.subscribe("AgentConnect")
    sessions = Supervision(
        read_center(pbx_running), ami, log.append, lambda: time.time_ns() // 10**6
    )
    follow = asyncio.create_task(sessions.follow(ami.subscribe(*Supervision.EVENTS)))
    try:
        await dial(ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen-tone", WAIT_BRIDGE="1",
                   TALK="1")  # fmt: skip
        while (await connects.get(timeout=40)).get("MemberName") != "王芳":
            pass
        # 1901 is a supervisor's phone in center.yaml, but no softphone registered as it
        command = Command("c-x", Verb.SUPERVISE, "1001", "banzhang01", supervisor=True,
                          mode="listen", phone="1901")  # fmt: skip
        reply = await sessions.carry_out(command)
    finally:
        follow.cancel()
    assert (reply.ok, reply.message) == (False, "phone 1901 is not registered (not reachable)")
    assert log.entries() == []
    assert sessions.sessions == {}


async def test_a_supervisor_of_another_team_is_refused_before_anything_rings(
    pbx_running: Settings, tmp_path: Path
) -> None:
    accounts = Accounts.open(pbx_running.db)
    for name, team in (("banzhang02", "team-b"), ("zhijian01", "")):
        if accounts.user(name) is None:
            role = Role.SUPERVISOR if team else Role.AUDITOR
            scope = Scope(frozenset({team})) if team else None
            accounts.add(name, "a long password", role, now=1, scope=scope)
    accounts.close()
    args = argparse.Namespace(mode="listen", target="1001", phone=SUPERVISOR_PHONE,
                              user="banzhang02")  # fmt: skip
    with pytest.raises(CLIError, match="not a supervisor of 王芳's team 'team-a'"):
        cli.run(pbx_running, args)
    args.user = "zhijian01"
    with pytest.raises(CLIError, match="only supervisors"):
        cli.run(pbx_running, args)
    args.user, args.phone = "banzhang02", "1004"
    with pytest.raises(CLIError, match="not a supervisor's phone"):
        cli.run(pbx_running, args)


async def test_the_command_line_joins_through_the_running_controller(
    ami: AMIClient, pbx_running: Settings, phones: tuple[Softphone, Softphone], redis_url: str,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The whole path: hotline supervise -> Redis -> the controller -> Asterisk, logged."""
    from tests.integration.test_controller import controller_on

    accounts = Accounts.open(pbx_running.db)
    if accounts.user("banzhang01") is None:
        accounts.add("banzhang01", "a long password", Role.SUPERVISOR, now=1,
                     scope=Scope(frozenset({"team-a"})))  # fmt: skip
    accounts.close()
    tone(pbx_running.pbx_dir / "spool" / "test-citizen-tone.wav", CITIZEN_HZ, 10)
    connects = ami.subscribe("AgentConnect")
    spying = ami.subscribe("UserEvent")
    t0 = time.time_ns() // 10**6
    async with controller_on(pbx_running, redis_url, tmp_path):
        await dial(ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen-tone", WAIT_BRIDGE="1",
                   TALK="1")  # fmt: skip
        while (await connects.get(timeout=40)).get("MemberName") != "王芳":
            pass
        args = argparse.Namespace(mode="barge", target="王芳", phone=SUPERVISOR_PHONE,
                                  user="banzhang01")  # fmt: skip
        assert await asyncio.to_thread(cli.run, pbx_running, args) == 0
        assert "barge 王芳 from 1902" in capsys.readouterr().out
        while (await spying.get(timeout=20)).get("UserEvent") != "HotlineSpy":
            pass
        log = AccessLog.open(pbx_running.db)
        deadline = time.monotonic() + 40
        while len(ours := log.entries(since=t0, user="banzhang01")) < 2:
            assert time.monotonic() < deadline, f"no end entry: {ours}"
            await asyncio.sleep(0.3)
        log.close()
    start, end = ours
    assert start.entry.action == "supervise-barge"
    assert end.entry.action == "supervise-end"
    assert json.loads(end.entry.detail)["joined"] is True
