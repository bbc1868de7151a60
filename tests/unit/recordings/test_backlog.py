"""The STT backlog as `hotline stt status` and the web's /metrics both count it."""

from __future__ import annotations

from hotline.stores.keys import STT_GROUP
from hotline.stt.status import backlog


def test_the_workers_group_counts_and_other_groups_do_not() -> None:
    groups = [
        {"name": b"someone-else", "lag": 40, "pending": 9},
        {"name": STT_GROUP.encode(), "lag": 3, "pending": 2},
    ]
    assert backlog(groups, 57) == (3, 2)


def test_before_any_worker_ran_everything_is_queued() -> None:
    assert backlog([], 12) == (12, 0)
