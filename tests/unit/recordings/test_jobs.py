"""STT jobs in the stream: parsing every field, and retry or dead-letter after a failure."""

from __future__ import annotations

import pytest

from hotline.recordings.errors import JobError
from hotline.recordings.leg import Leg
from hotline.stt.jobs import Job, Verdict, after_failure, parse, retried


def enc(d: dict[str, object]) -> dict[bytes, bytes]:
    return {k.encode(): str(v).encode() for k, v in d.items()}


FIELDS = {"call_id": "1795.7", "leg": "rx", "path": "/x/1795.7-rx.wav", "sha256": "ab" * 32,
          "duration_ms": 5880}  # fmt: skip


def test_the_controllers_job_parses_and_round_trips() -> None:
    job = parse(enc(FIELDS))
    assert job == Job("1795.7", Leg.CALLER, "/x/1795.7-rx.wav", "ab" * 32, 5880)
    assert parse(enc(retried(job, "engine: boom").fields())).attempts == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"call_id": ""}, "without call_id"),
        ({"leg": "mixed"}, "mixed leg"),
        ({"leg": "left"}, "not rx or tx"),
        ({"duration_ms": "long"}, "not integers"),
    ],
)
def test_bad_jobs_say_what_is_wrong(change: dict[str, str], message: str) -> None:
    with pytest.raises(JobError, match=message) as caught:
        parse(enc({**FIELDS, **change}))
    assert caught.value.reason == "bad_job"


def test_permanent_failures_die_at_once_transient_ones_after_n() -> None:
    job = parse(enc(FIELDS))
    assert after_failure(job, permanent=True) is Verdict.DEAD
    assert after_failure(job, permanent=False, max_attempts=3) is Verdict.RETRY
    twice = retried(retried(job, "x"), "y")
    assert after_failure(twice, permanent=False, max_attempts=3) is Verdict.DEAD
