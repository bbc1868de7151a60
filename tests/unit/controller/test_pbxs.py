"""The controller following two PBXs: calls keyed by (PBX, Uniqueid) in the history,
each PBX's queue_log completing its own calls, holds across PBXs kept out of the agent's
journal, and each PBX's link on the wallboard. The real controller on a SQLite history;
only the AMI links and Redis are stand-ins (as in test_crash_records)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aredis

from hotline.agents.holds import Hold, Lift, hold_reason
from hotline.ami.client import AMIClient, Endpoint
from hotline.ami.message import Message, MessageKind
from hotline.controller.core import Controller
from hotline.core.records import EndReason
from hotline.host.settings import Settings
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.stores.history import History
from hotline.stores.live import MemoryLive
from tests.unit.controller.parts import CENTER, Clock
from tests.unit.core.events import event

UID = "1796619249.7"  # both PBXs hand out this Uniqueid
T = 1_796_619_240
IFACE = "PJSIP/1001"


def two_pbxs(tmp_path: Path, history: History) -> Controller:
    env = {
        "HOTLINE_RUN_DIR": str(tmp_path / "run"),
        "HOTLINE_PBXS": "pbx2",
        "HOTLINE_PBX_PBX2_AMI_HOST": "127.0.0.3",
        "HOTLINE_PBX_PBX2_AMI_SECRET": "x",
        "HOTLINE_PBX_PBX2_QUEUE_LOG": str(tmp_path / "pbx2" / "queue_log"),
        "HOTLINE_PBX_PBX2_RECORDINGS": str(tmp_path / "pbx2" / "recordings"),
    }
    controller = Controller(
        Settings.from_env(env), CENTER, client=AMIClient(Endpoint("127.0.0.1", 1, "u", "p")),
        redis=aredis.Redis.from_url("redis://127.0.0.1:1"), history=history,
        clock=Clock(T * 1000 + 60_000),
        others={"pbx2": AMIClient(Endpoint("127.0.0.3", 1, "u", "p"))},
    )  # fmt: skip
    controller.outbox.live = MemoryLive()

    async def remember(agents: set[str]) -> None:  # the desired members live in Redis
        return None

    controller.outbox.remember = remember
    return controller


def call(t: int, agent_channel: str) -> list[object]:
    return [
        event("UserEvent", t, UserEvent="HotlineIvr", Uniqueid=UID, Menu="entry", Line="12345",
              CallerIDNum="13800138000"),
        event("QueueCallerJoin", t + 100, Uniqueid=UID, Queue="intake", Position="1"),
        event("AgentCalled", t + 200, Uniqueid=UID, Queue="intake", MemberName="王芳",
              Interface=IFACE, DestUniqueid=agent_channel),
        event("QueueCallerLeave", t + 3_150, Uniqueid=UID, Queue="intake"),
        event("AgentConnect", t + 3_160, Uniqueid=UID, Queue="intake", MemberName="王芳",
              Interface=IFACE, DestUniqueid=agent_channel),
        event("AgentComplete", t + 30_000, Uniqueid=UID, Queue="intake", MemberName="王芳",
              Interface=IFACE, DestUniqueid=agent_channel, Reason="agent"),
        event("Hangup", t + 30_010, Uniqueid=agent_channel),
        event("Hangup", t + 30_020, Uniqueid=UID, Cause="16"),
    ]  # fmt: skip


def test_the_same_uniqueid_on_two_pbxs_is_two_calls_with_their_pbx(
    tmp_path: Path, history: History
) -> None:
    controller = two_pbxs(tmp_path, history)
    for e in call(T * 1000, "1796619249.8"):
        controller.apply_from("pbx1", e)  # type: ignore[arg-type]
    for e in call(T * 1000 + 60_000, "1796619249.8"):
        controller.apply_from("pbx2", e)  # type: ignore[arg-type]
    asyncio.run(controller.flush())
    one, two = history.call(UID), history.call(f"pbx2:{UID}")
    assert one is not None
    assert two is not None
    assert (one.pbx, one.end_reason, one.agent) == ("pbx1", EndReason.ANSWERED, "王芳")
    assert (two.pbx, two.end_reason, two.linkedid) == ("pbx2", EndReason.ANSWERED, "")
    assert two.t_answer == T * 1000 + 63_160
    assert len(history.calls()) == 2


def test_each_pbxs_queue_log_completes_its_own_calls(tmp_path: Path, history: History) -> None:
    controller = two_pbxs(tmp_path, history)
    text = [
        f"{T}|{UID}|intake|NONE|ENTERQUEUE||13800138000|1",
        f"{T + 3}|{UID}|intake|王芳|CONNECT|3|{T + 3}.2|0",
        f"{T + 20}|{UID}|intake|王芳|COMPLETECALLER|3|17|1",
    ]
    entries = [e for e in parse_lines(text) if isinstance(e, QueueLogEntry)]
    side = controller.others["pbx2"]
    asyncio.run(side.reconciler.absorb([side.namespace.entry(e) for e in entries]))
    assert history.call(UID) is None  # not pbx1's call
    stored = history.call(f"pbx2:{UID}")
    assert stored is not None
    assert (stored.pbx, stored.end_reason, stored.agent) == ("pbx2", EndReason.ANSWERED, "王芳")


def test_a_ring_on_one_pbx_holds_her_on_the_other_out_of_her_journal(
    tmp_path: Path, history: History
) -> None:
    controller = two_pbxs(tmp_path, history)
    member = {"Queue": "intake", "Interface": IFACE, "MemberName": "王芳", "Wrapuptime": "0"}
    controller.apply_from("pbx1", event("QueueMemberAdded", T * 1000, Paused="0", **member))
    events = call(T * 1000 + 1000, "1796619249.8")
    for e in events[:3]:  # rung on pbx2
        controller.apply_from("pbx2", e)  # type: ignore[arg-type]
    assert list(controller.holds.decided) == [Hold("pbx1", IFACE, "王芳", "pbx2")]
    held = event("QueueMemberPause", T * 1000 + 1_250, Paused="1",
                 PausedReason=hold_reason("pbx2"), **member)  # fmt: skip
    controller.apply_from("pbx1", held)
    view = controller.agents.view("王芳")
    assert view is not None
    assert not any(m.paused for m in view.memberships)  # a hold is not her pause
    for e in events[3:]:
        controller.apply_from("pbx2", e)  # type: ignore[arg-type]
    assert list(controller.holds.decided)[-1] == Lift("pbx1", IFACE, "王芳", "pbx2")
    lifted = event("QueueMemberPause", T * 1000 + 31_300, Paused="0", PausedReason="", **member)
    controller.apply_from("pbx1", lifted)
    asyncio.run(controller.flush())
    kinds = [c.kind for c in history.journal()]
    assert "pause" not in kinds
    assert "unpause" not in kinds


def test_the_wallboard_shows_each_pbx_up_or_down(tmp_path: Path, history: History) -> None:
    controller = two_pbxs(tmp_path, history)
    controller._pbx_status(T * 1000)
    (change,) = [c for c in controller.outbox.pending.live.values() if c.kind == "setting"]
    assert change.id == "pbxs"
    assert change.doc == {
        "t": T * 1000,
        "pbxs": [{"name": "pbx1", "up": False}, {"name": "pbx2", "up": False}],
    }


def test_live_call_documents_carry_their_pbx(tmp_path: Path, history: History) -> None:
    controller = two_pbxs(tmp_path, history)
    for pbx in ("pbx1", "pbx2"):
        for e in call(T * 1000, "1796619249.8")[:2]:  # both waiting in intake
            controller.apply_from(pbx, e)  # type: ignore[arg-type]
    pending = [c for c in controller.outbox.pending.live.values() if c.kind == "call"]
    assert {(c.id, c.doc["pbx"]) for c in pending if c.doc} == {  # type: ignore[index]
        (UID, "pbx1"), (f"pbx2:{UID}", "pbx2"),
    }  # fmt: skip
    live = MemoryLive()
    controller.live = live  # type: ignore[assignment]
    asyncio.run(controller.write_snapshot())
    docs = asyncio.run(live.docs("call"))
    assert {k: d["pbx"] for k, d in docs.items()} == {UID: "pbx1", f"pbx2:{UID}": "pbx2"}


def test_the_centres_queue_holds_the_callers_of_every_pbx(tmp_path: Path, history: History) -> None:
    """A caller waiting on pbx2 is on the wallboard's intake tile with pbx1's (in order of
    arrival); when pbx2's link is down its callers leave the tile."""
    controller = two_pbxs(tmp_path, history)
    controller.apply_from("pbx2", call(T * 1000, "1796619249.8")[1])  # type: ignore[arg-type]
    controller.apply_from("pbx1", call(T * 1000 + 5_000, "1796619249.8")[1])  # type: ignore[arg-type]

    def intake() -> dict[str, object]:
        (doc,) = [c.doc for c in controller.outbox.pending.live.values()
                  if c.kind == "queue" and c.id == "intake"]  # fmt: skip
        assert doc is not None
        return doc

    assert intake()["waiting_count"] == 2
    assert [w["uniqueid"] for w in intake()["waiting"]] == [f"pbx2:{UID}", UID]  # type: ignore[attr-defined]
    # virtual hold reads the same floor: callers waiting on any PBX
    assert controller.recaller.floor.waiting()["intake"] == [T * 1000 + 100, T * 1000 + 5_100]
    controller._pbx_up = {"pbx1": True, "pbx2": True}
    controller.client._logged_in = True  # pbx1's link is up, pbx2's is not
    controller._pbx_status(T * 1000 + 6_000)  # pbx2's link: down
    assert intake()["waiting_count"] == 1
    assert [w["uniqueid"] for w in intake()["waiting"]] == [UID]  # type: ignore[attr-defined]


