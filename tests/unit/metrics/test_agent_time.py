"""AHT with after-call work, occupancy, teams, callbacks done and repeat callers, by hand."""

from __future__ import annotations

import itertools

import pytest

from hotline.agents.status import PausePolicy
from hotline.agents.timeline import Activity, segments
from hotline.core.records import AgentChange
from hotline.metrics import GroupBy, Params, compute
from hotline.metrics.agenttime import NO_TEAM, AgentData
from hotline.metrics.report import NO_AGENT, CallbackState
from hotline.watchdog import shift_report
from tests.unit.watchdog.scenes import CENTER

from .calls import DAY, HOUR, T0, S, abandoned, answered, callback_at_offer

MIN = 60 * S
POLICY = PausePolicy.from_reasons(CENTER.reasons.values())


def journal() -> tuple[AgentChange, ...]:
    """王芳 (team-a) 10:00-11:00 and 刘洋 (team-b) 10:30-11:30, on 2026-11-25.

    王芳: a1 10:05-10:09 then 60 s wrap-up; a2 10:20-10:25, no wrap-up; 示忙 10:40-10:50.
    刘洋: a3 10:50-11:10 then 120 s wrap-up.
    """
    c = AgentChange
    return (
        c(T0, "王芳", "login", "labour"),
        c(T0 + 5 * MIN, "王芳", "connect", "labour", call_id="a1"),
        c(T0 + 9 * MIN, "王芳", "complete", "labour", "agent", call_id="a1"),
        c(T0 + 10 * MIN, "王芳", "wrap_up_end"),
        c(T0 + 20 * MIN, "王芳", "connect", "labour", call_id="a2"),
        c(T0 + 25 * MIN, "王芳", "complete", "labour", "caller", call_id="a2"),
        c(T0 + 40 * MIN, "王芳", "pause", "labour", "busy"),
        c(T0 + 50 * MIN, "王芳", "unpause", "labour"),
        c(T0 + 60 * MIN, "王芳", "logout", "labour"),
        c(T0 + 30 * MIN, "刘洋", "login", "labour"),
        c(T0 + 50 * MIN, "刘洋", "connect", "labour", call_id="a3"),
        c(T0 + 70 * MIN, "刘洋", "complete", "labour", "agent", call_id="a3"),
        c(T0 + 72 * MIN, "刘洋", "wrap_up_end"),
        c(T0 + 90 * MIN, "刘洋", "logout", "labour"),
    )


def calls() -> list:  # type: ignore[type-arg]
    return [
        answered("a1", 5 * MIN - 30 * S, t_q=T0 + 30 * S, agent="王芳", talk=4 * MIN),
        answered("a2", 10 * S, t_q=T0 + 20 * MIN - 10 * S, agent="王芳", talk=5 * MIN),
        answered("a3", 10 * S, t_q=T0 + 50 * MIN - 10 * S, agent="刘洋", talk=20 * MIN),
        answered("q1", 10 * S, t_q=T0 + 2 * HOUR, agent="1009", talk=MIN),  # no journal
        abandoned("b1", 30 * S, t_q=T0 + 15 * MIN),
    ]


DATA = AgentData(
    journal=journal(), policy=POLICY, teams={a.name: a.team for a in CENTER.agents.values()}
)
SINCE, UNTIL = T0 - HOUR, T0 + 3 * HOUR


def report(by: GroupBy = GroupBy.QUEUE, **kw: object):  # type: ignore[no-untyped-def]
    return compute(calls(), Params(), by=by, since=SINCE, until=UNTIL, agents=DATA, **kw)  # type: ignore[arg-type]


def fig(group, fid: str) -> tuple[float | None, int | None, int | None]:  # type: ignore[no-untyped-def]
    f = group.figures[fid]
    return f.value, f.numerator, f.denominator


def test_aht_is_talk_plus_after_call_work_from_the_journal() -> None:
    total = report().total
    # a1 4 min + 1 min wrap-up, a2 5 min + 0, a3 20 min + 2 min; q1 has no journal
    assert fig(total, "aht") == (pytest.approx(32 * 60 / 3), 32 * MIN, 3)
    assert fig(total, "acw_mean") == (pytest.approx(60.0), 3 * MIN, 3)
    assert fig(total, "talk_mean") == (pytest.approx(30 * 60 / 4), 30 * MIN, 4)
    assert report().quality.no_acw == 1


def test_occupancy_by_hand_in_total_and_by_agent() -> None:
    # 王芳: talk 9 min, ACW 1 min, 示忙 10 min, ready 60 - 20 = 40 min
    # 刘洋: talk 20 min, ACW 2 min, ready 60 - 22 = 38 min
    total = report().total
    assert fig(total, "occupancy") == (pytest.approx(32 / 110), 32 * MIN, 110 * MIN)
    by_agent = {g.key: g for g in report(GroupBy.AGENT).groups}
    assert fig(by_agent["王芳"], "occupancy") == (pytest.approx(10 / 50), 10 * MIN, 50 * MIN)
    assert fig(by_agent["刘洋"], "occupancy") == (pytest.approx(22 / 60), 22 * MIN, 60 * MIN)
    assert fig(by_agent[NO_AGENT], "occupancy") == (None, 0, 0)
    # by queue, agents' time is not split between queues: the groups have none
    by_queue = report(GroupBy.QUEUE)
    assert all(fig(g, "occupancy") == (None, None, None) for g in by_queue.groups)


