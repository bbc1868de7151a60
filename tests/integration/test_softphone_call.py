"""A citizen reaches a real softphone (baresip) through the IVR; both legs are recorded."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from tests.integration.softphone import Softphone, speech
from tests.integration.test_ivr_calls import Watcher, dial

pytestmark = pytest.mark.asyncio


def rms_db(path: Path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stats"], capture_output=True, text=True)
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("RMS lev dB"))
    value = line.split()[-1]
    return float("-inf") if value == "-inf" else float(value)


async def test_a_citizen_talks_to_a_softphone_and_both_legs_are_recorded(
    ami: AMIClient, pbx_running: Settings, tmp_path: Path
) -> None:
    spool = pbx_running.pbx_dir / "spool"
    speech(spool / "test-citizen.wav", "我要反映小区物业费的问题", pad=4)
    agent_audio = speech(tmp_path / "agent.wav", "您好，十二三四五热线，请讲。", pad=2)
    statuses = ami.subscribe("QueueMemberStatus", "AgentCalled", "AgentConnect", "AgentComplete")
    hangups = ami.subscribe("Hangup")
    with Softphone(pbx_running, "1001", tmp_path / "baresip", agent_audio) as phone:
        await ami.action(
            "QueueAdd",
            {"Queue": "intake", "Interface": "PJSIP/1001", "MemberName": "王芳",
             "StateInterface": "PJSIP/1001"},
        )  # fmt: skip
        watcher = Watcher(ami)
        uid = await dial(ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen", TALK="15")
        seen: dict[str, dict[str, object]] = {}
        try:
            while "AgentComplete" not in seen:
                event = await statuses.get(timeout=30)
                seen.setdefault(f"{event.name}:{event.get('Status')}", event.as_dict())
                if event.name in ("AgentCalled", "AgentConnect", "AgentComplete"):
                    seen[event.name] = event.as_dict()
        except TimeoutError:
            pytest.fail(f"no complete call; seen {list(seen)}; baresip:\n{phone.tail()}")
        watcher.close()
    assert watcher.callers[uid].joined == "intake"
    assert seen["AgentConnect"]["MemberName"] == "王芳"
    assert seen["AgentComplete"]["Reason"] == "agent"  # the softphone's file ended: it hung up
    assert seen["AgentCalled"]["DestChannel"].startswith("PJSIP/1001-")  # type: ignore[union-attr]
    # the real PJSIP device state reaches the queue: in use (the ringing state, 6, is
    # usually seen too, but an auto-answer on a loaded box can coalesce it away)
    assert "QueueMemberStatus:2" in seen
    # MixMonitor writes until the caller's channel ends (after the survey), then closes
    while (await hangups.get(timeout=30)).get("Uniqueid") != uid:
        pass
    await asyncio.sleep(0.5)
    legs = sorted((spool / "recordings").rglob(f"{uid}*.wav"))
    assert [p.name for p in legs] == [f"{uid}-rx.wav", f"{uid}-tx.wav"]  # no mixed copy
    rx, tx = legs[0], legs[1]
    # rx is the caller's side, tx the agent's: each carries speech, not silence
    assert rms_db(rx) > -40, f"caller leg too quiet: {rms_db(rx)}"
    assert rms_db(tx) > -40, f"agent leg too quiet: {rms_db(tx)}"