def test_recall_and_visit_events_of_another_pbx_reach_their_components(
    tmp_path: Path, history: History
) -> None:
    """A recall or 回访 dialled on pbx2 (pbx1's link down) ends there: its events arrive
    qualified, and the attempt's legs go to pbx2's recorder (its paths are pbx2's)."""
    controller = two_pbxs(tmp_path, history)
    assert list(controller.links) == ["pbx1", "pbx2"]
    outbound = Message(MessageKind.EVENT, (
        ("Event", "UserEvent"), ("UserEvent", "HotlineOutbound"), ("Status", "ANSWER"),
        ("Cause", "16"), ("Task", "7"), ("Uniqueid", UID),
        ("File", f"/srv/hotline/spool/recordings/2026/12/07/{UID}"),
    ))  # fmt: skip
    controller.apply_from("pbx2", outbound)
    finished = controller.recaller.finished.get_nowait()
    assert (finished.task, finished.call_id) == (7, f"pbx2:{UID}")
    asyncio.run(controller.recaller.record(finished))  # no task 7: the legs still go on
    assert controller.others["pbx2"].recorder.in_hand(f"pbx2:{UID}")
    assert not controller.recorder.in_hand(f"pbx2:{UID}")
    visit = Message(MessageKind.EVENT, (
        ("Event", "UserEvent"), ("UserEvent", "HotlineVisit"), ("Order", "GD-1"),
        ("Resolved", "1"), ("Rating", "5"), ("Uniqueid", UID),
    ))  # fmt: skip
    controller.apply_from("pbx2", visit)
    assert controller.visits.answered.get_nowait().order == "GD-1"


