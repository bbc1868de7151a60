"""The speech-to-text worker: a consumer of the Redis stream of jobs (``KEYS.stt_jobs``).

    worker = Worker.open(settings, engine, consumer="host-1234")
    worker.run(stop)          # until stop (a threading.Event) is set

Delivery is at-least-once through the consumer group ``STT_GROUP``: an entry is XACKed
only after its transcript is saved (``TranscriptStore.save`` replaces, so a redone job
leaves no duplicate). A job left pending by a dead worker is taken over by XAUTOCLAIM once
idle for ``claim_idle_ms``; a live worker keeps its current job from looking idle (XCLAIM
JUSTID every third of that), so a long leg is not stolen. Failures follow
:mod:`hotline.stt.jobs`: dead-lettered at once when the audio or recording is bad,
retried then dead-lettered when the engine or store failed. Every leg is verified against
the catalogue's SHA-256 first; a mismatch is an integrity alert, never transcribed.
Where the leg comes from and where the transcript goes are the worker's two sides
(:mod:`hotline.stt.legs`): the disk and the stores of this host, or, for a worker on
another host (``HOTLINE_STT_SOURCE=http``), the centre's web app (:mod:`hotline.stt.centre`).
When the last recorded leg of an answered call is transcribed, the centre's QA flag rules
run over the call and their flags are stored (:mod:`hotline.stt.flagging`); a centre file
that cannot be read turns that off with a warning, never the transcription.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis

from hotline.center.config import Center, CenterError, load_center
from hotline.host.clock import wall_ms
from hotline.host.settings import ConfigError, Settings
from hotline.recordings import integrity
from hotline.recordings.errors import JobError, RecordingError
from hotline.stores import dialect as db
from hotline.stores import streams
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.keys import KEYS, STT_DONE_LENGTH, STT_GROUP, Keys
from hotline.stores.qa import QaStore
from hotline.stores.transcripts import TranscriptStore
from hotline.stt import jobs
from hotline.stt.centre import Centre, FetchedMismatchError, FetchError, HttpLegs, HttpResults
from hotline.stt.engine import Engine, transcribe
from hotline.stt.jobs import Job, Verdict
from hotline.stt.legs import CentreUnavailable, LegSource, LocalLegs, Results, StoreResults
from hotline.transcripts.transcript import Transcript

log = logging.getLogger(__name__)
Fields = Mapping[bytes, bytes]


TRIM_EVERY = 100  # jobs taken between two trims of the stream while busy


@dataclass(frozen=True, slots=True)
class Options:
    claim_idle_ms: int = 30_000  # a pending job idle this long belongs to a dead worker
    block_ms: int = 1000
    max_attempts: int = jobs.MAX_ATTEMPTS
    max_deliveries: int = jobs.MAX_DELIVERIES


@dataclass(frozen=True, slots=True)
class Delivery:
    entry_id: str
    fields: Fields
    deliveries: int  # times Redis has handed this entry out, this one included


class JobQueue:
    """The stream side of the worker: read, claim, acknowledge, retry, dead-letter."""

    def __init__(self, client: redis.Redis, consumer: str, keys: Keys = KEYS) -> None:
        self.redis, self.consumer, self.keys = client, consumer, keys

    def ensure_group(self) -> None:
        """The consumer group (from the stream's start), made if missing (a new Redis)."""
        with contextlib.suppress(redis.ResponseError):  # BUSYGROUP: it exists
            self.redis.xgroup_create(self.keys.stt_jobs, STT_GROUP, id="0", mkstream=True)

    def prune(self, idle_ms: int = 3_600_000) -> list[str]:
        """Forget consumers (workers gone for good) with nothing pending, idle IDLE_MS."""
        gone = []
        consumers: list[dict[str, Any]] = self.redis.xinfo_consumers(self.keys.stt_jobs, STT_GROUP)
        for c in consumers:
            name = _id(c["name"])
            if name != self.consumer and int(c["pending"]) == 0 and int(c["idle"]) > idle_ms:
                self.redis.xgroup_delconsumer(self.keys.stt_jobs, STT_GROUP, name)
                self.redis.hdel(self.keys.stt_workers, name)
                gone.append(name)
        return gone

    def next(self, options: Options) -> list[Delivery]:
        """A job: a dead worker's stuck one if any, else a new one (waiting block_ms)."""
        reply = self.redis.xautoclaim(self.keys.stt_jobs, STT_GROUP, self.consumer,
                                      options.claim_idle_ms, "0-0", count=1)  # fmt: skip
        claimed = [(eid, f) for eid, f in reply[1] if f is not None]
        if claimed:
            eid, f = claimed[0]
            info = cast("list[dict[str, Any]]", self.redis.xpending_range(
                self.keys.stt_jobs, STT_GROUP, min=eid, max=eid, count=1))  # fmt: skip
            times = int(info[0]["times_delivered"]) if info else 1
            log.warning("took over job %s (delivered %d times)", _id(eid), times)
            return [Delivery(_id(eid), f, times)]
        read = cast(
            "list[Any]",
            self.redis.xreadgroup(STT_GROUP, self.consumer, {self.keys.stt_jobs: ">"},
                                  count=1, block=options.block_ms),
        )  # fmt: skip
        return [Delivery(_id(eid), f, 1) for _, entries in read or () for eid, f in entries]

    def keep(self, entry_id: str) -> None:
        """Reset the job's idle time, so no one takes it over while it runs."""
        self.redis.xclaim(self.keys.stt_jobs, STT_GROUP, self.consumer, 0, [entry_id],
                          justid=True)  # fmt: skip

    def finish(self, entry_id: str, done: Mapping[str, str | int]) -> None:
        k = self.keys
        with self.redis.pipeline(transaction=True) as p:
            p.xack(k.stt_jobs, STT_GROUP, entry_id)
            p.hincrby(k.stt_stats, "done", 1)
            p.hincrby(k.stt_stats, "audio_ms", int(done["audio_ms"]))
            p.hincrby(k.stt_stats, "busy_ms", int(done["took_ms"]))
            p.xadd(k.stt_done, streams.fields(done), maxlen=STT_DONE_LENGTH, approximate=True)
            p.execute()

    def retry(self, entry_id: str, job: Job) -> None:
        k = self.keys
        with self.redis.pipeline(transaction=True) as p:
            p.xadd(k.stt_jobs, streams.fields(job.fields()))
            p.xack(k.stt_jobs, STT_GROUP, entry_id)
            p.hincrby(k.stt_stats, "retried", 1)
            p.execute()

    def requeue(self, entry_id: str, job: Job) -> None:
        """The job back at the end of the stream as it was (no attempt counted): this
        worker cannot run it now, through no fault of the job's."""
        k = self.keys
        with self.redis.pipeline(transaction=True) as p:
            p.xadd(k.stt_jobs, streams.fields(job.fields()))
            p.xack(k.stt_jobs, STT_GROUP, entry_id)
            p.execute()

    def dead(self, entry_id: str, fields: Fields, reason: str, error: str) -> None:
        k = self.keys
        entry: dict[Any, Any] = {key.decode(): value for key, value in fields.items()}
        entry.update(reason=reason, error=error, worker=self.consumer, t=wall_ms())
        with self.redis.pipeline(transaction=True) as p:
            p.xadd(k.stt_dead, entry)
            p.xack(k.stt_jobs, STT_GROUP, entry_id)
            p.hincrby(k.stt_stats, "dead", 1)
            if reason in ("integrity", "missing", "not_catalogued"):
                p.hincrby(k.stt_stats, "integrity", 1)
            p.execute()

    def trim(self) -> int:
        """Drop the jobs every worker is done with; how many were dropped.

        Acknowledged entries stay in a stream until trimmed: every recorded call left two
        entries no one would read again. Everything older than the oldest job still
        pending, and not newer than the last one handed out, is done (retries are new
        entries; failures went to the dead letters)."""
        key = self.keys.stt_jobs
        groups: list[dict[str, Any]] = self.redis.xinfo_groups(key)
        group = next((g for g in groups if _id(g["name"]) == STT_GROUP), None)
        if group is None:
            return 0
        pending: dict[str, Any] = self.redis.xpending(key, STT_GROUP)
        if int(pending.get("pending") or 0):
            floor = _id(pending["min"])
        else:
            ms, _, seq = _id(group["last-delivered-id"]).partition("-")
            floor = f"{ms}-{int(seq or 0) + 1}"
        return int(self.redis.xtrim(key, minid=floor, approximate=False))

    def heartbeat(self, info: Mapping[str, Any]) -> None:
        self.redis.hset(self.keys.stt_workers, self.consumer, json.dumps(info))

    def gone(self) -> None:
        self.redis.hdel(self.keys.stt_workers, self.consumer)


def _id(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


@dataclass
class Worker:
    engine: Engine
    queue: JobQueue
    legs: LegSource
    results: Results
    options: Options = field(default_factory=Options)
    clock: Callable[[], int] = wall_ms
    current: str = ""
    handled: int = 0

    @classmethod
    def open(
        cls, settings: Settings, engine: Engine, client: redis.Redis, consumer: str,
        options: Options | None = None,
    ) -> Worker:  # fmt: skip
        legs, results = open_sides(settings, consumer)
        return cls(engine, JobQueue(client, consumer), legs, results, options or Options())

    def close(self) -> None:
        self.legs.close()
        self.results.close()

    # -- one job -------------------------------------------------------------------------

    def _transcribe(self, job: Job) -> dict[str, str | int]:
        started = time.monotonic()
        with self.legs.leg(job) as rec:
            heard = transcribe(self.engine, Path(rec.path))
        self.results.save(
            Transcript(
                call_id=job.call_id, leg=job.leg, engine=self.engine.name,
                model=self.engine.model, language=self.engine.language, text=heard.text,
                words=heard.words, duration_ms=heard.duration_ms, audio_sha256=rec.sha256,
                t_done=self.clock(),
            )
        )  # fmt: skip
        took = round((time.monotonic() - started) * 1000)
        return {"call_id": job.call_id, "leg": job.leg.value, "engine": self.engine.name,
                "audio_ms": heard.duration_ms, "speech_ms": heard.speech_ms, "took_ms": took,
                "worker": self.queue.consumer}  # fmt: skip

    @contextlib.contextmanager
    def _kept(self, entry_id: str) -> Iterator[None]:
        """While the job runs, refresh its idle time every third of claim_idle_ms."""
        done = threading.Event()

        def keep() -> None:
            while not done.wait(self.options.claim_idle_ms / 3000):
                try:
                    self.queue.keep(entry_id)
                except redis.RedisError as exc:
                    log.warning("could not refresh job %s: %s", entry_id, exc)

        thread = threading.Thread(target=keep, name="stt-keep", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def handle(self, d: Delivery) -> str:
        """Run one delivered job to its end; what became of it (done, retry, dead:REASON)."""
        try:
            job = jobs.parse(d.fields)
        except JobError as exc:
            self.queue.dead(d.entry_id, d.fields, exc.reason, str(exc))
            return f"dead:{exc.reason}"
        if d.deliveries > self.options.max_deliveries:
            self.queue.dead(d.entry_id, d.fields, "deliveries",
                            f"delivered {d.deliveries} times without finishing: the workers "
                            "that took it died (a poison file?)")  # fmt: skip
            return "dead:deliveries"
        self.current = f"{job.call_id}/{job.leg.value}"
        self._beat()
        try:
            with self._kept(d.entry_id):
                done = self._transcribe(job)
        except integrity.MismatchError as exc:
            log.error("integrity alert: %s", exc)
            try:
                self.results.alert(exc.mismatch, by=self.queue.consumer, at=self.clock())
            except CentreUnavailable:  # the alert is raised again when the job is
                self.queue.requeue(d.entry_id, job)
                raise
            # on this host only the file can be wrong; fetched, the transfer may be
            retry = isinstance(exc, FetchedMismatchError)
            return self._failed(d, job, exc.reason, str(exc), permanent=not retry)
        except FetchError as exc:  # cut short or dropped: the next try may get it whole
            return self._failed(d, job, exc.reason, str(exc), permanent=False)
        except RecordingError as exc:  # bad audio: retrying cannot help
            return self._failed(d, job, exc.reason, str(exc), permanent=True)
        except CentreUnavailable:
            # no centre (or it refuses our token): give the job back untouched, so that
            # waiting does not count as the deliveries of a poison file, then wait
            self.queue.requeue(d.entry_id, job)
            raise
        except (redis.RedisError, *db.OperationalError):
            raise  # the worker's loop waits for Redis; the job stays pending
        # the job loop's top: an engine failure fails the job, never the worker
        except Exception as exc:
            log.exception("job %s failed", d.entry_id)
            return self._failed(d, job, "engine", f"{type(exc).__name__}: {exc}", permanent=False)
        finally:
            self.current = ""
        self.queue.finish(d.entry_id, done)
        self.handled += 1
        self.results.flag(job.call_id)
        log.info("transcribed %s/%s: %d ms of audio in %d ms", job.call_id, job.leg.value,
                 done["audio_ms"], done["took_ms"])  # fmt: skip
        return "done"

    def _failed(self, d: Delivery, job: Job, reason: str, error: str, *, permanent: bool) -> str:
        verdict = jobs.after_failure(job, permanent=permanent,
                                     max_attempts=self.options.max_attempts)  # fmt: skip
        if verdict is Verdict.RETRY:
            self.queue.retry(d.entry_id, jobs.retried(job, f"{reason}: {error}"))
            log.warning("job %s failed (%s), retrying: %s", d.entry_id, reason, error)
            return "retry"
        log.error("job %s dead-lettered (%s): %s", d.entry_id, reason, error)
        self.queue.dead(d.entry_id, d.fields, reason, error)
        return f"dead:{reason}"

    # -- the loop ------------------------------------------------------------------------

    def _beat(self) -> None:
        self.queue.heartbeat({"pid": os.getpid(), "engine": self.engine.name,
                              "model": self.engine.model, "job": self.current,
                              "handled": self.handled, "t_seen": self.clock()})  # fmt: skip

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        """Take jobs until STOP is set (or, with until_idle, the stream has none left).
        Redis going away is waited out: pending jobs stay in the stream."""
        backoff, ready, since_trim = 0.2, False, 0
        try:
            while not stop.is_set():
                try:
                    if not ready:
                        self.queue.ensure_group()
                        self.queue.prune()
                        ready = True
                    self._beat()
                    got = self.queue.next(self.options)
                    for delivery in got:
                        self.handle(delivery)
                    since_trim += len(got)
                    if not got or since_trim >= TRIM_EVERY:
                        self.queue.trim()  # when idle, and every TRIM_EVERY jobs while busy
                        since_trim = 0
                    if until_idle and not got:
                        return
                    backoff = 0.2
                except (redis.RedisError, CentreUnavailable, *db.OperationalError) as exc:
                    log.warning("waiting for Redis/the store/the centre (%s); retry in %.1f s",
                                exc, backoff)  # fmt: skip
                    ready = False
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            with contextlib.suppress(redis.RedisError):
                self.queue.gone()


def open_sides(settings: Settings, consumer: str) -> tuple[LegSource, Results]:
    """Where legs come from and results go, by ``HOTLINE_STT_SOURCE``: ``local`` reads the
    catalogue and files here and writes the stores; ``http`` fetches from the centre and
    hands results back to it, or writes them to ``HOTLINE_DB`` when that is PostgreSQL
    (a worker with no SQLite file of its own: the centre's server, reached directly)."""
    if settings.stt_source == "http":
        if not settings.stt_url or not settings.stt_token:
            raise ConfigError("HOTLINE_STT_SOURCE=http needs HOTLINE_STT_URL and HOTLINE_STT_TOKEN")
        centre = Centre(settings.stt_url, settings.stt_token, consumer)
        if isinstance(settings.db, str):  # a postgresql:// URL (settings.database)
            return HttpLegs(centre), _store_results(settings)
        return HttpLegs(centre), HttpResults(centre)
    return LocalLegs(History.open(settings.db)), _store_results(settings)


def _store_results(settings: Settings) -> StoreResults:
    center = _center(settings)
    return StoreResults(
        TranscriptStore.open(settings.db), IntegrityAlerts.open(settings.db),
        history=History.open(settings.db) if center else None,
        qa=QaStore.open(settings.db) if center else None, center=center,
    )  # fmt: skip


def _center(settings: Settings) -> Center | None:
    """The centre file's rules for the QA flags; None (flags off, said once) when the file
    cannot be read or is invalid: transcription goes on without them."""
    try:
        return load_center(settings.center.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, CenterError) as exc:
        log.warning("QA flags off: cannot use the centre file %s: %s", settings.center, exc)
        return None
