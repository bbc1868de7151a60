"""Signed webhooks for work orders' state changes (docs/orders.md, "Webhooks").

    hooks = Webhooks(url, secret)
    hooks.changed(order, action="sign", user="lvhua01")   # queued, sent in the background
    await hooks.drain()                                    # tests and shutdown: wait for them

Each change is POSTed as JSON (the order as the API shows it, the action and who took
it), one after the other in the order they were taken, signed (:mod:`hotline.web.signing`).
A delivery that fails (no answer, not 2xx) is retried ``retries`` times with a doubling
pause; what finally failed is kept in ``failed`` and logged.
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
from hotline.orders.model import Order
from hotline.web.signing import sign

log = logging.getLogger(__name__)


@dataclass
class Webhooks:
    url: str
    secret: str
    retries: int = 3
    pause: float = 0.5  # s before the first retry; doubled each time
    timeout: float = 5.0
    failed: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _last: asyncio.Task[None] | None = None

    async def _after(self, previous: asyncio.Task[None] | None, body: bytes) -> None:
        """Deliver BODY once the one before it is done: the platform gets them in order."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await self.deliver(body)

    def changed(self, order: Order, *, action: str, user: str, t: int) -> None:
        """Queue the notice that ORDER changed by ACTION (taken by USER at T ms)."""
        doc = {"event": "order.changed", "action": action, "user": user, "t": t,
               "order": views.order_doc(order)}  # fmt: skip
        body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        task = asyncio.get_running_loop().create_task(self._after(self._last, body))
        self._last = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
