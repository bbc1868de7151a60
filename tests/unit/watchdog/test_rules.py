"""Each rule fires at its threshold, not a millisecond before (journals in ms, some by property)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.records import (
    AgentChange,
    AgentStatus,
    CallRecord,
    EndReason,
    PauseSetBy,
    QueueVisit,
)
from hotline.watchdog import Alert, RuleId, Watchdog, replay
from hotline.watchdog.config import Thresholds, WatchdogConfig

from .scenes import CENTER, ms

WANG, LI, ZHANG, LIU = "王芳", "李娜", "张伟", "刘洋"  # team-a, team-a, team-a, team-b
T = ms("10:00:00")  # far from team-a's shift changes (08:00, 16:00, 24:00)
MIN = 60_000
Items = Sequence[AgentChange | CallRecord]


def c(t: int, agent: str, kind: str, reason: str = "", queue: str = "intake", **kw: object):  # type: ignore[no-untyped-def]
    return AgentChange(t, agent, kind, queue, reason, **kw)  # type: ignore[arg-type]


def call(t_in: int, wait: int, *, answered: bool = False, queue: str = "intake") -> CallRecord:
    out = t_in + wait
    return CallRecord(
        f"call-{t_in}-{queue}",
        visits=(QueueVisit(queue, t_in, 1, out, "CONNECT" if answered else "ABANDON"),),
        t_answer=out if answered else None,
        t_end=out,
        end_reason=EndReason.ANSWERED if answered else EndReason.ABANDONED_IN_QUEUE,
    )


def run(
    items: Items, *, until: int | None = None, config: WatchdogConfig | None = None
) -> list[Alert]:
    changes = [i for i in items if isinstance(i, AgentChange)]
    calls = [i for i in items if isinstance(i, CallRecord)]
    return replay(Watchdog(config or CENTER.watchdog, CENTER), changes, calls, until=until)


def live(items: Items, upto: int) -> list[Alert]:
    """Fed as the controller would until ``upto`` (ms), then ticked there."""
    dog = Watchdog(CENTER.watchdog, CENTER)
    for item in sorted(items, key=lambda i: i.t if isinstance(i, AgentChange) else i.t_q or 0):
        t = item.t if isinstance(item, AgentChange) else item.t_q or 0
        if t <= upto:
            dog.tick(t)
            dog.feed(item)
    dog.tick(upto)
    return dog.alerts()


def of(alerts: list[Alert], rule: RuleId) -> list[Alert]:
    return [a for a in alerts if a.rule is rule]


def busy(agent: str, start: int, end: int | None, reason: str = "busy") -> list[AgentChange]:
    out = [c(start, agent, "pause", reason)]
    return out if end is None else [*out, c(end, agent, "unpause")]


def on(agent: str, t: int = T - 90 * MIN) -> AgentChange:
    return c(t, agent, "login")


# -- rule 1: one episode, per-shift totals and share ----------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(10 * MIN - 3000, 10 * MIN + 3000), st.integers(1, 50 * MIN)))
def test_a_long_pause_fires_exactly_at_ten_minutes(d: int) -> None:
    items = [on(WANG), *busy(WANG, T, T + d)]
    long = of(run(items), RuleId.LONG_PAUSE)
    assert bool(long) == (d >= 10 * MIN)
    if long:
        assert long[0].t_raised == T + 10 * MIN
        assert (long[0].end, long[0].value) == (T + d, d)
        assert of(live(items, T + 10 * MIN - 1), RuleId.LONG_PAUSE) == []  # not a ms before


def test_a_long_pause_fires_while_nothing_happens() -> None:
    items = [on(WANG), *busy(WANG, T, None)]
    assert of(live(items, T + 10 * MIN - 1), RuleId.LONG_PAUSE) == []
    [alert] = of(live(items, T + 10 * MIN), RuleId.LONG_PAUSE)
    assert (alert.end, alert.t_raised) == (None, T + 10 * MIN)


@settings(max_examples=40, deadline=None)
@given(st.integers(30 * MIN, 70 * MIN))
def test_a_break_is_held_to_its_reason_s_limit(d: int) -> None:
    meal = of(run([on(LI), *busy(LI, T, T + d, "meal")]), RuleId.LONG_BREAK)  # 40 min
    assert bool(meal) == (d >= 40 * MIN)
    meeting = of(run([on(LI), *busy(LI, T, T + d, "meeting")]), RuleId.LONG_BREAK)  # no max: 60
    assert bool(meeting) == (d >= 60 * MIN)
    alerts = run([on(LI), *busy(LI, T, T + d, "用餐")])  # the label counts as the code
    assert of(alerts, RuleId.LONG_PAUSE) == []
    assert of(alerts, RuleId.PAUSE_WITHOUT_REASON) == []


def test_a_supervisor_s_forced_pause_is_not_the_agent_s_fault() -> None:
    forced = [on(WANG), c(T, WANG, "pause", "forced"), c(T + 90 * MIN, WANG, "unpause")]
    by_supervisor = [on(WANG), c(T, WANG, "pause", "busy", set_by=PauseSetBy.SUPERVISOR)]
    assert run(forced) == []
    assert run([*by_supervisor, c(T + 90 * MIN, WANG, "unpause")]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1 * MIN, 9 * MIN), min_size=1, max_size=6))
def test_the_shift_total_fires_when_the_sum_reaches_thirty_minutes(lengths: list[int]) -> None:
    items: list[AgentChange] = [on(WANG, ms("08:00:00"))]
    t = ms("08:40:00")
    crossing, acc = None, 0
    for d in lengths:
        items += busy(WANG, t, t + d)
        if crossing is None and acc + d >= 30 * MIN:
            crossing = t + 30 * MIN - acc
        acc += d
        t += d + 5 * MIN
    total = of(run(items), RuleId.SHIFT_BUSY_TOTAL)
    assert [a.t_raised for a in total] == ([crossing] if crossing is not None else [])


def test_the_busy_share_fires_when_it_reaches_its_share_of_logged_in_time() -> None:
    # logged in 09:00, ready an hour, then 示忙: 0.15 of (60 min + x) = x at x = 9/0.85 min
    items = [on(WANG, ms("09:00:00")), *busy(WANG, ms("10:00:00"), ms("10:20:00"))]
    x = -(-9 * MIN * 100 // 85)  # ceil
    [share] = of(run(items), RuleId.SHIFT_BUSY_SHARE)
    assert share.t_raised == ms("10:00:00") + x
    assert of(live(items, share.t_raised - 1), RuleId.SHIFT_BUSY_SHARE) == []
    # not before an hour logged in: 10 min 示忙 of the first 30 is a third, and waits
    early = [on(WANG, ms("09:00:00")), *busy(WANG, ms("09:20:00"), ms("09:29:00"))]
    [late] = of(run(early, until=ms("12:00:00")), RuleId.SHIFT_BUSY_SHARE)
    assert late.t_raised == ms("10:00:00")  # 9 min of 60 = 15 %, exactly


# -- rule 2: paused while callers wait -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 120_000), st.integers(15_000, 25_000))
def test_paused_while_a_caller_waits_twenty_seconds(after: int, wait: int) -> None:
    items: list[AgentChange | CallRecord] = [on(WANG), *busy(WANG, T, T + 5 * MIN)]
    items.append(call(T + after, wait))
    harm = of(run(items), RuleId.PAUSED_WHILE_WAITING)
    assert bool(harm) == (wait >= 20_000)
    if harm:
        assert harm[0].t_raised == T + after + 20_000
        assert harm[0].cost.calls == (f"call-{T + after}-intake",)


def test_a_caller_already_waiting_counts_from_the_pause() -> None:
    items = [on(WANG), *busy(WANG, T, T + 5 * MIN), call(T - 10_000, 25_000)]
    [harm] = of(run(items), RuleId.PAUSED_WHILE_WAITING)
    assert harm.t_raised == T + 10_000


def test_no_harm_on_a_break_in_a_call_or_in_another_queue() -> None:
    waiting = call(T + 1000, 120_000)
    assert (
        of(run([on(LI), *busy(LI, T, T + 5 * MIN, "meal"), waiting]), RuleId.PAUSED_WHILE_WAITING)
        == []
    )
    talking = [on(WANG), c(T - 1000, WANG, "connect", call_id="x"), *busy(WANG, T, T + 5 * MIN)]
    assert of(run([*talking, waiting]), RuleId.PAUSED_WHILE_WAITING) == []
    elsewhere = call(T + 1000, 120_000, queue="property")  # not 王芳's queue
    assert (
        of(run([on(WANG), *busy(WANG, T, T + 5 * MIN), elsewhere]), RuleId.PAUSED_WHILE_WAITING)
        == []
    )


# -- rule 3: right after a ring-no-answer; flips ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60_000))
def test_a_pause_right_after_a_ring_no_answer(gap: int) -> None:
    rna = c(T, WANG, "ring_no_answer", "15000", call_id="x")
    found = of(
        run([on(WANG), rna, *busy(WANG, T + gap, T + gap + MIN)]), RuleId.PAUSE_AFTER_RING_NO_ANSWER
    )
    assert bool(found) == (gap <= 30_000)
    auto = c(T + gap, WANG, "pause", "Auto-Pause", set_by=PauseSetBy.SYSTEM)
    alerts = run([on(WANG), rna, auto, c(T + gap + MIN, WANG, "unpause")])
    assert of(alerts, RuleId.PAUSE_AFTER_RING_NO_ANSWER) == []  # Asterisk's autopause
    assert of(alerts, RuleId.PAUSE_WITHOUT_REASON) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1000, 90_000), st.integers(1000, 90_000))
def test_flips_within_a_minute_are_one_episode(gap1: int, gap2: int) -> None:
    items = [on(WANG), *busy(WANG, T, T + 4 * MIN)]
    t = T + 4 * MIN + gap1
    items += busy(WANG, t, t + 4 * MIN)
    t += 4 * MIN + gap2
    items += busy(WANG, t, t + 4 * MIN)
    alerts = run(items)
    assert bool(of(alerts, RuleId.PAUSE_FLIP)) == (gap1 <= 60_000 and gap2 <= 60_000)
    # three 4-min pauses folded into one reach 10 min in the third; any longer gap splits
    # them into pauses under 10 min
    long = of(alerts, RuleId.LONG_PAUSE)
    both = gap1 <= 60_000 and gap2 <= 60_000
    assert [a.t_raised for a in long] == ([T + 10 * MIN] if both else [])


def test_a_call_between_unpause_and_pause_is_no_flip() -> None:
    items = [on(WANG), *busy(WANG, T, T + 5 * MIN)]
    items += [
        c(T + 5 * MIN + 10_000, WANG, "connect", call_id="x"),
        c(T + 5 * MIN + 40_000, WANG, "complete", "caller", call_id="x"),
    ]
    items += busy(WANG, T + 5 * MIN + 50_000, T + 9 * MIN)
    assert of(run(items), RuleId.LONG_PAUSE) == []


# -- rule 4: ring-no-answers per shift -------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5))
def test_ring_no_answers_counted_per_shift(n: int) -> None:
    rings = [c(T + i * MIN, WANG, "ring_no_answer", "15000", call_id=f"r{i}") for i in range(n)]
    found = of(run([on(WANG), *rings]), RuleId.RING_NO_ANSWER_COUNT)
    assert [a.t_raised for a in found] == ([T + 2 * MIN] if n >= 3 else [])
    if found:
        assert found[0].value == n


def test_ring_no_answers_of_two_shifts_do_not_add_up() -> None:
    rings = [
        c(ms(h), WANG, "ring_no_answer", "15000", call_id=h)
        for h in ("15:00:00", "15:50:00", "16:10:00")
    ]
    assert run([on(WANG), *rings]) == []


# -- rule 5: a team paused together; near a shift change -------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 120_000))
def test_two_of_one_team_in_busy_at_once(overlap: int) -> None:
    items = [
        on(WANG),
        on(LI),
        *busy(WANG, T, T + 5 * MIN),
        *busy(LI, T + 5 * MIN - overlap, T + 9 * MIN),
    ]
    found = of(run(items), RuleId.TEAM_PAUSED_TOGETHER)
    assert bool(found) == (overlap >= 60_000)
    if found:
        assert (found[0].agent, found[0].evidence.others) == (LI, (WANG,))
        assert (found[0].start, found[0].end) == (T + 5 * MIN - overlap, T + 5 * MIN)


def test_a_meal_or_another_team_is_not_two_in_busy() -> None:
    meal = [on(WANG), on(LI), *busy(WANG, T, T + 5 * MIN), *busy(LI, T, T + 5 * MIN, "meal")]
    other = [on(WANG), on(LIU), *busy(WANG, T, T + 5 * MIN), *busy(LIU, T, T + 5 * MIN)]
    assert of(run(meal), RuleId.TEAM_PAUSED_TOGETHER) == []
    assert of(run(other), RuleId.TEAM_PAUSED_TOGETHER) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(-45 * MIN, 45 * MIN))
def test_busy_near_a_shift_change(offset: int) -> None:
    start = ms("16:00:00") + offset
    found = of(run([on(WANG), *busy(WANG, start, start + MIN)]), RuleId.PAUSE_NEAR_SHIFT_CHANGE)
    assert bool(found) == (abs(offset) <= 30 * MIN)
    meal = run([on(LI), *busy(LI, start, start + MIN, "meal")])
    assert of(meal, RuleId.PAUSE_NEAR_SHIFT_CHANGE) == []


# -- rule 6: no reason code; unavailable while ready -----------------------------------------------


def test_a_pause_without_a_reason_code() -> None:
    for reason, fires in (
        ("", True),
        ("nap", True),
        ("busy", False),
        ("示忙", False),
        ("toilet", False),
    ):
        found = of(run([on(WANG), *busy(WANG, T, T + MIN, reason)]), RuleId.PAUSE_WITHOUT_REASON)
        assert bool(found) == fires, reason


def test_a_login_paused_is_not_a_pause_without_reason() -> None:
    # queue_log's ADDMEMBER|PAUSED gives a login and a pause without reason in one second
    items = [c(T, WANG, "login"), c(T, WANG, "pause"), c(T + MIN, WANG, "unpause")]
    assert run(items) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1000, 60_000))
def test_unreachable_while_shown_ready(down: int) -> None:
    items = [
        on(WANG),
        c(T, WANG, "device", "UNAVAILABLE"),
        c(T + down, WANG, "device", "NOT_INUSE"),
    ]
    found = of(run(items), RuleId.UNAVAILABLE_WHILE_READY)
    assert bool(found) == (down >= 30_000)
    if found:
        assert (found[0].t_raised, found[0].end) == (T + 30_000, T + down)
    paused = [on(WANG), *busy(WANG, T - 1000, None), *items[1:]]
    assert of(run(paused), RuleId.UNAVAILABLE_WHILE_READY) == []


# -- rule 7: short talks ended by the agent --------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1000, 20_000), st.booleans()), min_size=1, max_size=6))
def test_short_talks_ended_by_the_agent(talks: list[tuple[int, bool]]) -> None:
    items = [on(WANG)]
    t, counted, crossing = T, 0, None
    for i, (length, by_agent) in enumerate(talks):
        items += [
            c(t, WANG, "connect", call_id=f"k{i}"),
            c(t + length, WANG, "complete", "agent" if by_agent else "caller", call_id=f"k{i}"),
        ]
        if by_agent and length <= 10_000:
            counted += 1
            if counted == 3:
                crossing = t + length
        t += MIN
    found = of(run(items), RuleId.SHORT_TALKS)
    assert [a.t_raised for a in found] == ([crossing] if crossing else [])


# -- configuration, time zones and restarts --------------------------------------------------------


def test_thresholds_per_team_and_disabled_rules() -> None:
    config = WatchdogConfig(
        teams={"team-a": Thresholds(busy_max_ms=20 * MIN)},
        rules={
            RuleId.SHIFT_BUSY_TOTAL: replace(
                WatchdogConfig().policy(RuleId.SHIFT_BUSY_TOTAL), enabled=False
            )
        },
    )
    items = [on(WANG), *busy(WANG, T, T + 35 * MIN)]
    alerts = run(items, config=config)
    assert [a.t_raised for a in of(alerts, RuleId.LONG_PAUSE)] == [T + 20 * MIN]
    assert of(alerts, RuleId.SHIFT_BUSY_TOTAL) == []
    team_b = run([on(LIU), *busy(LIU, T, T + 15 * MIN)], config=config)
    assert [a.t_raised for a in of(team_b, RuleId.LONG_PAUSE)] == [T + 10 * MIN]


def test_a_login_with_an_unreachable_phone_counts_as_unavailable() -> None:
    # the agents reducer tells the device state of a login in its status only
    login = c(T, WANG, "login", status=AgentStatus.UNAVAILABLE)
    [found] = of(
        run([login, c(T + MIN, WANG, "device", "NOT_INUSE")]), RuleId.UNAVAILABLE_WHILE_READY
    )
    assert (found.start, found.t_raised, found.end) == (T, T + 30_000, T + MIN)
