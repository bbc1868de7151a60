"""The agents reducer: journal, derived status (a table), wrap-up, attribution, resync."""

from __future__ import annotations

import itertools

import pytest

from hotline.agents import (
    STATUS_RULES,
    Agents,
    DeviceState,
    PauseKind,
    PausePolicy,
    Phase,
    diff,
    status,
)
from hotline.ami import EventList, Message
from hotline.ami.timestamps import parse_ms
from hotline.core.records import AgentChange, AgentStatus, PauseSetBy

from .events import T0, agent_event, member
from .replay import POLICY, load, replay


def entries(
    journal: list[AgentChange], agent: str
) -> list[tuple[str, str, str, AgentStatus | None]]:
    return [(c.kind, c.queue, c.reason, c.status) for c in journal if c.agent == agent]


def test_login_pause_for_lunch_unpause_logout_are_journaled() -> None:
    run = replay(load("agent_pause_membership"))
    s = AgentStatus
    assert entries(run.journal, "王芳") == [
        ("login", "property", "", s.READY),
        ("login", "labour", "", s.READY),
        ("pause", "property", "午饭", s.READY),  # still unpaused in labour: still gets calls
        ("pause", "labour", "午饭", s.BREAK),  # 午饭 is a break reason (POLICY)
        ("unpause", "property", "回来了", s.READY),  # the unpause's own reason, journaled
        ("unpause", "labour", "回来了", s.READY),
        ("pause", "labour", "示忙", s.READY),  # one queue only
        ("logout", "labour", "", s.READY),
        ("logout", "property", "", s.LOGGED_OUT),
    ]
    assert entries(run.journal, "李娜") == [
        ("login", "intake", "培训", s.BREAK),  # QueueAdd Paused=true Reason=培训
        ("unpause", "intake", "", s.READY),
        ("logout", "intake", "", s.LOGGED_OUT),
    ]
    # pauses not issued through hotline are unattributed
    assert all(c.set_by is None and c.actor == "" for c in run.journal)
    lunch = next(c for c in run.journal if c.reason == "午饭")
    event = next(
        e for e in load("agent_pause_membership").events if e.get("PausedReason") == "午饭"
    )
    assert lunch.t == parse_ms(event.get("Timestamp"))  # the event's Timestamp, in ms


def test_the_pause_in_the_model_carries_its_reason_and_since() -> None:
    agents = Agents(policy=POLICY)
    events = load("agent_pause_membership").events
    lunch = [i for i, e in enumerate(events) if e.get("PausedReason") == "午饭"]
    for e in events[: lunch[-1] + 1]:
        agents.apply(e)
    t = parse_ms(events[lunch[-1]].get("Timestamp"))
    view = agents.view("王芳")
    assert view is not None
    assert [(m.queue, m.paused, m.reason, m.since) for m in view.memberships] == [
        ("labour", True, "午饭", t),
        ("property", True, "午饭", parse_ms(events[lunch[0]].get("Timestamp"))),
    ]
    assert (view.pause, view.status, view.since) == (PauseKind.BREAK, AgentStatus.BREAK, t)


def test_a_call_rings_connects_and_completes() -> None:
    run = replay(load("ring_no_answer_then_answered"))
    s = AgentStatus
    assert entries(run.journal, "未接") == [
        ("login", "labour", "", s.READY),
        ("ring", "labour", "", s.RINGING),
        ("ring_no_answer", "labour", "15000", s.READY),  # RingTime ms
    ]
    kinds = [k for k, *_ in entries(run.journal, "agent8004")]
    # paused at login (准备 is not a break: BUSY), unpaused after the ring-no-answer
    assert [k for k in kinds if k != "device"] == [
        "login",
        "unpause",
        "ring",
        "connect",
        "complete",
    ]
    # a Local member's device is "in use" (Status 2) from the ring, before or after AgentConnect
    assert kinds.count("device") == 2
    complete = next(c for c in run.journal if c.kind == "complete")
    assert (complete.reason, complete.queue, complete.status) == ("agent", "labour", s.READY)
    assert complete.call_id.endswith("-i")


