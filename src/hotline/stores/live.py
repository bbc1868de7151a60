"""The live store in Redis: a snapshot readers can load, and a feed of numbered changes.

Writer (the controller)::

    live = LiveStore(redis.asyncio.Redis.from_url(url))
    await live.replace(calls={...}, agents={...}, queues={...})   # after a resync
    await live.apply([Change("call", "1795.7", {...}), Change("call", "1795.7", None)])

Reader (the wallboard)::

    snap = await live.snapshot()
    async for change in live.follow(snap):        # raises FeedGap: load a new snapshot
        ...

Each ``apply`` is one pipelined MULTI: the documents, the sequence counter and the feed
entries change together, so a snapshot is always consistent with the feed position it
reports.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import redis.asyncio as aredis

from hotline.stores import streams
from hotline.stores.keys import FEED_LENGTH, KEYS, Keys

Kind = Literal["call", "agent", "queue", "alert", "note", "setting"]
Doc = Mapping[str, Any]


class FeedGap(Exception):  # noqa: N818
    """The reader missed changes (or the snapshot was replaced): load a new snapshot."""


@dataclass(frozen=True, slots=True)
class Change:
    """A document set (``doc``) or deleted (``doc is None``)."""

    kind: Kind
    id: str
    doc: Doc | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    calls: dict[str, dict[str, Any]]
    agents: dict[str, dict[str, Any]]
    queues: dict[str, dict[str, Any]]
    seq: int
    stream_id: str
    generation: int


@dataclass(frozen=True, slots=True)
class FeedItem:
    seq: int
    change: Change
    stream_id: str


def _dump(doc: Doc) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _load_hash(raw: Mapping[bytes, bytes]) -> dict[str, dict[str, Any]]:
    return {k.decode(): json.loads(v) for k, v in raw.items()}


@dataclass
class LiveStore:
    redis: aredis.Redis
    keys: Keys = field(default=KEYS)
    _seq: int | None = field(default=None, init=False, repr=False)

    def _hash(self, kind: Kind) -> str:
        hashes = {
            "call": self.keys.calls,
            "agent": self.keys.agents,
            "queue": self.keys.queues,
            "alert": self.keys.alerts,
            "note": self.keys.notes,
            "setting": self.keys.settings,
        }
        return hashes[kind]

    async def _next_seq(self, count: int) -> tuple[int, int]:
        """The numbers for ``count`` changes; :meth:`_used` commits them once written.

        One writer (the controller) numbers the changes; the counter in Redis lets it
        continue after a restart. A failed write does not use its numbers (no gap).
        """
        if self._seq is None:
            self._seq = int(await self.redis.get(self.keys.seq) or 0)
        return self._seq + 1, self._seq + count

    def _used(self, last: int) -> None:
        self._seq = last

    async def apply(self, changes: Sequence[Change]) -> int:
        """Write the changes and their feed entries in one MULTI; return the last seq."""
        if not changes:
            return self._seq or int(await self.redis.get(self.keys.seq) or 0)
        first, last = await self._next_seq(len(changes))
        pipe = self.redis.pipeline(transaction=True)
        for n, change in enumerate(changes):
            key = self._hash(change.kind)
            if change.doc is None:
                pipe.hdel(key, change.id)
                doc = ""
            else:
                doc = _dump(change.doc)
                pipe.hset(key, change.id, doc)
            pipe.xadd(
                self.keys.feed,
                streams.fields(
                    {"seq": first + n, "kind": change.kind, "id": change.id, "doc": doc}
                ),
                maxlen=FEED_LENGTH,
                approximate=True,
            )
        pipe.set(self.keys.seq, last)
        await pipe.execute()
        self._used(last)
        return last

    async def replace(
        self,
        *,
        calls: Mapping[str, Doc],
        agents: Mapping[str, Doc],
        queues: Mapping[str, Doc],
    ) -> int:
        """Replace the whole snapshot (after a resync); followers get FeedGap and reload."""
        (seq, _) = await self._next_seq(1)
        generation = int(await self.redis.get(self.keys.generation) or 0) + 1
        pipe = self.redis.pipeline(transaction=True)
        for kind, docs in (("call", calls), ("agent", agents), ("queue", queues)):
            key = self._hash(kind)  # type: ignore[arg-type]
            pipe.delete(key)
            if docs:
                pipe.hset(key, mapping={k: _dump(v) for k, v in docs.items()})
        pipe.set(self.keys.generation, generation)
        pipe.xadd(
            self.keys.feed,
            streams.fields({"seq": seq, "kind": "generation", "id": str(generation), "doc": ""}),
            maxlen=FEED_LENGTH,
            approximate=True,
        )
        pipe.set(self.keys.seq, seq)
        await pipe.execute()
        self._used(seq)
        return seq

    async def snapshot(self) -> Snapshot:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(self.keys.calls)
        pipe.hgetall(self.keys.agents)
        pipe.hgetall(self.keys.queues)
        pipe.get(self.keys.seq)
        pipe.xrevrange(self.keys.feed, count=1)
        pipe.get(self.keys.generation)
        calls, agents, queues, seq, last, generation = await pipe.execute()
        return Snapshot(
            calls=_load_hash(calls),
            agents=_load_hash(agents),
            queues=_load_hash(queues),
            seq=int(seq or 0),
            stream_id=last[0][0].decode() if last else "0-0",
            generation=int(generation or 0),
        )

    async def docs(self, kind: Kind) -> dict[str, dict[str, Any]]:
        """Every document of one kind, by id (alerts, notes and settings are not in the
        snapshot: a reader loads them with this)."""
        raw = cast("dict[bytes, bytes]", await self.redis.hgetall(self._hash(kind)))
        return _load_hash(raw)

    async def alerts(self) -> dict[str, dict[str, Any]]:
        """The watchdog's alerts (latest version of each)."""
        return await self.docs("alert")

    async def follow(self, snap: Snapshot, block_ms: int = 5000) -> AsyncIterator[FeedItem]:
        """Changes after ``snap``, in order; raises FeedGap when some were missed."""
        expected, position = snap.seq + 1, snap.stream_id
        while True:
            entries = await streams.read(
                self.redis, self.keys.feed, position, block_ms=block_ms, count=500
            )
            for position, fields in entries:  # the next read starts after the last one
                seq = int(fields[b"seq"])
                kind = fields[b"kind"].decode()
                if seq != expected or kind == "generation":
                    raise FeedGap(f"expected change {expected}, got {seq} ({kind})")
                expected = seq + 1
                raw = fields[b"doc"]
                doc = json.loads(raw) if raw else None
                change = Change(cast(Kind, kind), fields[b"id"].decode(), doc)
                yield FeedItem(seq, change, position)


