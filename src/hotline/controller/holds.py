"""The controller's cross-PBX holds: the pure rule (:mod:`hotline.agents.holds`) and the
``QueuePause`` actions it calls for, sent to each PBX in order.

    keeper = HoldKeeper(Holds(names), clients)   # clients: PBX name -> AMIClient
    keeper.feed(pbx, event, now)                 # under the controller's lock
    await keeper.serve()                         # a loop: sends what feed/tick/links decided

A hold is a ``QueuePause`` of the member's interface in every queue of the other PBX with
the reason ``hotline:held:<pbx>``; a lift unpauses it. An action a PBX refuses (the member
is not there) is logged, not retried: the next event settles again. Actions for a PBX
whose link is down are dropped (its holds went with it, :meth:`Holds.link_down`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Mapping

from hotline.agents.holds import Hold, HoldEffect, Holds
from hotline.ami.client import AMIClient
from hotline.ami.errors import AMIError
from hotline.ami.message import Message

log = logging.getLogger(__name__)


class HoldKeeper:
    """Feeds every PBX's events to :class:`Holds` and sends the pauses it decides."""

    def __init__(self, holds: Holds, clients: Mapping[str, AMIClient]) -> None:
        self.holds = holds
        self.clients = dict(clients)
        self.sent = 0
        self.failed = 0
        self.decided: deque[HoldEffect] = deque(maxlen=1000)
        """The last holds and lifts decided, newest last (for tests and the logs)."""
        # one queue per PBX: a PBX slow to answer never delays the holds on the others
        self._todo: dict[str, asyncio.Queue[HoldEffect]] = {n: asyncio.Queue() for n in clients}
        self._up: dict[str, bool] = {}

    def is_hold_event(self, pbx: str, event: Message) -> bool:
        return self.holds.is_hold_event(pbx, event)

    def feed(self, pbx: str, event: Message, now: int) -> None:
        self._queue(self.holds.apply(pbx, event, now))

    def tick(self, now: int) -> None:
        """Wrap-ups that ended; PBXs whose AMI link went down (their holds are lifted)."""
        for name, client in self.clients.items():
            if self._up.get(name) and not client.connected:
                log.warning("PBX %s: AMI link down, lifting its holds", name)
                self._up[name] = False
                self._queue(self.holds.link_down(name, now))
        self._queue(self.holds.tick(now))

    def link_up(self, pbx: str, members: Iterable[Message], now: int) -> None:
        """At a PBX's resync: its members as QueueStatus lists them."""
        self._up[pbx] = True
        self._queue(self.holds.link_up(pbx, members, now))

    def _queue(self, effects: list[HoldEffect]) -> None:
        for effect in effects:
            self.decided.append(effect)
            self._todo[effect.pbx].put_nowait(effect)

    async def serve(self) -> None:
        """Send each PBX's holds and lifts in order, every PBX on its own."""
        senders = [asyncio.create_task(self._send(name)) for name in self.clients]
        try:
            await asyncio.gather(*senders)
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)

    async def _send(self, pbx: str) -> None:
        todo, client = self._todo[pbx], self.clients[pbx]
        while True:
            effect = await todo.get()
            if not client.connected:
                continue
            headers = {"Interface": effect.interface}
            if isinstance(effect, Hold):
                headers |= {"Paused": "true", "Reason": effect.reason}
            else:
                headers["Paused"] = "false"
            try:
                await client.action("QueuePause", headers, timeout=5.0)
                self.sent += 1
                log.info("%s %s on %s (by %s)", type(effect).__name__.lower(),
                         effect.interface, effect.pbx, effect.by)  # fmt: skip
            except (AMIError, OSError, TimeoutError) as exc:
                self.failed += 1
                log.warning("QueuePause %s on %s failed: %s", effect.interface, effect.pbx, exc)
