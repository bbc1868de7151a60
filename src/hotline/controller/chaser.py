"""催办 and 督办 on a timer: every minute the controller chases the orders near or past
their deadline, as the centre's system actor.

:meth:`Chaser.once` is :meth:`hotline.casework.desk.Desk.chase` with ``apply=True`` at the
controller's clock: each step due (center.yaml ``orders.chase``) becomes an urge entry in
the order's journal, by :data:`SYSTEM`, and is shown on the order's timeline like every
entry. A step is taken once per spell with a department, so running it every minute (or
twice, from two controllers) adds nothing more; an order that moved on meanwhile is
chased on the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hotline.casework.desk import Desk
from hotline.orders.chase import Chase
from hotline.orders.errors import OrderError
from hotline.orders.model import Actor, Side
from hotline.stores import dialect as db

__all__ = ["EVERY_S", "SYSTEM", "Chaser"]

log = logging.getLogger(__name__)
SYSTEM = Actor("system-chase", Side.CENTRE)
"""Who chases on the timer (the urge entries' user)."""
EVERY_S = 60


class Chaser:
    def __init__(self, desk: Desk, clock: Callable[[], int], every_s: float = EVERY_S) -> None:
        self.desk = desk
        self.clock = clock
        self.every_s = every_s

    def once(self) -> list[Chase]:
        """Take every chase step due now; the steps taken."""
        chased = self.desk.chase(SYSTEM, now=self.clock(), apply=True)
        for c in chased:
            log.info("order %s: %s (%s)", c.order, c.step.name, c.department)
        return chased

    async def serve(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.once)
            except (OrderError, *db.DatabaseError) as exc:  # a race or the file: next tick
                log.warning("chasing orders failed (%s): again in %.0f s", exc, self.every_s)
            await asyncio.sleep(self.every_s)
