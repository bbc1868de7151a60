"""回访 calls: the IVR calls the citizen back after 办结 and records their 评价.

``hotline orders visit-call ID --as USER`` sends a VISIT command; :meth:`Visits.call`
checks the order (closed, waiting for its 回访, a number to call) and originates
``Local/<number>@hotline-outbound`` (the carrier trunk, with the centre's caller ID) whose
answering side runs the flow's ``hotline-visit`` context: resolved (1/2), then a 1-5
rating. The context reports the keys in ``UserEvent HotlineVisit``; :meth:`apply` takes it
from the event stream and :meth:`serve` records the 回访 on the order through the same
:class:`~hotline.casework.desk.Desk` the pages and the CLI use, as the centre's IVR.
A survey left half-answered records nothing: the order stays waiting for its 回访.

In a centre on several PBXs (:class:`~hotline.controller.links.Links`) the call is
originated on the default PBX while its link is up, else on the first PBX whose link is up;
the controller feeds :meth:`Visits.apply` every PBX's events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from hotline.ami.errors import AMIError
from hotline.ami.message import Message
from hotline.casework.desk import Desk
from hotline.commands.bus import Reply
from hotline.commands.plan import Command
from hotline.controller.links import Links, none_up, one_or_many
from hotline.controller.recaller import Originator
from hotline.ivr.asterisk import VISIT
from hotline.orders.errors import OrderError
from hotline.orders.model import Actor, Side, State
from hotline.orders.survey import survey_answer
from hotline.pbx.trunk import OUTBOUND
from hotline.recall.tasks import dialable
from hotline.transcripts.redact import mask_phone

log = logging.getLogger(__name__)
IVR = Actor("ivr-visit", Side.CENTRE)
"""Who records a 回访 made by the IVR (the journal's user)."""
RING_S = 45  # how long the citizen's phone rings


@dataclass(frozen=True, slots=True)
class Answered:
    order: str
    resolved: str  # the keys pressed ("" none)
    rating: str
    t: int


class Visits:
    def __init__(
        self, desk: Desk, asterisk: Originator | Links[Originator], clock: Callable[[], int]
    ) -> None:
        self.desk = desk
        self.links = one_or_many(asterisk)
        self.clock = clock
        self.answered: asyncio.Queue[Answered] = asyncio.Queue()
        self._calling: set[asyncio.Task[None]] = set()

    async def call(self, command: Command) -> Reply:
        """Start the 回访 call of the command's order (its id in ``task``)."""
        order_id = command.task
        try:
            order = await asyncio.to_thread(self.desk.store.order, order_id)
        except OrderError as exc:
            return Reply(False, str(exc))
        if order.state is not State.CLOSED:
            return Reply(False, f"order {order_id} is {order.state.value}: 回访 follows 办结")
        if not dialable(order.phone):
            return Reply(False, f"order {order_id} has no number to call back")
        dialler = self.links.dialler()
        if dialler is None:
            return none_up(self.links)
        pbx, asterisk = dialler
        job = asyncio.create_task(self._originate(order_id, order.phone, asterisk))
        self._calling.add(job)
        job.add_done_callback(self._calling.discard)
        on = f" (from {pbx})" if pbx != self.links.default else ""
        return Reply(True, f"回访 of order {order_id}: calling {mask_phone(order.phone)}{on}",
                     {"order": order_id, "pbx": pbx})  # fmt: skip

    async def _originate(self, order_id: str, number: str, asterisk: Originator) -> None:
        headers = [
            ("Channel", f"Local/{number}@{OUTBOUND}"),
            ("Context", VISIT),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", str(RING_S * 1000)),
            # __: inherited by the Local channel's other half, which dials the trunk
            ("Variable", f"__HOTLINE_VISIT={order_id}"),
        ]
        try:
            await asterisk.originate(headers, timeout=RING_S + 15)
        except AMIError as exc:  # not answered, busy, no trunk: the order keeps waiting
            log.info("回访 of order %s: not answered (%s)", order_id, exc)

    def apply(self, event: Message) -> None:
        """Take a 回访's answers from the event stream."""
        if event.name != "UserEvent" or event.get("UserEvent") != "HotlineVisit":
            return
        order = event.get("Order") or ""
        if order:
            self.answered.put_nowait(Answered(order, event.get("Resolved") or "",
                                              event.get("Rating") or "", self.clock()))  # fmt: skip

    async def record(self, a: Answered) -> None:
        answer = survey_answer(a.resolved, a.rating)
        if answer is None:
            log.info("回访 of order %s: half answered (%r, %r), nothing recorded",
                     a.order, a.resolved, a.rating)  # fmt: skip
            return
        try:
            await asyncio.to_thread(
                self.desk.visit, IVR, a.order, resolved=answer.resolved, rating=answer.rating,
                now=a.t, text=answer.text(),
            )  # fmt: skip
        except OrderError as exc:
            log.warning("回访 of order %s not recorded: %s", a.order, exc)

    async def serve(self) -> None:
        while True:
            await self.record(await self.answered.get())
