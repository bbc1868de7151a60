"""Call citizens back: originate to the agent's phone, then through the trunk to the
citizen, and record how each attempt went.

``hotline recall dial TASK --agent EXT`` (and the agent's page) send a RECALL command;
:meth:`Recaller.dial` checks it and originates ``Channel=<the agent's interface>``,
``Context=hotline-outbound``, ``Exten=<the citizen's number>`` with ``HOTLINE_RECALL=<task>``.
The agent's phone rings first (preview dialling: they have the task in front of them);
once they answer, the dialplan records the call per leg and dials the trunk. The outcome
comes back as the ``h`` extension's ``UserEvent HotlineOutbound`` (DIALSTATUS, cause,
task, recording prefix): :meth:`apply` takes it from the event stream, :meth:`serve`
stores the attempt (:meth:`RecallStore.attempt`) and hands the recording to the
:class:`~hotline.controller.recorder.Recorder` under the agent channel's Uniqueid.
An agent who does not answer is an ``agent_missed`` attempt: the task is untouched.

In a centre on several PBXs (:class:`~hotline.controller.links.Links`) the attempt is
originated on the default PBX while its link is up, else on the first PBX whose link is up
(agents and the trunk are reached from any PBX through Kamailio); its events arrive with
that PBX's ids qualified (``Controller.apply_from``), so the attempt's call id names it,
and ``recorder`` hands its legs to that PBX's recorder.

:meth:`serve` also brings the recall list up to date with the history every
:data:`SYNC_S` (new tasks, callers who got through, expiry).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hotline.agents.roster import Agent, Roster
from hotline.agents.state import Agents
from hotline.ami.client import Headers
from hotline.ami.errors import ActionFailed, AMIError
from hotline.ami.message import EventList, Message
from hotline.ami.timestamps import event_ms
from hotline.commands.bus import Reply
from hotline.commands.plan import Command, Verb
from hotline.controller.agent_actions import device_state
from hotline.controller.links import Links, none_up, one_or_many
from hotline.core.localtime import CHINA
from hotline.core.records import AgentStatus
from hotline.pbx.trunk import OUTBOUND
from hotline.queues.state import CentreQueues, Queues
from hotline.recall.figures import board_doc
from hotline.recall.rules import RecallRules
from hotline.recall.tasks import Outcome, State, outcome_of, virtual_hold
from hotline.stores import dialect as db
from hotline.stores.live import Change
from hotline.stores.recall import MARGIN_MS, Calls, RecallError, RecallStore
from hotline.transcripts.redact import mask_phone

log = logging.getLogger(__name__)
SYNC_S = 30.0
HOLD_S = 1.0  # how often callbacks are checked for the front of their queue
DEEP_S = 600.0  # after a start, syncs read from before the last one (queue_log fills)
AGENT_RING_S = 30  # the agent's phone rings this long before the attempt is agent_missed
PHONE_CANNOT = {
    "UNAVAILABLE": "not registered",
    "INVALID": "not a device Asterisk knows",
    "INUSE": "on a call",
    "BUSY": "busy",
    "RINGING": "ringing",
    "RINGINUSE": "on a call",
    "ONHOLD": "on a call (held)",
}
"""DEVICE_STATE values in which the agent's phone is not offered a recall."""


class Originator(Protocol):
    """:class:`hotline.ami.client.AMIClient`."""

    @property
    def connected(self) -> bool: ...

    async def action(self, name: str, headers: Headers = ...) -> Message | EventList: ...

    async def originate(self, headers: Headers, *, timeout: float = ...) -> tuple[str, Message]: ...


class Publish(Protocol):
    """:class:`hotline.controller.outbox.Outbox`: a live document to publish."""

    def put(self, change: Change) -> None: ...


class Floor(Protocol):
    """Who waits and who is free now, by queue (:class:`ModelFloor`, on the controller's
    models)."""

    def waiting(self) -> dict[str, list[int]]: ...  # queue -> when each waiting caller joined
    def ready(self) -> dict[str, list[str]]: ...  # queue -> ready agents, longest idle first


@dataclass(frozen=True, slots=True)
class ModelFloor:
    """The floor as the controller's queue and agent models see it."""

    queues: Queues | CentreQueues
    agents: Agents

    def waiting(self) -> dict[str, list[int]]:
        return {name: [w.since for w in view.waiting] for name, view in self.queues.views().items()}

    def ready(self) -> dict[str, list[str]]:
        out: dict[str, list[tuple[int, str]]] = {}
        for view in self.agents.views().values():
            if view.status is not AgentStatus.READY:
                continue
            for m in view.memberships:
                if not m.paused:
                    out.setdefault(m.queue, []).append((view.since, view.name))
        return {q: [name for _, name in sorted(agents)] for q, agents in out.items()}


