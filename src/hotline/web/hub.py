"""One follower of the live feed per web process, fanned out to every open wallboard.

    hub = LiveHub(LiveStore(redis))
    state = await hub.state()                   # the snapshot as of hub.seq (started lazily)
    async with hub.subscribe() as inbox:         # one per SSE client
        while (item := await inbox.get()) is not RELOAD: ...

Fifty wallboards make one XREAD, not fifty. On a seq gap or a new generation the hub
loads a fresh snapshot and sends RELOAD to everyone (the page then fetches the state
again); so does a client too slow to keep up (its inbox is bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from redis.exceptions import RedisError

from hotline.host.clock import wall_ms
from hotline.stores.live import Change, FeedGap, Kind, LiveStore, Snapshot

log = logging.getLogger(__name__)


class _Reload:
    def __repr__(self) -> str:
        return "RELOAD"


RELOAD: Final = _Reload()
EXTRA_KINDS: tuple[Kind, ...] = ("alert", "note", "setting")
INBOX_SIZE = 2000


@dataclass(frozen=True, slots=True)
class Update:
    seq: int
    change: Change


@dataclass
class State:
    """The live documents by kind (``call``, ``agent``, ``queue``, ``alert``, ``note``,
    ``setting``) at ``seq``."""

    docs: dict[str, dict[str, dict[str, Any]]]
    seq: int
    generation: int

    def apply(self, change: Change) -> None:
        docs = self.docs.setdefault(change.kind, {})
        if change.doc is None:
            docs.pop(change.id, None)
        else:
            docs[change.id] = dict(change.doc)


@dataclass
class LiveHub:
    live: LiveStore
    block_ms: int = 2000
    _state: State | None = None
    _inboxes: set[asyncio.Queue[Update | _Reload]] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str = ""
    lag_ms: int = 0  # the last change: read by the hub − written by the controller
    clock: Callable[[], int] = field(default=wall_ms)

    async def _load(self) -> tuple[State, Snapshot]:
        snap = await self.live.snapshot()
        docs = {"call": snap.calls, "agent": snap.agents, "queue": snap.queues}
        for kind in EXTRA_KINDS:  # not in the snapshot: read beside it
            docs[kind] = await self.live.docs(kind)
        return State(docs, snap.seq, snap.generation), snap

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                reloaded = self._state is not None or bool(self.error)
                self._state, snap = await self._load()
                self.error = ""
                self._ready.set()
                if reloaded:  # the first load: every subscriber reads it for its hello
                    self._broadcast(RELOAD)
                delay = 0.2
                async for item in self.live.follow(snap, block_ms=self.block_ms):
                    self._state.apply(item.change)
                    self.lag_ms = self.clock() - int(item.stream_id.split("-")[0])
                    self._state.seq = item.seq
                    self._broadcast(Update(item.seq, item.change))
            except FeedGap as gap:
                log.info("live feed: %s; reloading the snapshot", gap)
            except (RedisError, OSError) as exc:
                self.error = f"Redis: {exc}"
                self._ready.set()  # readers see the error instead of waiting forever
                log.warning("live feed unavailable (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _broadcast(self, item: Update | _Reload) -> None:
        for inbox in list(self._inboxes):
            try:
                inbox.put_nowait(item)
            except asyncio.QueueFull:
                # too slow: drop its backlog; it reloads the whole state instead
                while not inbox.empty():
                    inbox.get_nowait()
                inbox.put_nowait(RELOAD)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def state(self, timeout: float = 5.0) -> State | None:
        """The current state (None, with ``error`` set, while Redis does not answer)."""
        self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._state if not self.error else None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Update | _Reload]]:
        self.start()
        inbox: asyncio.Queue[Update | _Reload] = asyncio.Queue(INBOX_SIZE)
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    @property
    def clients(self) -> int:
        return len(self._inboxes)
