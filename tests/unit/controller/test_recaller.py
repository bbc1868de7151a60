"""The recaller: a RECALL command checked and originated, the dialplan's outcome stored as
an attempt, the recording handed on; on a real SQLite history and recall store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.ami.message import Message, MessageKind
from hotline.ami.stand_in import StandInAMI
from hotline.commands.plan import Command, Verb
from hotline.controller.links import Links
from hotline.controller.recaller import Recaller
from hotline.controller.recorder import Recorder
from hotline.recall.rules import RecallRules
from hotline.recall.tasks import Outcome, State
from hotline.stores.history import History
from hotline.stores.recall import RecallStore
from hotline.stt.stream import MemoryJobs
from tests.unit.recall.scene import T0, A, B, morning

from .parts import CENTER, Clock

pytestmark = pytest.mark.asyncio

RULES = RecallRules(attempts=2, retry_ms=(600_000,))


@pytest.fixture
def store(history: History) -> Iterator[RecallStore]:
    history.save_calls(morning()[:6])  # two open tasks: A (m1, m2) and B (m3)
    recall = RecallStore.open(history.file)
    recall.sync(history, RULES, now=T0 + 800_000)
    yield recall
    recall.close()


def recaller(
    store: RecallStore, history: History, ami: StandInAMI | Links[StandInAMI], tmp_path: Path
) -> Recaller:
    clock = Clock(T0 + 900_000)
    recorder = Recorder(history, MemoryJobs(), tmp_path, clock)
    return Recaller(store, history, RULES, CENTER, ami, recorder, clock)


def command(task: int | str, agent: str = "1001") -> Command:
    return Command(id="c1", verb=Verb.RECALL, agent=agent, actor="王芳", task=str(task))


def outbound(status: str, cause: str, task: int, uid: str = "1796.7", file: str = "") -> Message:
    fields = (("Event", "UserEvent"), ("UserEvent", "HotlineOutbound"), ("Status", status),
              ("Cause", cause), ("Task", str(task)), ("Uniqueid", uid), ("File", file))  # fmt: skip
    return Message(MessageKind.EVENT, fields)


def task_of(store: RecallStore, number: str) -> int:
    return next(t.id for t in store.tasks() if t.number == number)


async def test_a_recall_rings_the_agent_then_dials_the_citizen_and_records_the_outcome(
    store: RecallStore, history: History, tmp_path: Path
) -> None:
    ami = StandInAMI()
    r = recaller(store, history, ami, tmp_path)
    a = task_of(store, A)
    reply = await r.dial(command(a))
    assert reply.ok, reply.message
    assert "王芳" in reply.message
    assert A not in reply.message  # masked
    await asyncio.sleep(0)  # the originate runs beside the command
    (getvar, originate) = [headers for _, headers in ami.sent]
    assert getvar == {"Variable": "DEVICE_STATE(PJSIP/1001)"}
    assert originate["Channel"] == "PJSIP/1001"
    assert (originate["Context"], originate["Exten"]) == ("hotline-outbound", A)
    # the stand-in keeps the last of the two Variable headers (the task's is checked on
    # the real PBX, tests/integration/test_recall.py, by the task the dialplan reports)
    assert originate["Variable"] == "HOTLINE_RECALL_AGENT=王芳"
    again = await r.dial(command(a, "1004"))
    assert not again.ok
    assert "being dialled by 王芳" in again.message
    # the citizen answered; the call ends: the h extension's event
    r.apply(outbound("DIALING", "", a))  # not an outcome
    r.apply(outbound("ANSWER", "16", a, file="/srv/hotline/spool/recordings/2026/12/01/1796.7"))
    await r.record(r.finished.get_nowait())
    assert r.finished.empty()
    task = store.task(a)
    assert task is not None
    assert (task.state, task.outcome, task.closed_by, task.attempts) == (
        State.DONE, Outcome.REACHED, "王芳", 1
    )  # fmt: skip
    (attempt,) = store.attempts(a)
    assert (attempt.outcome, attempt.cause, attempt.call_id) == (Outcome.REACHED, "16", "1796.7")
    assert r.recorder.in_hand("1796.7")  # type: ignore[attr-defined]
    closed = await r.dial(command(a))
    assert not closed.ok
    assert "done already" in closed.message


async def test_busy_then_no_answer_uses_the_attempts(
    store: RecallStore, history: History, tmp_path: Path
) -> None:
    r = recaller(store, history, StandInAMI(), tmp_path)
    b = task_of(store, B)
    for status, cause in (("BUSY", "17"), ("NOANSWER", "19")):
        assert (await r.dial(command(b))).ok
        await asyncio.sleep(0)
        r.apply(outbound(status, cause, b))
        await r.record(r.finished.get_nowait())
    task = store.task(b)
    assert task is not None
    assert (task.state, task.outcome, task.attempts) == (State.EXPIRED, Outcome.ATTEMPTS_USED, 2)
    assert [x.outcome for x in store.attempts(b)] == [Outcome.BUSY, Outcome.NO_ANSWER]


async def test_an_agent_who_does_not_answer_costs_the_task_nothing(
    store: RecallStore, history: History, tmp_path: Path
) -> None:
    r = recaller(store, history, StandInAMI(refuse={"Originate": ""}), tmp_path)
    b = task_of(store, B)
    assert (await r.dial(command(b))).ok
    finished = await asyncio.wait_for(r.finished.get(), 5)
    assert finished.outcome is Outcome.AGENT_MISSED
    await r.record(finished)
    task = store.task(b)
    assert task is not None
    assert (task.state, task.attempts) == (State.OPEN, 0)
    assert [x.outcome for x in store.attempts(b)] == [Outcome.AGENT_MISSED]
    assert b not in r.dialling  # free to be dialled again


async def test_refusals_say_why(store: RecallStore, history: History, tmp_path: Path) -> None:
    ami = StandInAMI()
    r = recaller(store, history, ami, tmp_path)
    assert (await r.dial(command("x"))).message == "recall: 'x' is not a task number"
    assert (await r.dial(command(99))).message == "no recall task 99"
    assert "unknown agent '9999'" in (await r.dial(command(1, "9999"))).message
    ami.connected = False
    assert "not connected" in (await r.dial(command(1))).message
    assert ami.sent == []


async def test_a_phone_not_registered_or_on_a_call_is_not_rung(
    store: RecallStore, history: History, tmp_path: Path
) -> None:
    class Registered(StandInAMI):
        async def action(self, name: str, headers: object = ()) -> Message:  # type: ignore[override]
            self.sent.append((name, dict(headers)))  # type: ignore[call-overload]
            fields = (("Response", "Success"), ("Value", self.state))
            return Message(MessageKind.RESPONSE, fields)

        state = "UNAVAILABLE"

    ami = Registered()
    r = recaller(store, history, ami, tmp_path)
    reply = await r.dial(command(task_of(store, B)))
    assert not reply.ok
    assert reply.message.endswith("王芳's phone is not registered")
    assert (reply.key, reply.details["device"]) == ("phone_cannot", "UNAVAILABLE")
    ami.state = "INUSE"
    assert (await r.dial(command(task_of(store, B)))).message.endswith("is on a call")
    assert [name for name, _ in ami.sent] == ["Getvar", "Getvar"]  # never originated


async def test_with_the_default_pbx_down_the_recall_is_dialled_from_the_first_pbx_up(
    store: RecallStore, history: History, tmp_path: Path
) -> None:
    one, two = StandInAMI(connected=False), StandInAMI()
    r = recaller(store, history, Links("pbx1", one, {"pbx2": two}), tmp_path)
    a = task_of(store, A)
    reply = await r.dial(command(a))
    assert reply.ok, reply.message
    assert reply.message.endswith("(from pbx2)")
    assert reply.details["pbx"] == "pbx2"
    await asyncio.sleep(0)
    assert [name for name, _ in two.sent] == ["Getvar", "Originate"]  # her phone there
    assert one.sent == []
    # its end arrives from pbx2, its ids qualified (Controller.apply_from)
    r.apply(outbound("ANSWER", "16", a, uid="pbx2:1796.7"))
    await r.record(r.finished.get_nowait())
    (attempt,) = store.attempts(a)
    assert (attempt.outcome, attempt.call_id) == (Outcome.REACHED, "pbx2:1796.7")
    one.connected = True  # the default back: recalls go there again
    reply = await r.dial(command(task_of(store, B)))
    assert (reply.ok, reply.details["pbx"]) == (True, "pbx1")
    assert "from" not in reply.message
    await asyncio.sleep(0)
    assert [name for name, _ in one.sent] == ["Getvar", "Originate"]
    r.dialling.clear()  # as if that attempt had ended
    one.connected = two.connected = False
    reply = await r.dial(command(task_of(store, B), "1004"))
    assert (reply.ok, reply.key) == (False, "no_pbx_connected")
