"""Signed webhooks for work orders' state changes (docs/orders.md, "Webhooks").

    hooks = Webhooks(url, secret)
    task = asyncio.create_task(hooks.follow(store))   # the web's lifespan does this
    await hooks.drain()                                # tests and shutdown: wait for them

The follower reads the orders' journal (:meth:`~hotline.stores.orders.OrderStore.since`)
every ``interval`` seconds, from its head when the web started, so a step taken anywhere
(the pages, the API, ``hotline orders``) is sent. Each is POSTed as JSON (the entry, and the
order as it stood after it, numbers masked), one after the other in journal order, signed
(:mod:`hotline.web.signing`). A delivery that fails (no answer, not 2xx) is retried
``retries`` times with a doubling pause; what finally failed is kept in ``failed`` and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from hotline.casework import views
from hotline.orders.machine import replay
from hotline.orders.model import Entry, Order
from hotline.stores.dialect import DatabaseError
from hotline.stores.orders import OrderStore
from hotline.web.signing import sign

log = logging.getLogger(__name__)


@dataclass
class Webhooks:
    url: str
    secret: str
    retries: int = 3
    pause: float = 0.5  # s before the first retry; doubled each time
    timeout: float = 5.0
    interval: float = 1.0  # s between reads of the journal
    failed: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    cursor: int | None = None  # the last journal row sent on (None: not following yet)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _last: asyncio.Task[None] | None = None

    async def follow(self, store: OrderStore) -> None:
        """Send on every journal row after the head as it is now, until cancelled."""
        if self.cursor is None:
            head = await asyncio.to_thread(store.head)
            self.cursor = head[0] if head else 0
        while True:
            await self.poll(store)
            await asyncio.sleep(self.interval)

    async def poll(self, store: OrderStore) -> None:
        """Queue the journal rows after the cursor (a database error: tried again later)."""
        assert self.cursor is not None
        try:
            rows = await asyncio.to_thread(store.since, self.cursor)
            for row_id, n, entry in rows:
                timeline = await asyncio.to_thread(store.timeline, entry.order)
                self.changed(entry, replay(timeline[:n]))
                self.cursor = row_id
        except DatabaseError as exc:
            log.warning("the orders' journal cannot be read for the webhooks: %s", exc)

    def changed(self, entry: Entry, order: Order) -> None:
        """Queue the notice that ORDER changed by ENTRY."""
        doc = {"event": "order.changed", "action": entry.action.value, "user": entry.user,
               "t": entry.t, "entry": views.entry_doc(entry),
               "order": views.order_doc(order)}  # fmt: skip
        body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        task = asyncio.get_running_loop().create_task(self._after(self._last, body))
        self._last = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after(self, previous: asyncio.Task[None] | None, body: bytes) -> None:
        """Deliver BODY once the one before it is done: the platform gets them in order."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await self.deliver(body)

    def _post(self, body: bytes) -> int:
        headers = {"Content-Type": "application/json",
                   **sign(self.secret, body, t=int(time.time()))}  # fmt: skip
        request = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    async def deliver(self, body: bytes) -> None:
        """POST BODY, signed afresh at each try, until a 2xx or the retries are spent."""
        pause, why = self.pause, ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(pause)
                pause *= 2
            try:
                status = await asyncio.to_thread(self._post, body)
            except OSError as exc:
                why = str(exc)
                continue
            if 200 <= status < 300:
                self.sent += 1
                return
            why = f"HTTP {status}"
        log.warning("webhook to %s failed after %d tries: %s", self.url, self.retries + 1, why)
        self.failed.append({"body": body.decode(), "why": why})

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
