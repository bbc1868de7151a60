"""The stream of speech-to-text jobs (``KEYS.stt_jobs``), from the side that fills it.

The controller adds one job per recorded leg (:class:`JobStream`); the workers take them
(:class:`hotline.stt.worker.JobQueue`). :class:`MemoryJobs` keeps the jobs in a list for
the tests of what queues them; the contract test in tests/integration/test_stt_worker.py
runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aredis
from redis.exceptions import ConnectionError as RedisConnectionError

from hotline.stores import streams
from hotline.stores.keys import KEYS, Keys
from hotline.stt.jobs import Job


class JobStream:
    """Jobs added to the Redis stream the workers read."""

    def __init__(self, redis: aredis.Redis, keys: Keys = KEYS) -> None:
        self.redis = redis
        self.keys = keys

    async def add(self, job: Job) -> None:
        """One job at the end of the stream (XADD); a RedisError if Redis is away."""
        await self.redis.xadd(self.keys.stt_jobs, streams.fields(job.fields()))


@dataclass
class MemoryJobs:
    """The job stream in memory: ``jobs`` in the order they were added; while ``down``,
    adding fails as it does when Redis is away."""

    jobs: list[Job] = field(default_factory=list)
    down: bool = False

    async def add(self, job: Job) -> None:
        if self.down:
            raise RedisConnectionError("Error connecting to the job stream: Redis is down")
        self.jobs.append(job)
