"""Speech-to-text jobs as values: what the controller queues per leg, and what happens
after a failure. Pure: the worker (:mod:`hotline.stt.worker`) does the Redis part.

A job is at-least-once: it may run twice (a worker killed after saving, before XACK), so
its only effect, ``TranscriptStore.save``, replaces by (call_id, leg). A failure is either
permanent (the audio or the recording itself is bad: retrying cannot help, so it goes to
the dead-letter stream at once, with its reason) or transient (the engine or the store
failed: retried, and dead-lettered after ``MAX_ATTEMPTS``). A job that was delivered
``MAX_DELIVERIES`` times without finishing (its workers died on it) is dead-lettered too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from hotline.recordings.errors import JobError
from hotline.recordings.leg import Leg

MAX_ATTEMPTS = 3
MAX_DELIVERIES = 3
REQUIRED = ("call_id", "leg", "path", "sha256")


@dataclass(frozen=True, slots=True)
class Job:
    call_id: str
    leg: Leg
    path: str
    sha256: str
    duration_ms: int = 0
    attempts: int = 0  # failures so far (transient ones are retried as a new entry)
    last_error: str = ""

    def fields(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {
            "call_id": self.call_id, "leg": self.leg.value, "path": self.path,
            "sha256": self.sha256, "duration_ms": self.duration_ms,
        }  # fmt: skip
        if self.attempts:
            out["attempts"] = self.attempts
            out["last_error"] = self.last_error
        return out


def _text(fields: Mapping[bytes, bytes], name: str) -> str:
    raw = fields.get(name.encode())
    return raw.decode("utf-8", "replace") if raw is not None else ""


def parse(fields: Mapping[bytes, bytes]) -> Job:
    """The job in a stream entry; JobError naming the missing or malformed field."""
    missing = [name for name in REQUIRED if not _text(fields, name)]
    if missing:
        raise JobError(f"job without {', '.join(missing)}")
    try:
        leg = Leg(_text(fields, "leg"))
    except ValueError:
        raise JobError(f"job leg {_text(fields, 'leg')!r} is not rx or tx") from None
    if leg is Leg.MIXED:
        raise JobError("the mixed leg is not transcribed (its speakers are not told apart)")
    try:
        duration = int(_text(fields, "duration_ms") or 0)
        attempts = int(_text(fields, "attempts") or 0)
    except ValueError:
        raise JobError("job duration_ms/attempts are not integers") from None
    return Job(
        call_id=_text(fields, "call_id"), leg=leg, path=_text(fields, "path"),
        sha256=_text(fields, "sha256"), duration_ms=duration, attempts=attempts,
        last_error=_text(fields, "last_error"),
    )  # fmt: skip


class Verdict(Enum):
    RETRY = "retry"  # queue again with attempts + 1
    DEAD = "dead"  # to the dead-letter stream, with the reason


def after_failure(job: Job, *, permanent: bool, max_attempts: int = MAX_ATTEMPTS) -> Verdict:
    if permanent or job.attempts + 1 >= max_attempts:
        return Verdict.DEAD
    return Verdict.RETRY


def retried(job: Job, error: str) -> Job:
    return replace(job, attempts=job.attempts + 1, last_error=error)
