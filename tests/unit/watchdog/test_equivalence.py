"""Live and audit give the same alerts: fed entry by entry with ticks, or as one batch.

Live means what the controller does: journal entries as they happen, each call record
re-fed every time it changes (in progress first, ended last), and ``tick`` every second
between. The audit feeds finished records at their t_q and ticks only at entries.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.records import AgentChange, CallRecord, EndReason, QueueVisit
from hotline.queuelog import ParseProblem, QueueLogEntry, build, call_record, parse_lines
from hotline.queuelog.calls import CALL_EVENTS
from hotline.watchdog import Alert, Watchdog, replay
from hotline.watchdog.evidence import CallStore, cost, waiting

from .scenes import CENTER, ms, wuyi

Live = list[tuple[int, int, AgentChange | CallRecord]]


def facts(alerts: list[Alert]) -> dict[str, Alert]:
    return {a.id: a.facts() for a in alerts}


def run_live(items: Live, *, step: int, until: int) -> list[Alert]:
    dog = Watchdog(CENTER.watchdog, CENTER)
    items = sorted(items, key=lambda x: (x[0], x[1]))
    clock = items[0][0] if items else 0
    for t, _, item in items:
        while clock + step < t:  # the controller's ticker while nothing happens
            clock += step
            dog.tick(clock)
        clock = max(clock, t)
        dog.feed(item)
    while clock < until:
        clock = min(clock + step, until)
        dog.tick(clock)
    return dog.alerts()


def test_the_wuyi_day_live_with_ticks_equals_the_audit() -> None:
    entries = [
        e
        for e in parse_lines(wuyi().text.splitlines(keepends=True))
        if not isinstance(e, ParseProblem)
    ]
    built = build(entries)
    batch = replay(Watchdog(CENTER.watchdog, CENTER), built.agent_changes, built.calls)
    # live: each call's record as it stood after each of its lines
    lines: dict[str, list[QueueLogEntry]] = defaultdict(list)
    for e in entries:
        if e.event in CALL_EVENTS and e.callid not in ("NONE", "MANAGER"):
            lines[e.callid].append(e)
    items: Live = [(c.t, 0, c) for c in built.agent_changes]  # journal first in a second
    for cid, mine in lines.items():
        for t in sorted({e.t for e in mine}):
            items.append((t * 1000, 1, call_record(cid, [e for e in mine if e.t <= t])))
    until = max(t for t, _, _ in items)
    live = run_live(items, step=1000, until=until)
    assert facts(live) == facts(batch)
    assert len(batch) == 12


def test_ticking_coarsely_changes_nothing() -> None:
    built = build(
        e
        for e in parse_lines(wuyi().text.splitlines(keepends=True))
        if not isinstance(e, ParseProblem)
    )
    items: Live = [(c.t, 1, c) for c in built.agent_changes]
    items += [(r.t_q or 0, 0, r) for r in built.calls]
    until = max(t for t, _, _ in items)
    by_minute = run_live(items, step=60_000, until=until)
    by_hour = run_live(items, step=3_600_000, until=until)
    assert facts(by_minute) == facts(by_hour)


# -- random journals -------------------------------------------------------------------------------

AGENTS = ("王芳", "李娜", "刘洋")
T = ms("09:00:00")


@st.composite
def days(draw: st.DrawFn) -> tuple[list[AgentChange], list[CallRecord]]:
    changes: list[AgentChange] = []
    for agent in AGENTS:
        t = T + draw(st.integers(0, 60_000))
        changes.append(AgentChange(t, agent, "login", "intake"))
        paused = False
        for _ in range(draw(st.integers(0, 12))):
            t += draw(st.integers(1_000, 15 * 60_000))
            kind = draw(st.sampled_from(["pause", "unpause", "ring_no_answer", "talk", "device"]))
            if kind == "pause" and not paused:
                reason = draw(st.sampled_from(["busy", "busy", "meal", "", "toilet"]))
                changes.append(AgentChange(t, agent, "pause", "intake", reason))
                paused = True
            elif kind == "unpause" and paused:
                changes.append(AgentChange(t, agent, "unpause", "intake"))
                paused = False
            elif kind == "ring_no_answer":
                changes.append(AgentChange(t, agent, "ring_no_answer", "intake", "15000"))
            elif kind == "talk" and not paused:
                length = draw(st.integers(1_000, 120_000))
                by = draw(st.sampled_from(["agent", "caller"]))
                changes.append(AgentChange(t, agent, "connect", "intake", call_id=f"k{t}"))
                done = AgentChange(t + length, agent, "complete", "intake", by, call_id=f"k{t}")
                changes.append(done)
                t += length
            elif kind == "device":
                state = draw(st.sampled_from(["UNAVAILABLE", "NOT_INUSE"]))
                changes.append(AgentChange(t, agent, "device", "intake", state))
    calls = []
    for i in range(draw(st.integers(0, 15))):
        t_in = T + draw(st.integers(0, 3 * 3600_000))
        wait = draw(st.integers(1_000, 120_000))
        answered = draw(st.booleans())
        calls.append(
            CallRecord(
                f"c{i}",
                visits=(
                    QueueVisit(
                        "intake", t_in, 1, t_in + wait, "CONNECT" if answered else "ABANDON"
                    ),
                ),
                t_answer=t_in + wait if answered else None,
                t_end=t_in + wait,
                end_reason=EndReason.ANSWERED if answered else EndReason.ABANDONED_IN_QUEUE,
            )
        )
    return sorted(changes, key=lambda c: c.t), calls


def in_progress(record: CallRecord) -> CallRecord:
    visit = record.visits[0]
    return CallRecord(record.call_id, visits=(QueueVisit(visit.queue, visit.t_enter, 1),))


@settings(max_examples=40, deadline=None)
@given(days(), st.sampled_from([997, 5_000, 61_000]))
def test_random_days_live_equal_batch(
    day: tuple[list[AgentChange], list[CallRecord]], step: int
) -> None:
    changes, calls = day
    until = T + 4 * 3600_000
    batch = replay(Watchdog(CENTER.watchdog, CENTER), changes, calls, until=until)
    items: Live = [(c.t, 0, c) for c in changes]
    for r in calls:
        items.append((r.t_q or 0, 1, in_progress(r)))  # the caller joins: still waiting
        items.append((r.t_end or 0, 1, r))  # and leaves
    live = run_live(items, step=step, until=until)
    assert facts(live) == facts(batch)


@settings(max_examples=40, deadline=None)
@given(days())
def test_counting_call_by_call_equals_counting_at_once(
    day: tuple[list[AgentChange], list[CallRecord]],
) -> None:
    """The incremental tally (each period once, each call as it changes) against the
    definition (:func:`waiting` and :func:`cost` over everything at the end)."""
    changes, calls = day
    dog = Watchdog(CENTER.watchdog, CENTER)
    items: Live = [(c.t, 0, c) for c in changes]
    for r in calls:
        items += [(r.t_q or 0, 1, in_progress(r)), (r.t_end or 0, 1, r)]
    for t, _, item in sorted(items, key=lambda x: (x[0], x[1])):
        dog.tick(t)
        dog.feed(item)
    store = CallStore()
    for r in calls:
        store.put(r)
    for alert in dog.alerts():
        assert alert.evidence.waiting == waiting(store, alert.queues, alert.periods)
        assert alert.cost == cost(store, alert.queues, alert.periods, answer_ms=15_000)
