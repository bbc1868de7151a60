"""The controller's holds: QueuePause sent to each PBX on its own (controller.holds)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from hotline.agents.holds import Holds
from hotline.ami.client import AMIClient
from hotline.controller.holds import HoldKeeper
from tests.unit.core.events import T0, event

IFACE = "PJSIP/1001"


class Pbx:
    """An AMI link that records QueuePause (``slow``: a PBX that stopped answering)."""

    def __init__(self, *, slow: bool = False, connected: bool = True) -> None:
        self.slow = slow
        self.connected = connected
        self.sent: list[dict[str, str]] = []

    async def action(self, name: str, headers: dict[str, str], **_: Any) -> None:
        if self.slow:
            await asyncio.sleep(60)
        self.sent.append({"Action": name, **headers})


def called(chan: str) -> Any:
    return event("AgentCalled", T0, Uniqueid="c1", DestUniqueid=chan, Interface=IFACE,
                 MemberName="王芳")  # fmt: skip


def test_a_pbx_that_stopped_answering_never_delays_the_holds_on_the_others() -> None:
    async def run() -> None:
        one, two, three = Pbx(), Pbx(slow=True), Pbx()
        clients = cast("dict[str, AMIClient]", {"pbx1": one, "pbx2": two, "pbx3": three})
        keeper = HoldKeeper(Holds(clients), clients)
        serving = asyncio.create_task(keeper.serve())
        keeper.feed("pbx1", called("a1"), T0)
        await asyncio.sleep(0.05)
        assert three.sent == [{"Action": "QueuePause", "Interface": IFACE, "Paused": "true",
                               "Reason": "hotline:held:pbx1"}]  # fmt: skip
        assert two.sent == []  # still waiting for its answer
        keeper.feed("pbx1", event("AgentRingNoAnswer", T0 + 1, DestUniqueid="a1"), T0 + 1)
        await asyncio.sleep(0.05)
        assert three.sent[-1] == {"Action": "QueuePause", "Interface": IFACE, "Paused": "false"}
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    asyncio.run(run())


def test_a_link_that_drops_lifts_the_holds_it_caused() -> None:
    async def run() -> None:
        one, two = Pbx(), Pbx()
        clients = cast("dict[str, AMIClient]", {"pbx1": one, "pbx2": two})
        keeper = HoldKeeper(Holds(clients), clients)
        keeper.link_up("pbx1", [], T0)
        keeper.link_up("pbx2", [], T0)
        serving = asyncio.create_task(keeper.serve())
        keeper.feed("pbx1", called("a1"), T0)
        await asyncio.sleep(0.05)
        assert [h["Paused"] for h in two.sent] == ["true"]
        one.connected = False  # pbx1 is gone: what it rang is over
        keeper.tick(T0 + 1000)
        await asyncio.sleep(0.05)
        assert [h["Paused"] for h in two.sent] == ["true", "false"]
        assert keeper.holds.held() == []
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    asyncio.run(run())