class Recordings(Protocol):
    """:class:`hotline.controller.recorder.Recorder`."""

    def call_ended(self, call_id: str, prefix: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Finished:
    """An attempt's end as the dialplan reported it."""

    task: int
    agent: str
    t_start: int
    t_end: int
    outcome: Outcome
    cause: str
    call_id: str  # the agent channel's Uniqueid ('' when it never answered)
    recording: str  # the legs' prefix as the PBX wrote it ('' when not recorded)


class Recaller:
    def __init__(
        self,
        store: RecallStore,
        history: Calls,
        rules: RecallRules,
        roster: Roster,
        asterisk: Originator | Links[Originator],
        recorder: Recordings,
        clock: Callable[[], int],
        publish: Publish | None = None,
        floor: Floor | None = None,
    ) -> None:
        self.store = store
        self.history = history
        self.rules = rules
        self.roster = roster
        self.links = one_or_many(asterisk)
        self.recorder = recorder
        self.clock = clock
        self.publish = publish
        self.floor = floor
        self.finished: asyncio.Queue[Finished] = asyncio.Queue()
        self.dialling: dict[int, tuple[str, int]] = {}  # task -> (agent, when it started)
        self._originating: set[asyncio.Task[None]] = set()

    # -- the command -----------------------------------------------------------------------

    async def dial(self, command: Command) -> Reply:
        """Start an attempt of the command's task from its agent's phone."""
        try:
            task_id = int(command.task)
        except ValueError:
            return Reply(False, f"recall: {command.task!r} is not a task number")
        agent = self.roster.agent(command.agent)
        if agent is None:
            return Reply(False, f"unknown agent {command.agent!r} (see center.yaml)")
        task = await asyncio.to_thread(self.store.task, task_id)
        if task is None:
            return Reply(False, f"no recall task {task_id}", {"task": str(task_id)}, "no_task")
        if not task.open:
            return Reply(
                False, f"recall task {task_id} is {task.state.value} already",
                {"task": str(task_id), "state": task.state.value}, "task_closed",
            )  # fmt: skip
        if task_id in self.dialling:
            by = self.dialling[task_id][0]
            return Reply(
                False, f"recall task {task_id} is being dialled by {by}",
                {"task": str(task_id), "agent": by}, "task_dialling",
            )  # fmt: skip
        dialler = self.links.dialler()
        if dialler is None:
            return none_up(self.links)
        pbx, asterisk = dialler
        state, busy = await self._phone_busy(agent, asterisk)
        if busy:
            return Reply(
                False, f"recall task {task_id}: {agent.name}'s phone is {busy}",
                {"task": str(task_id), "agent": agent.name, "device": state}, "phone_cannot",
            )  # fmt: skip
        self.dialling[task_id] = (agent.name, self.clock())
        job = asyncio.create_task(self._originate(task_id, task.number, agent, asterisk))
        self._originating.add(job)
        job.add_done_callback(self._originating.discard)
        # from a PBX other than the default (its link is down): the reply names it
        on = f" (from {pbx})" if pbx != self.links.default else ""
        return Reply(
            True,
            f"recall task {task_id}: ringing {agent.name} ({agent.ext}), then "
            f"{mask_phone(task.number)}{on}",
            {"task": str(task_id), "agent": agent.name, "ext": agent.ext,
             "number": mask_phone(task.number), "pbx": pbx},
            "recall_ringing",
        )  # fmt: skip

    async def _phone_busy(self, agent: Agent, asterisk: Originator) -> tuple[str, str]:
        """The phone's DEVICE_STATE on the PBX that dials and why it cannot take the recall
        now ("" when it can): not registered, or on another call."""
        try:
            state = await device_state(asterisk, agent.state_interface)
        except AMIError as exc:
            return "UNKNOWN", f"unknown ({exc})"
        return state, PHONE_CANNOT.get(state, "")

    async def _originate(
        self, task_id: int, number: str, agent: Agent, asterisk: Originator
    ) -> None:
        headers = [
            ("Channel", agent.interface),
            ("Context", OUTBOUND),
            ("Exten", number),
            ("Priority", "1"),
            # what the agent's phone shows: whom they are about to call back
            ("CallerID", f'"回拨 {number}" <{number}>'),
            ("Timeout", str(AGENT_RING_S * 1000)),
            ("Variable", f"HOTLINE_RECALL={task_id}"),
            ("Variable", f"HOTLINE_RECALL_AGENT={agent.name}"),
        ]
        started = self.clock()
        try:
            await asterisk.originate(headers, timeout=AGENT_RING_S + 10)
        except ActionFailed as exc:  # the agent's phone did not answer (or is not there)
            log.info("recall %d: %s did not answer (%s)", task_id, agent.name, exc)
            self.dialling.pop(task_id, None)
            self.finished.put_nowait(
                Finished(
                    task_id, agent.name, started, self.clock(), Outcome.AGENT_MISSED, "", "", ""
                )
            )
        except AMIError as exc:  # the link dropped: the h event may still come
            log.warning("recall %d: originate to %s: %s", task_id, agent.name, exc)

    # -- the outcome -----------------------------------------------------------------------

    def apply(self, event: Message) -> None:
        """Take the end of a recall attempt from the event stream (the h extension's
        HotlineOutbound, with its task)."""
        if event.name != "UserEvent" or event.get("UserEvent") != "HotlineOutbound":
            return
        status = event.get("Status") or ""
        task = event.get("Task") or ""
        if status == "DIALING" or not task.isdigit():
            return
        agent, started = self.dialling.pop(int(task), ("", 0))
        now = event_ms(event) or self.clock()
        outcome = (
            Outcome.FAILED if status == "NOTRUNK" else outcome_of(status, event.get("Cause") or "")
        )
        self.finished.put_nowait(
            Finished(
                int(task),
                agent,
                started or now,
                now,
                outcome,
                event.get("Cause") or "",
                event.get("Uniqueid") or "",
                event.get("File") or "",
            )
        )

    async def record(self, f: Finished) -> None:
        """Store one attempt, and hand its recording to the recorder."""
        if f.recording and f.call_id:
            self.recorder.call_ended(f.call_id, f.recording)
        try:
            task = await asyncio.to_thread(
                self.store.attempt, f.task, f.outcome, agent=f.agent, t_start=f.t_start,
                t_end=f.t_end, rules=self.rules, cause=f.cause, call_id=f.call_id,
            )  # fmt: skip
        except RecallError as exc:  # closed meanwhile (got through, done by hand)
            log.info("recall attempt not stored: %s", exc)
            return
        log.info("recall %d by %s: %s -> %s", f.task, f.agent, f.outcome.value, task.state.value)
        await self.show()

    def _board(self) -> dict[str, object]:
        now = self.clock()
        day = dt.datetime.fromtimestamp(now / 1000, CHINA)
        start = int(day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
        return board_doc(self.store.tasks(State.OPEN), self.store.tasks(since=start), now)

    async def show(self) -> None:
        """Publish the recall list's summary for the wallboard (``setting`` ``recall``)."""
        if self.publish is not None:
            doc = await asyncio.to_thread(self._board)
            self.publish.put(Change("setting", "recall", doc))

    async def sync_now(self, since: int | None = None) -> dict[str, int]:
        """Bring the list up to date with the history (the calls ended since ``since``,
        default: the last sync less a margin) and show it."""
        done = await asyncio.to_thread(
            self.store.sync, self.history, self.rules, self.clock(), since
        )
        await self.show()
        return done

    async def hold_virtually(self) -> list[int]:
        """Dial the callbacks that reached the front of their queue, each from a ready
        agent of that queue (virtual hold); the tasks dialled."""
        if self.floor is None or self.links.dialler() is None:
            return []
        ready = self.floor.ready()
        if not ready:  # every second: no database read while nobody could take a callback
            return []
        waiting = self.floor.waiting()
        tasks = await asyncio.to_thread(self.store.tasks, State.OPEN)
        dialled = []
        for task, agent in virtual_hold(tasks, waiting, ready, self.clock(), self.dialling):
            command = Command(id=f"vh-{task.id}-{self.clock()}", verb=Verb.RECALL, agent=agent,
                              actor="virtual-hold", task=str(task.id))  # fmt: skip
            reply = await self.dial(command)
            log.info("virtual hold: task %d to %s: %s", task.id, agent, reply.message)
            if reply.ok:
                dialled.append(task.id)
        return dialled

    async def serve(self, ready: asyncio.Event | None = None) -> None:
        """Store attempts as they end; sync the list with the history now and then, the
        first time once the controller is ``ready`` (its first snapshot written: the
        summary published before would be lost with the live store's old contents)."""
        # calls filled in from queue_log after a restart end before the first sync: for a
        # while, each sync reads again from before the controller was away
        before = await asyncio.to_thread(self.store.last_sync)
        since = None if before is None else max(0, before - MARGIN_MS)
        if ready is not None:
            await ready.wait()
        loop = asyncio.get_running_loop()
        deep_until = loop.time() + DEEP_S
        synced = 0.0
        while True:
            if loop.time() - synced >= SYNC_S:
                try:
                    await self.sync_now(since if loop.time() < deep_until else None)
                except db.DatabaseError as exc:  # the next round tries again
                    log.error("recall sync failed: %s", exc)
                synced = loop.time()
            try:
                finished = await asyncio.wait_for(self.finished.get(), HOLD_S)
            except TimeoutError:
                try:
                    await self.hold_virtually()
                except db.DatabaseError as exc:
                    log.error("virtual hold: %s", exc)
                continue
            await self.record(finished)
