"""The controller: follows every call, queue and agent; the composition root.

    controller = Controller(settings, center, client=AMIClient(...), redis=..., history=...)
    await controller.run()              # until cancelled

Asterisk is the source of truth: on every (re)connect the model is rebuilt from QueueStatus
and CoreShowChannels before events are trusted, members are re-added after an Asterisk
restart (persistentmembers = no empties the queues), and calls that vanished are closed.
Effects of the pure reducers go to Redis (live, batched) and SQLite (history, in a worker
thread). queue_log completes calls that began or ended while the controller was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

import redis.asyncio as aredis
from redis.exceptions import RedisError

from hotline.agents.holds import Holds
from hotline.agents.state import Agents
from hotline.agents.status import PausePolicy
from hotline.ami.client import AMIClient, Subscription
from hotline.ami.message import EventList, Message
from hotline.ami.timestamps import event_ms
from hotline.calls.namespace import Namespace
from hotline.calls.state import CallAmended, CallEnded, CallLost, CallResumed, Calls, Effect
from hotline.casework.desk import Desk
from hotline.center.config import Center
from hotline.commands.bus import Inbox
from hotline.controller.agent_actions import AgentActions
from hotline.controller.alerting import Alerting
from hotline.controller.chaser import Chaser
from hotline.controller.holds import HoldKeeper
from hotline.controller.inbox import Commands
from hotline.controller.links import Links
from hotline.controller.lost import LostPbxs
from hotline.controller.members import DesiredMembers, members_source
from hotline.controller.outbox import Outbox
from hotline.controller.pbxs import AGENT_CALL_EVENTS, PbxSide, pbx_status_doc
from hotline.controller.recaller import ModelFloor, Recaller
from hotline.controller.reconcile import Reconciler
from hotline.controller.recorder import Recorder, Recorders
from hotline.controller.supervision import Supervision
from hotline.controller.sweep import Sweep
from hotline.controller.transfers import Transfers
from hotline.controller.visits import Visits
from hotline.core.localtime import CHINA
from hotline.core.records import AgentChange
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.pbx.install import read_flow
from hotline.queues.state import CentreQueues, Queues
from hotline.stores import dialect as db
from hotline.stores.access import AccessLog
from hotline.stores.docs import agent_doc, call_doc, queue_doc
from hotline.stores.history import History
from hotline.stores.keys import KEYS, STATUS_TTL, Keys
from hotline.stores.live import Change, LiveStore
from hotline.stores.orders import OrderStore
from hotline.stores.queuelog_position import QueueLogPosition
from hotline.stores.recall import RecallStore
from hotline.stt.stream import JobStream
from hotline.watchdog import Watchdog, resynced

log = logging.getLogger(__name__)
LAG_SAMPLE = 32  # the event lag is measured on the first event and every 32nd after


class Controller:
    def __init__(
        self,
        settings: Settings,
        center: Center,
        *,
        client: AMIClient,
        redis: aredis.Redis,
        history: History,
        clock: Callable[[], int] = wall_ms,
        flush_every: float = 0.05,
        others: Mapping[str, AMIClient] | None = None,
    ) -> None:
        self.settings = settings
        self.center = center
        self.client = client
        self.redis = redis
        self.history = history
        self.clock = clock
        self.flush_every = flush_every
        self.live = LiveStore(redis)
        policy = PausePolicy.from_reasons(center.reasons.values())
        self.calls = Calls()
        self.queues = Queues()  # the default PBX's callers
        self.agents = Agents(policy=policy)
        # several PBXs (docs/architecture.md "Scale-out"): the default one is followed by
        # every component; each other one by its own AMI link, queue_log tail and resync,
        # its ids qualified at the edge (calls.namespace), and holds kept across all
        self.pbx_name = settings.pbx_name
        self.namespace = Namespace(settings.pbx_name)
        self.reconciler = Reconciler(
            settings.pbx_dir / "log" / "queue_log", positions=QueueLogPosition(redis),
            calls=self.calls, flush=self.flush, history=history, namespace=self.namespace,
        )  # fmt: skip
        self.others: dict[str, PbxSide] = {}
        self.centre_queues = CentreQueues(
            lambda: [self.queues, *(side.queues for side in self.others.values())]
        )
        for link in settings.other_pbxs:
            if others is None or link.name not in others:
                raise ValueError(f"no AMI client for PBX {link.name!r}")
            ns = Namespace(link.name, qualified=True)
            keys = Keys(prefix=f"{KEYS.prefix}:pbx:{link.name}")
            reconciler = Reconciler(
                link.queue_log, positions=QueueLogPosition(redis, keys), calls=self.calls,
                flush=self.flush, history=history, namespace=ns,
            )  # fmt: skip
            # its legs: the PBX writes /srv/hotline/spool/recordings/...; here they are
            # under RECORDINGS (its instance's spool/recordings)
            recorder = Recorder(history, JobStream(redis), link.recordings.parent.parent, clock)
            self.others[link.name] = PbxSide(
                link, ns, others[link.name], reconciler, keys, recorder
            )
        clients = {self.pbx_name: client} | {n: side.client for n, side in self.others.items()}
        # where supervision, the notice, recalls and 回访 act: the PBX of the call, every
        # PBX, or the default while its link is up (controller/links.py)
        self.links = Links(self.pbx_name, client, {n: s.client for n, s in self.others.items()})
        self.holds = HoldKeeper(Holds(clients), clients)
        # a PBX whose link stays down is lost: its calls are closed (controller/lost.py)
        owners = {self.pbx_name: self.namespace.owns} | {
            name: side.namespace.owns for name, side in self.others.items()
        }
        self.lost = LostPbxs(
            clients, owners, lost_s=settings.pbx_lost_s, calls=self.calls, agents=self.agents,
            queues=self._queues_of,
        )  # fmt: skip
        self._pbx_up: dict[str, bool] = {}
        # her own commands (login, pause, ...) go to every PBX she is a member of
        self.agent_actions = AgentActions(
            center, client, self.agents, clock, held=self.holds.holds.holds,
            mirrors={name: side.client for name, side in self.others.items()}, name=self.pbx_name,
        )  # fmt: skip
        self.watchdog = Watchdog(center.watchdog, center, tz=CHINA, keep_alerts=False)
        # what each agent should be on every PBX; whose member events the model follows
        self.members = DesiredMembers(redis, self.agents, self.agents, clock)
        self.members_moved = False  # another PBX's events fed the model while the default was away
        self.outbox = Outbox(
            history, self.live, snapshot=self.write_snapshot, remember=self.members.remember
        )
        self.lock = asyncio.Lock()  # held by resync: events wait until the model is rebuilt
        # outlives a restart of the commands loop: commands sent meanwhile are served
        self.inbox = Inbox(redis)
        self.ready = asyncio.Event()  # set after the first resync
        self.resyncs = 0
        self.alerting = Alerting(
            self.watchdog, self.outbox, history, self.live,
            carry_out=self.agent_actions.carry_out, clock=clock,
        )  # fmt: skip
        self.recorder = Recorder(history, JobStream(redis), settings.pbx_dir, clock)
        self.recaller = Recaller(
            RecallStore.open(history.file), history, center.recall, center, self.links,
            Recorders(lambda call_id: self._side_of(call_id)[2]), clock, publish=self.outbox,
            floor=ModelFloor(self.centre_queues, self.agents),
        )  # fmt: skip
        self.visits = Visits(Desk(OrderStore.open(history.file), center.orders), self.links, clock)
        self.chaser = Chaser(self.visits.desk, clock)  # 催办/督办 every minute
        self.access = AccessLog.open(settings.db)
        self.supervision = Supervision(center, self.links, self.access.append, clock)
        self.transfers = Transfers(
            center, self.links, journal=self.outbox.journal, clock=clock,
            queues=lambda: read_flow(settings.flow)[0].queues,
        )  # fmt: skip
        self.commands = Commands(
            agent_actions=self.agent_actions.carry_out, alerts=self.alerting.handle,
            recall=self.recaller.dial, visit=self.visits.call, asterisk=self.links,
            flow=settings.flow, outbox=self.outbox, clock=clock,
            supervise=self.supervision.carry_out, transfer=self.transfers.carry_out,
            live=self.live,
        )  # fmt: skip
        # the calls in progress or closed with a lost PBX: their files may still be written
        self.sweep = Sweep(self.recorder, self.calls.unsettled, history, settings.pbx_dir, clock)
        self.sweeps: dict[str, Sweep] = {}  # each other PBX's recordings, its ids qualified
        for name, side in self.others.items():
            self.sweeps[name] = Sweep(
                side.recorder, self.calls.unsettled, history, side.recorder.pbx_dir, clock,
                root=side.link.recordings, namespace=side.namespace, queue_late=False,
            )  # fmt: skip
        self._events: Subscription | None = None
        self.failures: dict[str, int] = {}
        self.event_lag_ms = 0  # wall clock at handling − a recent event's Timestamp

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect (and keep reconnecting) and follow everything until cancelled."""
        self.client.on_connect(self.resync)
        self._events = self.client.subscribe(maxsize=100_000)
        events = self._events
        spying = self.client.subscribe(*Supervision.EVENTS)
        await self.alerting.restore()
        await self.client.start(wait=False)
        spies = {}
        for name, side in self.others.items():
            side.client.on_connect(functools.partial(self._resync_other, side))
            side.events = side.client.subscribe(maxsize=100_000)
            spies[name] = side.client.subscribe(*Supervision.EVENTS)
            await side.client.start(wait=False)
        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "events": lambda: self._follow(events),
            "flush": self._flusher,
            "tick": self._ticker,
            "commands": lambda: self.commands.serve(self.inbox),
            "queue_log": self.reconciler.run,
            "recordings": self.recorder.serve,
            "recall": lambda: self.recaller.serve(self.ready),
            "visits": self.visits.serve,
            "chase": self.chaser.serve,
            "sweep": lambda: self.sweep.serve(self.ready),
            "supervision": lambda: self.supervision.follow(spying, self.pbx_name),
            "holds": self.holds.serve,
        }
        for name, side in self.others.items():
            loops[f"events:{name}"] = functools.partial(self._follow_other, side)
            loops[f"queue_log:{name}"] = side.reconciler.run
            loops[f"recordings:{name}"] = side.recorder.serve
            loops[f"supervision:{name}"] = functools.partial(
                self.supervision.follow, spies[name], name
            )
            loops[f"sweep:{name}"] = functools.partial(self.sweeps[name].serve, side.ready)
        tasks = [
            asyncio.create_task(self._guard(name, loop), name=name) for name, loop in loops.items()
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a crashed loop is a bug: surface it
        finally:
            await stop_tasks(tasks)
            with contextlib.suppress(Exception):
                await self.flush()
            await self.client.close()
            for side in self.others.values():
                await side.client.close()
            self.recaller.store.close()
            self.visits.desk.store.close()
            self.access.close()

    async def _guard(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run a loop; when Redis or SQLite fails under it, log, wait and start it again.

        What is pending stays pending (the flush retries it); anything else is a bug and
        stops the controller.
        """
        delay = 0.5
        while True:
            try:
                await loop()
                return
            except (RedisError, OSError, *db.OperationalError) as exc:
                self.failures[name] = self.failures.get(name, 0) + 1
                if isinstance(exc, RedisError):
                    # Redis may come back empty (a restart without persistence): write the
                    # whole snapshot, not just the changes, once it answers again
                    self.outbox.snapshot_due = True
                log.error("%s loop failed (%s); again in %.1f s", name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _follow(self, events: Subscription) -> None:
        handled = 0
        async for event in events:
            async with self.lock:
                self.apply(event)
            handled += 1
            if handled % LAG_SAMPLE == 1:  # a sample is enough for /metrics: off the hot path
                stamp = event_ms(event)
                if stamp is not None:
                    self.event_lag_ms = self.clock() - stamp
            if handled % 64 == 0:
                # a backlog (after a resync) would otherwise run without a pause: let the
                # flusher publish now and then (measured: p99 publish 962 ms -> 219 ms)
                await asyncio.sleep(0)

    async def _follow_other(self, side: PbxSide) -> None:
        assert side.events is not None
        handled = 0
        async for event in side.events:
            async with self.lock:
                self.apply_from(side.link.name, event)
            handled += 1
            if handled % 64 == 0:
                await asyncio.sleep(0)

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            if self.outbox.pending:
                await self.flush()

    async def _ticker(self) -> None:
        expired = 0
        while True:
            await asyncio.sleep(1.0)
            now = self.clock()
            async with self.lock:
                self.holds.tick(now)
                self._pbx_status(now)
                self._close_lost(now)
                self._journal(self.agents.tick(now))
                self.alerting.publish(self.watchdog.tick(now))
                # waiting times grow while nothing happens: the wallboard needs them
                for view in self.centre_queues.views().values():
                    if view.waiting:
                        self._queue_changed(view.name)
                steps = self.alerting.due_steps(now)
                if now - expired >= 60_000:
                    self.alerting.expire_notes(now)
                    expired = now
            if steps:  # outside the lock: a forced logout waits for Asterisk
                await self.alerting.escalate(steps)
            await self._publish_status(now)

    async def _publish_status(self, now: int) -> None:
        """The heartbeat /metrics reads: AMI link up, how late events are handled."""
        status = {"t": now, "ami_connected": self.client.connected,
                  "event_lag_ms": self.event_lag_ms, "resyncs": self.resyncs,
                  "pbxs": self.pbx_links_up(), "holds": len(self.holds.holds.held())}  # fmt: skip
        await self.redis.set(KEYS.controller_status, json.dumps(status), ex=STATUS_TTL)

    # -- reducing --------------------------------------------------------------------------

    def apply(self, event: Message, pbx: str = "") -> None:
        """Feed one AMI event of ``pbx`` (default: the default PBX; another PBX's event
        has its ids qualified) to every reducer and collect their effects."""
        pbx = pbx or self.pbx_name
        hold = self.holds.is_hold_event(pbx, event)  # never the agent's own pause
        self.holds.feed(pbx, event, self.clock())
        self._calls(self.calls.apply(event))
        if pbx != self.pbx_name:
            # her memberships, pauses and device are the same on every PBX and reported by
            # the default one; another PBX tells only that it rings or connects her, and
            # its own callers waiting and talking (read with the default's: centre_queues)
            side = self.others.get(pbx)
            if side is not None:
                for change in side.queues.apply(event):
                    self._queue_changed(change.view.name)
            if pbx == self.members_from():  # the default is away: this PBX's word counts
                if not hold:
                    self._journal(self.agents.apply(event))
            elif event.name in AGENT_CALL_EVENTS:
                self._journal(self.agents.apply(event))
            self.recaller.apply(event)  # a recall or 回访 dialled there (default down)
            self.visits.apply(event)
            return
        for change in self.queues.apply(event):
            self._queue_changed(change.view.name)
        # back from an absence, the default PBX's member states are stale until its resync
        # has set them as the agents are (members_moved): its rings and connects only
        if not hold and (not self.members_moved or event.name in AGENT_CALL_EVENTS):
            self._journal(self.agents.apply(event))
        self.recaller.apply(event)
        self.visits.apply(event)

    def apply_from(self, pbx: str, event: Message) -> None:
        """An event as PBX ``pbx`` sent it: its ids qualified, then :meth:`apply`."""
        side = self.others.get(pbx)
        self.apply(side.namespace.event(event) if side is not None else event, pbx=pbx)

    def _side_of(self, call_id: str) -> tuple[Namespace, Reconciler, Recorder]:
        """The PBX a call is on: its namespace, queue_log follower and recorder."""
        for side in self.others.values():
            if side.namespace.owns(call_id):
                return side.namespace, side.reconciler, side.recorder
        return self.namespace, self.reconciler, self.recorder

    def _close_lost(self, now: int) -> None:
        """The calls, talks and waiting callers of a PBX whose link stayed down: ended."""
        for closed in self.lost.tick(now):
            self._calls(closed.calls)
            self._journal(closed.agents)
            for queue in closed.queues:
                self._queue_changed(queue)

    def _queues_of(self, pbx: str) -> Queues | None:
        """PBX ``pbx``'s own queue model (each other PBX's is replaced at its resync)."""
        if pbx == self.pbx_name:
            return self.queues
        side = self.others.get(pbx)
        return side.queues if side is not None else None

    def pbx_links_up(self) -> dict[str, bool]:
        """Each PBX's AMI link: up or down, the default PBX first."""
        return {self.pbx_name: self.client.connected} | {
            name: side.client.connected for name, side in self.others.items()
        }

    def members_from(self) -> str:
        """The PBX whose member events the agents' model follows (controller/members.py).
        Asked for each event of another PBX: the default's link up answers it at once."""
        if self.client.connected:
            return self.pbx_name
        return members_source(self.pbx_name, self.pbx_links_up())

    def _pbx_status(self, now: int) -> None:
        """The wallboard's PBX status (a live setting), written when a link changes; a PBX
        whose link is down has no callers in the centre's queues (its resync brings back
        whoever is still there)."""
        up = self.pbx_links_up()
        if up != self._pbx_up:
            for name, side in self.others.items():
                if not up[name] and self._pbx_up.get(name, True):
                    names = list(side.queues.views())
                    side.queues = Queues()
                    for queue in names:
                        self._queue_changed(queue)
            self._pbx_up = up
            self.outbox.put(Change("setting", "pbxs", pbx_status_doc(up, now)))
        if self.members_from() != self.pbx_name:
            self.members_moved = True  # the default's pauses are brought in line at its resync

    def _calls(self, effects: list[Effect]) -> None:
        for effect in effects:
            namespace, reconciler, recorder = self._side_of(effect.record.call_id)
            record = namespace.record(effect.record)
            if isinstance(effect, CallEnded | CallAmended | CallLost):
                # what queue_log proved of the call joins AMI's record before it is stored:
                # it may have been read first (reconcile.py, "the rule")
                record = reconciler.completed(record)
            self.alerting.publish(self.watchdog.feed(record))  # an upsert by call id
            if isinstance(effect, CallEnded):
                self.outbox.call_ended(record)
                if record.recording:
                    recorder.call_ended(record.call_id, record.recording)
            elif isinstance(effect, CallAmended):
                self.outbox.call_ended(record)  # stored again, completed
            elif isinstance(effect, CallLost):
                # stored, off the live store; its legs wait for its true end (or the sweep)
                self.outbox.call_ended(record)
            else:
                self.outbox.put(Change("call", record.call_id, call_doc(record)))
                if isinstance(effect, CallResumed):  # its PBX came back with it
                    self._journal(self.lost.resumed(record, self.clock()))

    def _queue_changed(self, name: str) -> None:
        view = self.centre_queues.view(name)
        if view is not None:
            doc = queue_doc(view, self.clock())
            self.outbox.put(Change("queue", name, doc))

    def _journal(self, changes: list[AgentChange]) -> None:
        for change in changes:
            self.outbox.journal(change)
            self.alerting.publish(self.watchdog.feed(change))
            view = self.agents.view(change.agent)
            doc = agent_doc(view) if view is not None and view.memberships else None
            self.outbox.put(Change("agent", change.agent, doc))
            if change.kind in ("login", "logout", "pause", "unpause"):
                self.outbox.members_changed(change.agent)

    async def flush(self) -> None:
        """Write what is pending: SQLite (history) first, then Redis (live)."""
        await self.outbox.flush()

    async def write_snapshot(self) -> None:
        """Replace the live store's snapshot with the whole model."""
        now = self.clock()
        await self.live.replace(
            calls={
                r.call_id: call_doc(self._side_of(r.call_id)[0].record(r))
                for r in self.calls.records()
            },
            agents={n: agent_doc(v) for n, v in self.agents.views().items() if v.memberships},
            queues={n: queue_doc(v, now) for n, v in self.centre_queues.views().items()},
        )

    # -- resync ----------------------------------------------------------------------------

    async def resync(self, client: AMIClient) -> None:
        """Rebuild the model from Asterisk's own view (the on_connect hook)."""
        async with self.lock:
            # events still queued are older than the view below: applied after it they
            # would resurrect calls whose hangup we never saw; dropped, their millisecond
            # times were lost (34 calls to the second after a reconnect at 200 calls).
            # Applied before it, they keep what AMI said and the view settles the rest.
            if self._events is not None:
                queued = self._events.take()
                for event in queued:
                    self.apply(event)
                if queued:
                    log.info("resync: applied %d events queued before it", len(queued))
            started = await self._asterisk_started(client)
            last = await self._last_started()
            restarted = bool(last) and started != last
            status = await client.action("QueueStatus")
            channels = await client.action("CoreShowChannels")
            assert isinstance(status, EventList)
            assert isinstance(channels, EventList)
            if self.members_moved and await self.members.repause(client, status, self.pbx_name):
                status = await client.action("QueueStatus")
                assert isinstance(status, EventList)
            self.members_moved = False
            if restarted and await self.members.readd(client, status):
                status = await client.action("QueueStatus")
                assert isinstance(status, EventList)
            now = self.clock()
            alive = [
                c.get("Uniqueid") or "" for c in channels.events if c.name == "CoreShowChannel"
            ]
            self._calls(
                self.calls.resync(channels.events, status.events, now=now,
                                  pbx_restarted=restarted, owns=self.namespace.owns)
            )  # fmt: skip
            self.holds.link_up(self.pbx_name, status.events, now)
            self.queues.resync(status.events, channels.events, now=now)
            changes = self.agents.resync(status.events, now=now, calls=alive)
            # a pause found at a resync counts from Asterisk's LastPause (in the note)
            self._journal(resynced(changes, self.agents.views()))
            self.outbox.snapshot_due = True  # the flush writes the whole model, not the changes
            await self.flush()
            await self.commands.resend_notice(self.pbx_name, client)
            await self.supervision.resynced(self.pbx_name, channels.events)
            # only now: if anything above failed, the next resync re-adds the members again
            await self.redis.set(self._started_key, started)
            self.resyncs += 1
            self.ready.set()
            log.info(
                "resync %d: %d calls, %d agents", self.resyncs, len(alive), len(self.agents.views())
            )

    @property
    def _started_key(self) -> str:
        return f"{KEYS.prefix}:pbx:started"

    async def _resync_other(self, side: PbxSide, client: AMIClient) -> None:
        """Rebuild another PBX's calls from its own view (its on_connect hook); after its
        restart, re-add the members it lost (``persistentmembers = no``)."""
        async with self.lock:
            if side.events is not None:
                for event in side.events.take():
                    self.apply_from(side.link.name, event)
            started = await self._asterisk_started(client)
            raw = await self.redis.get(side.started_key)
            last = raw.decode() if isinstance(raw, bytes) else str(raw or "")
            restarted = bool(last) and started != last
            status = await client.action("QueueStatus")
            channels = await client.action("CoreShowChannels")
            assert isinstance(status, EventList)
            assert isinstance(channels, EventList)
            if side.link.name != self.members_from() and await self.members.repause(
                client, status, side.link.name
            ):
                status = await client.action("QueueStatus")
                assert isinstance(status, EventList)
            if restarted and await self.members.readd(client, status, expect=False):
                status = await client.action("QueueStatus")
                assert isinstance(status, EventList)
            now = self.clock()
            qualify = side.namespace.event
            self._calls(
                self.calls.resync(
                    [qualify(c) for c in channels.events], [qualify(e) for e in status.events],
                    now=now, pbx_restarted=restarted,
                    owns=side.namespace.owns,
                )
            )  # fmt: skip
            self.holds.link_up(side.link.name, status.events, now)
            side.queues.resync([qualify(e) for e in status.events],
                               [qualify(c) for c in channels.events], now=now)  # fmt: skip
            for name in side.queues.views():
                self._queue_changed(name)
            await self.flush()
            await self.commands.resend_notice(side.link.name, client)
            await self.supervision.resynced(side.link.name, channels.events)
            await self.redis.set(side.started_key, started)
            side.resyncs += 1
            side.ready.set()  # its calls in progress are known: its sweep may start
            log.info("resync of PBX %s: %d channels", side.link.name, len(channels.events))

    async def _asterisk_started(self, client: AMIClient) -> str:
        """When this Asterisk started (CoreStatus): a change means it restarted."""
        core = await client.action("CoreStatus")
        assert isinstance(core, Message)
        return f"{core.get('CoreStartupDate')} {core.get('CoreStartupTime')}"

    async def _last_started(self) -> str:
        """The start time seen at the last successful resync ("" the first time)."""
        raw = await self.redis.get(self._started_key)
        if raw is None:
            return ""
        return raw.decode() if isinstance(raw, bytes) else str(raw)


async def stop_tasks(tasks: list[asyncio.Task[None]], *, attempts: int = 10) -> None:
    """Cancel the loops and wait for them, cancelling again those that go on.

    A cancel can be swallowed: redis-py wraps each read in a timeout, and a cancel that
    arrives as that timeout fires (seen after the event loop was held up for 10 s) turns
    into the timeout's error, so the inbox's loop simply reads again. Measured here: the
    controller then never stopped. Cancelling again until the task is done ends it.
    """
    for _ in range(attempts):
        pending = [t for t in tasks if not t.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    left = [t.get_name() for t in tasks if not t.done()]
    if left:
        log.error("loops still running after %d cancels: %s", attempts, ", ".join(left))
