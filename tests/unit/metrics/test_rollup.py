"""The rollup equals the raw computation, after a build and after live inserts and changes."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.agents.status import PausePolicy
from hotline.core.records import AgentChange, CallRecord, Precision
from hotline.metrics import GroupBy, Params, compute
from hotline.metrics.agenttime import AgentData
from hotline.metrics.render import as_dict
from hotline.metrics.report import CallbackState, Report
from hotline.stores.history import History
from hotline.stores.rollup import Rollup
from tests.unit.watchdog.scenes import CENTER

from .calls import (
    DAY,
    HOUR,
    T0,
    S,
    abandoned,
    answered,
    callback_at_offer,
    ivr_only,
    refused,
    timed_out,
    vanished,
)

START = T0 - 10 * HOUR  # 2026-11-25 00:00 Shanghai
AGENTS = ["王芳", "李娜", "刘洋", "agent9001"]
NUMBERS = [f"1380000{n:04d}" for n in range(25)]  # few numbers: many repeat callers
TEAMS = {a.name: a.team for a in CENTER.agents.values()}


def random_calls(rng: random.Random, n: int, prefix: str) -> list[CallRecord]:
    out: list[CallRecord] = []
    for i in range(n):
        cid = f"{prefix}{i}"
        # near midnight often, so days are cut in Shanghai to the millisecond
        t = (
            START
            + rng.randrange(4) * DAY
            + rng.choice([rng.randrange(DAY), DAY - rng.randrange(1, 5000), rng.randrange(5000)])
        )
        queue = rng.choice(["labour", "property", "intake"])
        kind = rng.random()
        number = rng.choice(NUMBERS)
        if kind < 0.45:
            rec = answered(
                cid, rng.randrange(40_000), t_q=t, queue=queue, agent=rng.choice(AGENTS),
                talk=rng.choice([None, rng.randrange(1, 300_000)]), caller=number,
                survey=rng.choice([None, 1, 3, 4, 5]),
                precision=rng.choice([Precision.MILLISECOND, Precision.SECOND]),
                arrival=rng.choice([None, t - rng.randrange(30_000)]),
            )  # fmt: skip
        elif kind < 0.7:
            rec = abandoned(cid, rng.randrange(60_000), t_q=t, queue=queue,
                            ringing=rng.random() < 0.3, caller=number)  # fmt: skip
        elif kind < 0.78:
            rec = replace(timed_out(cid, t_q=t, queue=queue), caller=number)
        elif kind < 0.85:
            rec = replace(refused(cid, t_q=t, queue=queue, callback=rng.random() < 0.5),
                          caller=number)  # fmt: skip
        elif kind < 0.92:
            rec = callback_at_offer(cid, t_q=t, caller=rng.choice(["", number]))
        elif kind < 0.96:
            rec = ivr_only(cid, t=t)
        else:
            rec = vanished(cid, t_q=t)
        out.append(rec)
    return out


def journal_for(calls: list[CallRecord], rng: random.Random) -> list[AgentChange]:
    """Connect, complete and sometimes a wrap-up for some answered calls (in time order)."""
    out = []
    for r in calls:
        if r.t_answer is None or r.talk_end is None or rng.random() < 0.3:
            continue
        out.append(AgentChange(r.t_answer, r.agent, "connect", r.first_queue, call_id=r.call_id))
        out.append(AgentChange(r.talk_end, r.agent, "complete", r.first_queue, call_id=r.call_id))
        if rng.random() < 0.6:
            out.append(AgentChange(r.talk_end + rng.randrange(1, 20_000), r.agent, "wrap_up_end"))
    return sorted(out, key=lambda c: c.t)


def raw(history: History, params: Params, by: GroupBy, since: int, until: int) -> Report:
    callbacks = {
        row["call_id"]: CallbackState(row["call_id"], row["t_requested"], row["t_done"])
        for row in history.callbacks()
    }
    agents = AgentData(journal=tuple(history.journal()), policy=PausePolicy(), teams=TEAMS)
    return compute(history.calls(), params, by=by, since=since, until=until, agents=agents,
                   callbacks=callbacks)  # fmt: skip


def rolled(rollup: Rollup, params: Params, by: GroupBy, since: int, until: int) -> Report:
    agents = AgentData(journal=tuple(rollup.history.journal()), teams=TEAMS)
    report = rollup.report(params, by=by, since=since, until=until, agents=agents)
    assert report is not None
    return report


WINDOWS = [(START, START + 4 * DAY), (START + DAY, START + 2 * DAY)]
BYS = [GroupBy.QUEUE, GroupBy.AGENT, GroupBy.TEAM, GroupBy.DAY, GroupBy.MONTH]


def assert_equal(rollup: Rollup, params: Params) -> None:
    for since, until in WINDOWS:
        for by in BYS:
            a = as_dict(raw(rollup.history, params, by, since, until))
            b = as_dict(rolled(rollup, params, by, since, until))
            assert a == b, (by, since)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_equals_the_raw_computation(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rollup = Rollup.open(tmp_path / "h.db")
    calls = random_calls(rng, 400, "c")
    rollup.history.save_calls(calls)
    rollup.history.append_journal(journal_for(calls, rng))
    params = Params()
    assert rollup.report(params, by=GroupBy.QUEUE, since=START, until=START + DAY,
                         agents=AgentData()) is None  # fmt: skip # not built yet
    rollup.build(params)
    other = Params.of(threshold_s=20, short_abandon_s=3, repeat_days=2)
    rollup.build(other)
    assert_equal(rollup, params)
    assert_equal(rollup, other)

    # live: new calls, calls replaced (a vanished one completed), callbacks done, wrap-ups
    more = random_calls(rng, 120, "d")
    rollup.history.save_calls(more)
    rollup.history.append_journal(journal_for(more, rng))
    replaced = [replace(c, end_reason=None) if c.call_id.endswith("7") else c for c in calls[:60]]
    rollup.history.save_calls(replaced)
    for row in rollup.history.callbacks()[:5]:
        rollup.history.complete_callback(row["call_id"], at=row["t_requested"] + HOUR, by="王芳")
    assert rollup.refresh() > 0
    assert_equal(rollup, params)
    assert_equal(rollup, other)
    assert rollup.refresh() == 0  # nothing left to do
    rollup.close()


def test_what_the_rollup_cannot_serve_is_left_to_the_records(tmp_path: Path) -> None:
    rollup = Rollup.open(tmp_path / "h.db")
    rollup.history.save_calls([answered("a", 5 * S)])
    rollup.build(Params())
    data = AgentData()
    assert rollup.report(Params(), by=GroupBy.HOUR, since=START, until=START + DAY,
                         agents=data) is None  # fmt: skip
    assert rollup.report(Params(), by=GroupBy.QUEUE, since=START + HOUR, until=START + DAY,
                         agents=data) is None  # fmt: skip
    assert rollup.report(Params.of(threshold_s=10), by=GroupBy.QUEUE, since=START,
                         until=START + DAY, agents=data) is None  # fmt: skip
    served = rollup.report(Params(), by=GroupBy.QUEUE, since=START, until=START + DAY, agents=data)
    assert served is not None
    assert served.total.figures["sl_strict"].value == 1.0
    rollup.close()


def test_a_call_saved_during_the_build_is_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    rollup = Rollup.open(tmp_path / "h.db")
    rollup.history.save_calls(random_calls(rng, 200, "c"))
    write = Rollup._write
    late = answered("late", 3 * S, t_q=START + 5 * HOUR, agent="王芳")
    saved: list[str] = []

    def write_then_save(self: Rollup, *args: object, **kw: object) -> int:
        rows = write(self, *args, **kw)  # type: ignore[arg-type]
        if not saved:  # the first day is written: a live call arrives for it
            self.history.save_calls([late])
            saved.append(late.call_id)
        return rows

    monkeypatch.setattr(Rollup, "_write", write_then_save)
    rollup.build(Params())
    monkeypatch.undo()
    assert saved
    assert rollup.built(Params())
    assert rollup.refresh() > 0
    assert_equal(rollup, Params())
    rollup.close()