def test_the_caller_hanging_up_ends_the_ring() -> None:
    run = replay(load("abandoned_ringing"))
    assert [(c.kind, c.reason, c.status) for c in run.journal if c.agent == "未接"] == [
        ("login", "", AgentStatus.READY),
        ("ring", "", AgentStatus.RINGING),
        ("ring_end", "abandon", AgentStatus.READY),  # no Agent* event: QueueCallerAbandon
    ]


def test_wrap_up_follows_the_call_for_the_queues_wrapuptime() -> None:
    agents = Agents(wrapup_ms={"labour": 5000})
    journal: list[AgentChange] = []
    for e in load("answered_agent_hangs_up").events:
        journal += agents.apply(e)
        if e.name == "AgentComplete":
            break
    complete = journal[-1]
    assert (complete.kind, complete.status) == ("complete", AgentStatus.WRAP_UP)
    view = agents.view("王芳")
    assert view is not None
    assert view.phase is Phase.WRAP_UP
    assert view.wrap_up_until == complete.t + 5000
    assert agents.tick(complete.t + 4999) == []
    (end,) = agents.tick(complete.t + 5000)
    assert (end.kind, end.t, end.status) == ("wrap_up_end", complete.t + 5000, AgentStatus.READY)
    assert agents.tick(complete.t + 9000) == []
    # the whole capture: the caller's later events end the wrap-up at its due time
    run = replay(load("answered_agent_hangs_up"), wrapup_ms={"labour": 5000})
    ends = [c for c in run.journal if c.kind == "wrap_up_end"]
    assert [c.t for c in ends] == [complete.t + 5000]


def test_no_wrap_up_when_the_queue_has_none() -> None:
    run = replay(load("answered_agent_hangs_up"))
    complete = next(c for c in run.journal if c.kind == "complete")
    assert complete.status is AgentStatus.READY


def test_a_later_event_ends_a_due_wrap_up_too() -> None:
    agents = Agents(wrapup_ms={"property": 1000})
    agents.apply(member("QueueMemberAdded"))
    agents.apply(agent_event("AgentConnect", T0 + 10))
    agents.apply(agent_event("AgentComplete", T0 + 20, Reason="caller"))
    out = agents.apply(member("QueueMemberPause", T0 + 2000, paused=True, reason="示忙"))
    assert [(c.kind, c.t, c.status) for c in out] == [
        ("wrap_up_end", T0 + 1020, AgentStatus.READY),
        ("pause", T0 + 2000, AgentStatus.BUSY),
    ]


def test_a_supervisors_pause_is_attributed_and_forced() -> None:
    agents = Agents(policy=POLICY, expect_ms=5000)
    agents.apply(member("QueueMemberAdded"))
    agents.apply(member("QueueMemberAdded", queue="labour"))
    agents.expect("王芳", "pause", set_by=PauseSetBy.SUPERVISOR, actor="班长01", now=T0)
    out = agents.apply(member(paused=True, reason="forced", t=T0 + 10))
    out += agents.apply(member(paused=True, reason="forced", queue="labour", t=T0 + 10))
    assert [(c.set_by, c.actor) for c in out] == [(PauseSetBy.SUPERVISOR, "班长01")] * 2
    assert out[-1].status is AgentStatus.FORCED_BUSY
    view = agents.view("王芳")
    assert view is not None
    assert {m.set_by for m in view.memberships} == {PauseSetBy.SUPERVISOR}
    # after the window, a pause is nobody's
    agents.apply(member(paused=False, t=T0 + 100))
    (late,) = agents.apply(member(paused=True, reason="午饭", t=T0 + 6000))
    assert (late.set_by, late.actor) == (None, "")


def test_an_expectation_for_one_queue_is_used_once() -> None:
    agents = Agents()
    agents.expect("王芳", "login", set_by=PauseSetBy.SELF, actor="王芳", queue="property", now=T0)
    (first,) = agents.apply(member("QueueMemberAdded"))
    (second,) = agents.apply(member("QueueMemberAdded", queue="labour"))
    assert (first.actor, second.actor) == ("王芳", "")


