"""The recall figures: verdicts per task, the rate within the deadline, by group."""

from __future__ import annotations

from dataclasses import replace

from hotline.recall.figures import figures, group, verdict
from hotline.recall.tasks import Origin, Outcome, State, Task

T0 = 1_796_000_000_000
DAY = 86_400_000


def task(id_: int, **changes: object) -> Task:
    base = Task(id_, f"1380000000{id_}", Origin.MISSED, "intake", T0, T0 + 1_800_000, ())
    return replace(base, **changes)  # type: ignore[arg-type]


def done(id_: int, after_ms: int, outcome: Outcome = Outcome.REACHED, **kw: object) -> Task:
    return task(id_, state=State.DONE, outcome=outcome, t_closed=T0 + after_ms, **kw)


NOW = T0 + 3_600_000
TASKS = [
    done(1, 600_000, attempts=1, closed_by="王芳"),  # in time after 10 min
    done(2, 1_200_000, attempts=2, closed_by="李娜"),  # in time after 20 min
    done(3, 2_400_000, attempts=3, closed_by="王芳"),  # late
    done(4, 300_000, Outcome.GOT_THROUGH, closed_by="c9"),  # served by calling again
    task(5, state=State.EXPIRED, outcome=Outcome.ATTEMPTS_USED, attempts=3, t_closed=T0 + 9),
    task(6),  # open past its deadline
    task(7, t_first=NOW - 60_000, deadline=NOW + 1_000_000),  # pending
    done(8, 60_000, Outcome.BY_HAND, closed_by="王芳"),  # reached some other way, in time
]


def test_each_task_has_one_verdict() -> None:
    assert [verdict(t, NOW) for t in TASKS] == [
        "in_time", "in_time", "late", "got_through", "not_reached", "not_reached",
        "pending", "in_time",
    ]  # fmt: skip


def test_the_rate_leaves_out_the_undecided_and_those_who_got_through() -> None:
    f = figures(TASKS, NOW)
    assert f.tasks == 8
    assert f.counts == {"in_time": 3, "late": 1, "got_through": 1, "not_reached": 2,
                        "pending": 1}  # fmt: skip
    assert f.rate == 3 / 6
    assert f.attempts_per_task == (1 + 2 + 3 + 3) / 4
    assert f.median_recall_ms == 1_200_000  # reached: 10, 20 and 40 minutes
    assert f.never_reached == 1
    assert figures([], NOW).rate is None


def test_groups_by_queue_day_and_the_recalling_agents_team() -> None:
    tasks = [*TASKS, done(9, 60_000, queue="labour", t_first=T0 + DAY, deadline=T0 + DAY + 1)]
    by_queue = group(tasks, "queue", NOW + DAY)
    assert set(by_queue) == {"intake", "labour"}
    assert by_queue["labour"].tasks == 1
    by_day = group(tasks, "day", NOW + DAY)
    assert [f.tasks for f in by_day.values()] == [8, 1]
    by_team = group(TASKS, "team", NOW, {"王芳": "team-a", "李娜": "team-b"})
    assert {k: f.tasks for k, f in by_team.items()} == {"-": 4, "team-a": 3, "team-b": 1}


def test_the_wallboard_summary_counts_open_overdue_and_due_tasks() -> None:
    from hotline.recall.figures import board_doc

    open_ = [task(6), task(7, t_first=NOW - 60_000, deadline=NOW + 1_000_000),
             task(9, t_next=NOW + 60_000, deadline=NOW + 2_000_000)]  # fmt: skip
    doc = board_doc(open_, TASKS, NOW)
    assert (doc["open"], doc["overdue"], doc["due"]) == (3, 1, 2)
    assert doc["next_deadline"] == T0 + 1_800_000
    assert doc["today"]["tasks"] == 8  # type: ignore[index]
