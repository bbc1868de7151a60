"""Mandarin end to end: a simulated citizen says a sentence into a real call through
Asterisk; MixMonitor records the legs, the controller catalogues them and queues their
jobs, the STT worker (whisper) transcribes each speaker, and the caller's transcript holds
the 2-character words an auditor searches for."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aredis

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.recordings.leg import Leg
from hotline.stores.transcripts import TranscriptStore
from hotline.stt.engine import Engine
from hotline.stt.worker import Options, Worker
from tests.integration import bed
from tests.integration.test_controller import Running
from tests.integration.test_ivr_calls import dial
from tests.speech import cer, mandarin, mandarin_dir

pytestmark = pytest.mark.asyncio


async def test_a_mandarin_call_is_transcribed_per_speaker(
    ami: AMIClient, pbx_running: Settings, redis_url: str, tmp_path: Path, whisper: Engine
) -> None:
    client = aredis.Redis.from_url(redis_url)
    await client.flushdb()
    st = (pbx_running.pbx_dir / "log" / "queue_log").stat()  # earlier calls are not ours
    position = {"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}
    await client.set("hotline:queuelog:position", json.dumps(position))
    await client.aclose()
    db = tmp_path / "history.sqlite3"
    run = Running(pbx_running, db)
    await run.start()
    sync = redis.Redis.from_url(redis_url)
    worker = Worker.open(dataclasses.replace(pbx_running, db=db), whisper, sync, "e2e",
                         Options(block_ms=200))  # fmt: skip
    stop = threading.Event()
    working = asyncio.create_task(asyncio.to_thread(worker.run, stop))
    try:
        spool = pbx_running.pbx_dir / "spool"
        shutil.copy(mandarin_dir() / "complaint-8k.wav", spool / "test-zh-complaint.wav")
        await bed.add_members(ami, ["labour"], paused=False)
        # help > unpaid wages; once the agent has answered ("w": wait 3 s), the citizen speaks
        uid = await dial(ami, "1-3-1-w", NO_INPUT_WAIT="3", TALK="4", __AGENT_TALK="30",
                         SPEECH="/srv/hotline/spool/test-zh-complaint")  # fmt: skip
        store = TranscriptStore.open(db)
        deadline = time.monotonic() + 90
        while len(legs := store.get(uid)) < 2:
            assert time.monotonic() < deadline, (legs, run.history.recordings(uid))
            await asyncio.sleep(0.5)
        catalogued = {r.leg: r for r in run.history.recordings(uid)}
        found = {hit.call_id for hit in store.search("物业")}
        store.close()
    finally:
        stop.set()
        await working
        worker.close()
        sync.close()
        await run.stop()
    caller, agent = legs
    assert (caller.leg, agent.leg) == (Leg.CALLER, Leg.AGENT)
    sentence = mandarin()["complaint"]
    assert "物业" in caller.text, caller.text
    assert "噪音" in caller.text, caller.text
    assert cer(sentence, caller.text) < 0.35, caller.text  # through µ-law and Asterisk
    assert agent.text == ""  # the simulated agent says nothing
    assert (caller.engine, caller.model, caller.language) == ("whisper", "faster-whisper-base",
                                                             "zh")  # fmt: skip
    assert caller.audio_sha256 == catalogued[Leg.CALLER].sha256
    # word times are in the leg: the sentence was said after the bridge, within the call
    first = next(w for w in caller.words if "物" in w.text)
    assert 0 < first.start_ms < caller.duration_ms
    assert uid in found  # what an auditor types finds the call