def test_asterisks_autopause_is_the_systems() -> None:
    agents = Agents()
    agents.apply(member("QueueMemberAdded"))
    (change,) = agents.apply(member(paused=True, reason="Auto-Pause", t=T0 + 1))
    assert change.set_by is PauseSetBy.SYSTEM


def test_device_changes_are_journaled_once_per_change() -> None:
    agents = Agents()
    agents.apply(member("QueueMemberAdded"))
    agents.apply(member("QueueMemberAdded", queue="labour"))
    out = agents.apply(member("QueueMemberStatus", status="5"))
    out += agents.apply(member("QueueMemberStatus", status="5", queue="labour"))  # same device
    assert [(c.kind, c.reason, c.status) for c in out] == [
        ("device", "UNAVAILABLE", AgentStatus.UNAVAILABLE)
    ]


# -- the derived status: one table ---------------------------------------------------------------

ID, R, T, W = Phase.IDLE, Phase.RINGING, Phase.TALKING, Phase.WRAP_UP
N, BU, BR, F = PauseKind.NONE, PauseKind.BUSY, PauseKind.BREAK, PauseKind.FORCED
S = AgentStatus


@pytest.mark.parametrize(
    ("logged_in", "phase", "pause", "reachable", "expected"),
    [
        (False, ID, N, True, S.LOGGED_OUT),
        (False, W, BU, False, S.LOGGED_OUT),
        (False, T, N, True, S.TALKING),  # removed mid-call: still on the phone
        (True, ID, N, True, S.READY),
        (True, ID, N, False, S.UNAVAILABLE),
        (True, R, N, True, S.RINGING),
        (True, T, N, True, S.TALKING),
        (True, T, BU, True, S.TALKING),  # paused mid-call: the call shows
        (True, R, F, False, S.RINGING),
        (True, W, N, True, S.WRAP_UP),
        (True, W, BR, True, S.WRAP_UP),
        (True, ID, BU, True, S.BUSY),
        (True, ID, BU, False, S.BUSY),  # a pause shows over an unreachable phone
        (True, ID, BR, True, S.BREAK),
        (True, ID, F, True, S.FORCED_BUSY),
    ],
)
def test_status_table(
    logged_in: bool, phase: Phase, pause: PauseKind, reachable: bool, expected: AgentStatus
) -> None:
    assert status(logged_in=logged_in, phase=phase, pause=pause, reachable=reachable) is expected


def test_the_table_covers_every_combination_and_every_status() -> None:
    seen = {
        status(logged_in=li, phase=ph, pause=pa, reachable=re)
        for li, ph, pa, re in itertools.product((False, True), Phase, PauseKind, (False, True))
    }
    assert seen == set(AgentStatus)
    assert {rule[-1] for rule in STATUS_RULES} == set(AgentStatus)


@pytest.mark.parametrize(
    ("paused", "reason", "set_by", "expected"),
    [
        (False, "午饭", None, PauseKind.NONE),
        (True, "", None, PauseKind.BUSY),
        (True, "示忙", PauseSetBy.SELF, PauseKind.BUSY),
        (True, "meal", None, PauseKind.BREAK),
        (True, "用餐", None, PauseKind.BREAK),
        (True, "meal", PauseSetBy.SUPERVISOR, PauseKind.FORCED),
        (True, "forced", None, PauseKind.FORCED),
    ],
)
def test_pause_policy(
    paused: bool, reason: str, set_by: PauseSetBy | None, expected: PauseKind
) -> None:
    class Reason:
        def __init__(self, code: str, label: str, is_break: bool, supervisor_only: bool) -> None:
            self.code, self.label = code, label
            self.is_break, self.supervisor_only = is_break, supervisor_only

    policy = PausePolicy.from_reasons(
        [Reason("meal", "用餐", True, False), Reason("forced", "强制示忙", False, True)]
    )
    assert policy.kind(paused, reason, set_by) is expected