def test_the_watchdog_and_the_metrics_read_the_same_time() -> None:
    rows = {r.agent: r for r in shift_report(journal(), CENTER, start=SINCE, end=UNTIL)}
    by_agent = {g.key: g for g in report(GroupBy.AGENT).groups}
    for name, row in rows.items():
        worked = row.talk_ms + row.acw_ms
        assert fig(by_agent[name], "occupancy")[1:] == (worked, worked + row.ready_ms)
        assert row.occupancy == fig(by_agent[name], "occupancy")[0]


def test_by_team_uses_the_centre_s_teams() -> None:
    groups = {g.key: g for g in report(GroupBy.TEAM).groups}
    assert set(groups) == {"team-a", "team-b", NO_TEAM, NO_AGENT}
    assert groups["team-a"].counts[_pop("A")] == 2
    assert groups[NO_TEAM].counts[_pop("A")] == 1  # agent 1009 is not in center.yaml
    assert groups[NO_AGENT].counts[_pop("Ab")] == 1
    assert fig(groups["team-b"], "occupancy") == (pytest.approx(22 / 60), 22 * MIN, 60 * MIN)
    assert sum(g.counts[_pop("R")] for g in groups.values()) == report().total.counts[_pop("R")]


def test_agent_time_is_cut_at_interval_boundaries() -> None:
    groups = {g.key: g for g in report(GroupBy.HOUR).groups}
    # 10:00-11:00: 王芳 all of it, 刘洋 10:30-11:00 (talk from 10:50)
    assert fig(groups["2026-11-25 10:00"], "occupancy")[1:] == (20 * MIN, 80 * MIN)
    # 11:00-11:30: 刘洋 talk 10 min, ACW 2 min, ready 18 min
    assert fig(groups["2026-11-25 11:00"], "occupancy")[1:] == (12 * MIN, 30 * MIN)
    quarter = {g.key: g for g in report(GroupBy.MIN15).groups}
    assert fig(quarter["2026-11-25 10:45"], "occupancy")[1:] == (10 * MIN, 25 * MIN)
    days = {g.key: g for g in report(GroupBy.DAY).groups}
    assert fig(days["2026-11-25"], "occupancy") == fig(report().total, "occupancy")


def test_the_timeline_counts_each_moment_once() -> None:
    mine = [c for c in journal() if c.agent == "王芳"]
    segs = list(segments(mine, POLICY, start=SINCE, end=UNTIL))
    assert sum(s.ms for s in segs) == HOUR
    assert [(s.activity, s.ms // MIN) for s in segs][:4] == [
        (Activity.READY, 5),
        (Activity.TALK, 4),
        (Activity.ACW, 1),
        (Activity.READY, 10),
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(segs))


def test_callbacks_requested_and_completed() -> None:
    records = [
        callback_at_offer("c1", t_q=T0),
        callback_at_offer("c2", t_q=T0 + MIN),
        callback_at_offer("c3", t_q=T0 + 2 * MIN),
    ]
    table = {
        "c1": CallbackState("c1", T0 + 8 * S, T0 + 8 * S + 30 * MIN),
        "c2": CallbackState("c2", T0 + MIN + 8 * S, T0 + MIN + 8 * S + 90 * MIN),
        "c3": CallbackState("c3", T0 + 2 * MIN + 8 * S),  # still open
    }
    total = compute(records, since=SINCE, until=UNTIL, callbacks=table).total
    assert fig(total, "callbacks") == (3.0, 3, 3)
    assert fig(total, "callbacks_done") == (2.0, 2, 3)
    assert fig(total, "callback_completion") == (pytest.approx(2 / 3), 2, 3)
    assert fig(total, "callback_delay") == (pytest.approx(60 * 60), 120 * MIN, 2)
    # without the table nothing is done: requested only
    assert fig(compute(records).total, "callbacks_done") == (0.0, 0, 3)


def test_the_seed_citizen_who_called_three_times() -> None:
    # seeds: 衡水的李先生 called 12345 three times about the same property fee
    li = "13931800000"
    records = [
        answered("li1", 10 * S, t_q=T0, caller=li, queue="property"),
        answered("li2", 10 * S, t_q=T0 + 2 * DAY, caller=li, queue="property"),
        abandoned("li3", 30 * S, t_q=T0 + 5 * DAY, caller=li, queue="property"),
        answered("other", 10 * S, t_q=T0 + DAY, caller="13800000009", queue="property"),
    ]
    total = compute(records, since=T0, until=T0 + 6 * DAY).total
    assert fig(total, "repeat_rate") == (pytest.approx(2 / 4), 2, 4)  # li2 and li3
    narrow = compute(records, Params(repeat_days=2), since=T0, until=T0 + 6 * DAY).total
    assert fig(narrow, "repeat_rate")[1:] == (1, 4)  # li2 (2 days after, inclusive)


def _pop(key: str):  # type: ignore[no-untyped-def]
    from hotline.metrics.populations import Population

    return Population(key)


def test_after_call_work_from_recorded_ami_traffic() -> None:
    # a real Asterisk 22 capture through the agents reducer, with 2 s of wrap-up per call
    from tests.unit.core.replay import load, replay

    run = replay(load("answered_agent_hangs_up"), wrapup_ms={"labour": 2000, "intake": 2000})
    [record] = [r for r in run.ended.values() if r.agent]
    data = AgentData(journal=tuple(run.journal), policy=POLICY)
    report = compute([record], agents=data)
    talk = (record.talk_end or 0) - (record.t_answer or 0)
    assert fig(report.total, "aht") == (pytest.approx((talk + 2000) / 1000), talk + 2000, 1)
    assert fig(report.total, "acw_mean") == (2.0, 2000, 1)
    assert report.quality.no_acw == 0
