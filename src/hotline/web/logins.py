"""Login throttling shared by every web process, in Redis (the policy: hotline.web.throttle).

Each key's failures are a sorted set of times (the window's), its lock a key that expires
by itself; both live in Redis, so a second web process (or a restarted one) refuses what
the first one locked. When Redis does not answer, the process's own Throttle decides, so
guessing is never free.
"""

from __future__ import annotations

import redis.asyncio as aredis
from redis.exceptions import RedisError

from hotline.stores.keys import KEYS
from hotline.web.throttle import Throttle


class LoginThrottle:
    def __init__(self, redis: aredis.Redis, policy: Throttle) -> None:
        self.redis, self.policy = redis, policy

    def _keys(self, key: tuple[str, str]) -> tuple[str, str]:
        base = f"{KEYS.prefix}:login:{key[0]}:{key[1]}"
        return base + ":failures", base + ":lock"

    async def wait_ms(self, keys: list[tuple[str, str]], now: int) -> int:
        """How long the longest-locked of KEYS must wait (0: the attempt may go on)."""
        try:
            waits = [int(await self.redis.pttl(self._keys(k)[1])) for k in keys]
        except (RedisError, OSError):
            return max(self.policy.wait_ms(k, now) for k in keys)
        return max([0, *waits])

    async def failed(self, keys: list[tuple[str, str]], now: int) -> None:
        for key in keys:
            self.policy.failed(key, now)  # the fallback keeps count too
            failures, lock = self._keys(key)
            try:
                pipe = self.redis.pipeline(transaction=True)
                pipe.zremrangebyscore(failures, 0, now - self.policy.window_ms)
                pipe.zadd(failures, {str(now): now})
                pipe.zcard(failures)
                pipe.pexpire(failures, self.policy.window_ms)
                count = int((await pipe.execute())[2])
                lock_ms = self.policy.lock_ms(count)
                if lock_ms:
                    await self.redis.set(lock, "1", px=lock_ms)
            except (RedisError, OSError):
                continue

    async def cleared(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            self.policy.cleared(key)
            try:
                await self.redis.delete(*self._keys(key))
            except (RedisError, OSError):
                continue