def test_device_state_parses_anything() -> None:
    assert DeviceState.parse("6") is DeviceState.RINGING
    assert DeviceState.parse("x") is DeviceState.UNKNOWN
    assert DeviceState.parse("99") is DeviceState.UNKNOWN
    assert DeviceState.parse(None) is DeviceState.UNKNOWN
    assert not DeviceState.INVALID.reachable
    assert DeviceState.INUSE.reachable


# -- resync ---------------------------------------------------------------------------------------


def test_resync_adds_and_removes_members_with_a_journal_entry() -> None:
    agents = Agents(policy=POLICY)
    agents.apply(member("QueueMemberAdded"))
    agents.apply(member("QueueMemberAdded", queue="labour"))
    agents.apply(agent_event("AgentConnect", T0 + 5, call="gone"))
    status_items = [
        member(listed=True, queue="property", paused=True, reason="午饭"),
        member(listed=True, agent="张伟", queue="intake", status="2", in_call="1"),
    ]
    out = agents.resync(status_items, now=T0 + 60_000, calls=[])
    assert [(c.agent, c.kind, c.queue, c.note) for c in out] == [
        ("王芳", "pause", "property", "resync"),
        ("张伟", "login", "intake", "resync"),
        ("王芳", "logout", "labour", "resync"),
        ("王芳", "complete", "", "resync"),  # its call is gone
        ("张伟", "connect", "", "resync"),  # InCall: talking, on a call we never saw start
    ]
    assert diff(agents, Agents.from_status(status_items, now=T0 + 60_000)) == []
    assert agents.view("王芳").status is AgentStatus.BREAK  # type: ignore[union-attr]
    assert agents.view("张伟").status is AgentStatus.TALKING  # type: ignore[union-attr]


def test_resync_of_an_equal_model_changes_nothing() -> None:
    agents = Agents(policy=POLICY)
    for item in load("concurrent").items:
        if isinstance(item, EventList):  # the first QueueStatus: while 王芳 and 李娜 talk
            assert agents.resync(item.events, now=agents.now) == []
            break
        agents.apply(item)
    talking = {v.name for v in agents.views().values() if v.status is AgentStatus.TALKING}
    assert talking == {"王芳", "李娜"}


def test_resync_takes_pause_and_login_times_from_asterisk() -> None:
    paused = member(listed=True, paused=True, reason="示忙")
    paused = Message(paused.kind, (*paused.headers, ("LastPause", "1795562000")))
    ready = member(listed=True, queue="labour")
    ready = Message(ready.kind, (*ready.headers, ("LoginTime", "1795561000")))
    agents = Agents.from_status([paused, ready], now=T0)
    view = agents.view("王芳")
    assert view is not None
    assert [(m.queue, m.since) for m in view.memberships] == [
        ("labour", 1795561000_000),
        ("property", 1795562000_000),  # the watchdog's "paused for how long" survives restarts
    ]


def test_diff_names_what_differs() -> None:
    a, b = Agents(), Agents()
    a.apply(member("QueueMemberAdded"))
    b.apply(member("QueueMemberAdded", paused=True, reason="示忙"))
    (problem,) = diff(a, b)
    assert problem.startswith("王芳: memberships")


def test_a_ring_refused_at_once_is_busy_not_unanswered() -> None:
    """Kamailio answers 486 for an agent talking on another PBX: app_queue ends the ring
    with RingTime 0. That is no ring she let go (the watchdog counts those)."""
    agents = Agents()
    journal = [c for e in (member("QueueMemberAdded", queue="intake"),
                           agent_event("AgentCalled", T0 + 10, queue="intake"),
                           agent_event("AgentRingNoAnswer", T0 + 20, queue="intake", RingTime="0"),
                           agent_event("AgentCalled", T0 + 2000, call="c2", queue="intake"),
                           agent_event("AgentRingNoAnswer", T0 + 17000, call="c2",
                                       queue="intake", RingTime="15000"))
               for c in agents.apply(e)]  # fmt: skip
    assert [(c.kind, c.reason, c.call_id) for c in journal if c.kind.startswith("ring")] == [
        ("ring", "", "c1"), ("ring_end", "busy", "c1"),
        ("ring", "", "c2"), ("ring_no_answer", "15000", "c2"),
    ]  # fmt: skip