@dataclass
class MemoryLive:
    """The live store's writer side in memory, for the tests of what publishes to it.

    It numbers changes and keeps documents as :class:`LiveStore` does (the contract test in
    tests/integration/test_live_store.py runs against both); there is no feed to follow.
    """

    hashes: dict[Kind, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seq: int = 0
    replaced: int = 0  # how many times the whole snapshot was written

    async def apply(self, changes: Sequence[Change]) -> int:
        for change in changes:
            docs = self.hashes.setdefault(change.kind, {})
            if change.doc is None:
                docs.pop(change.id, None)
            else:
                docs[change.id] = json.loads(_dump(change.doc))
        self.seq += len(changes)
        return self.seq

    async def replace(
        self,
        *,
        calls: Mapping[str, Doc],
        agents: Mapping[str, Doc],
        queues: Mapping[str, Doc],
    ) -> int:
        for kind, docs in (("call", calls), ("agent", agents), ("queue", queues)):
            self.hashes[kind] = {k: json.loads(_dump(v)) for k, v in docs.items()}  # type: ignore[index]
        self.seq += 1
        self.replaced += 1
        return self.seq

    async def docs(self, kind: Kind) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.hashes.get(kind, {}).items()}

    async def alerts(self) -> dict[str, dict[str, Any]]:
        return await self.docs("alert")
