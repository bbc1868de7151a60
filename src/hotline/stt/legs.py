"""Where a worker gets each leg, and where its results go: the two sides a worker on
another host changes (``HOTLINE_STT_SOURCE``).

    with legs.leg(job) as rec:      # a Recording whose path is a verified file on this host
        heard = transcribe(engine, Path(rec.path))
    results.save(transcript)        # the transcript store, or the centre's web app
    results.alert(mismatch, by=worker, at=now)
    results.flag(call_id)           # the QA flags once the call's last leg is in

:class:`LocalLegs` reads the catalogue and the file on this host (the one-box centre);
:class:`StoreResults` writes through the stores at ``HOTLINE_DB`` (SQLite here, or a
PostgreSQL server the worker reaches). The HTTP pair is in :mod:`hotline.stt.centre`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from hotline.center.config import Center
from hotline.recordings import integrity
from hotline.recordings.errors import RecordingError
from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Recording
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.qa import QaStore, QaStoreError
from hotline.stores.transcripts import TranscriptStore
from hotline.stt.flagging import flag_call
from hotline.stt.jobs import Job
from hotline.transcripts.transcript import Transcript

log = logging.getLogger(__name__)


class CentreUnavailable(Exception):  # noqa: N818 (a state, like redis.ConnectionError)
    """The centre cannot be reached or refuses this worker (a wrong token): no job can
    run until it answers. The worker gives the job back to the stream and waits."""


class LegSource(Protocol):
    def leg(self, job: Job) -> contextlib.AbstractContextManager[Recording]:
        """The job's leg as a verified file on this host, for the time of the block:
        :class:`~hotline.recordings.integrity.MismatchError` when its bytes are not the
        catalogued ones, another RecordingError when it cannot be had."""
        ...

    def close(self) -> None: ...


class Results(Protocol):
    def save(self, transcript: Transcript) -> None: ...

    def alert(self, mismatch: Mismatch, *, by: str, at: int) -> None: ...

    def flag(self, call_id: str) -> None: ...

    def close(self) -> None: ...


@dataclass
class LocalLegs:
    """The catalogue's file on this host, checked against its SHA-256 where it lies."""

    history: History

    @contextlib.contextmanager
    def leg(self, job: Job) -> Iterator[Recording]:
        yield integrity.verified(self.history, job.call_id, job.leg, job.path)

    def close(self) -> None:
        self.history.close()


@dataclass
class StoreResults:
    """Results written through the stores (``HOTLINE_DB``). QA flags need the history and
    the centre file: without either (``history``/``center`` None) they are not run here."""

    transcripts: TranscriptStore
    alerts: IntegrityAlerts
    history: History | None = None
    qa: QaStore | None = None
    center: Center | None = None

    def save(self, transcript: Transcript) -> None:
        self.transcripts.save(transcript)

    def alert(self, mismatch: Mismatch, *, by: str, at: int) -> None:
        self.alerts.add(mismatch, by=by, at=at)

    def flag(self, call_id: str) -> None:
        if self.history is not None and self.qa is not None and self.center is not None:
            flag_stored(self.history, self.transcripts, self.qa, self.center, call_id)

    def close(self) -> None:
        for store in (self.transcripts, self.alerts, self.history, self.qa):
            if store is not None:
                store.close()


def flag_stored(
    history: History, transcripts: TranscriptStore, qa: QaStore, center: Center, call_id: str
) -> int:
    """The QA flags of CALL_ID once its last recorded leg is transcribed (how many were
    found); a failure is a warning: the transcript stands, ``hotline qa sample`` redoes it."""

    def team_of(name: str) -> str:
        agent = center.agent(name)
        return agent.team if agent is not None else ""

    try:
        found = flag_call(history, transcripts, qa, center.qa.flags, team_of, call_id,
                          both_legs=True)  # fmt: skip
    except (QaStoreError, RecordingError) as exc:
        log.warning("QA flags of %s not stored: %s", call_id, exc)
        return 0
    if found:
        log.info("QA flags of %s: %s", call_id, ", ".join(f.rule.value for f in found))
    return len(found or ())