def test_each_pbxs_recordings_have_their_sweep(tmp_path: Path, history: History) -> None:
    controller = two_pbxs(tmp_path, history)
    sweep = controller.sweeps["pbx2"]
    assert sweep.root == tmp_path / "pbx2" / "recordings"
    assert (sweep.namespace.call_id(UID), sweep.queue_late) == (f"pbx2:{UID}", False)
    assert sweep.recorder is controller.others["pbx2"].recorder
    assert controller.sweep.root == controller.settings.pbx_dir / "spool" / "recordings"
    assert controller.sweep.queue_late


def test_with_the_default_pbx_down_the_model_follows_the_first_pbx_up(
    tmp_path: Path, history: History
) -> None:
    """pbx1 (the default) is down, pbx2 up: pbx2's member events are her pauses now (a
    hold there is not), and the default's pauses are set right at its resync."""
    controller = two_pbxs(tmp_path, history)
    member = {"Queue": "intake", "Interface": IFACE, "MemberName": "王芳", "Wrapuptime": "0"}
    controller.apply_from("pbx1", event("QueueMemberAdded", T * 1000, Paused="0", **member))
    pause = event("QueueMemberPause", T * 1000 + 1000, Paused="1", PausedReason="meal", **member)
    controller.apply_from("pbx2", pause)  # both links down: pbx1's word only
    assert not controller.agents.views()["王芳"].memberships[0].paused
    controller.others["pbx2"].client._logged_in = True  # pbx1 down, pbx2 up
    assert controller.members_from() == "pbx2"
    controller.apply_from("pbx2", pause)
    assert controller.agents.views()["王芳"].memberships[0].paused
    held = event("QueueMemberPause", T * 1000 + 2000, Paused="1",
                 PausedReason=hold_reason("pbx1"), **member)  # fmt: skip
    unpaused = event("QueueMemberPause", T * 1000 + 3000, Paused="0", **member)
    controller.apply_from("pbx2", unpaused)
    controller.apply_from("pbx2", held)  # a hold on pbx2 is not her pause
    assert not controller.agents.views()["王芳"].memberships[0].paused
    controller._pbx_status(T * 1000 + 4000)
    assert controller.members_moved  # pbx1's resync brings its pauses in line
