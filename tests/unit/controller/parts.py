"""What the controller's component tests build on: the real centre, a real history on a
temporary SQLite file, an outbox writing to it and to the in-memory live store, and an
alert raised the way the watchdog raises it."""

from __future__ import annotations

from hotline.center.config import Center, load_center
from hotline.controller.outbox import Outbox
from hotline.core.localtime import CHINA
from hotline.core.records import AgentChange
from hotline.host.settings import DEFAULT_CENTER
from hotline.stores.history import History
from hotline.stores.live import MemoryLive
from hotline.watchdog import Alert, Watchdog
from tests.unit.watchdog.scenes import ms

CENTER: Center = load_center((DEFAULT_CENTER).read_text(encoding="utf-8"))


class Clock:
    """A clock the test moves (milliseconds)."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def outbox_on(history: History, live: MemoryLive) -> tuple[Outbox, list[set[str]]]:
    """An outbox on ``history`` and ``live``; the list collects the remembered members."""
    remembered: list[set[str]] = []

    async def snapshot() -> None:
        await live.replace(calls={}, agents={}, queues={})

    async def remember(agents: set[str]) -> None:
        remembered.append(set(agents))

    return Outbox(history, live, snapshot=snapshot, remember=remember), remembered


def watchdog() -> Watchdog:
    return Watchdog(CENTER.watchdog, CENTER, tz=CHINA, keep_alerts=False)


def long_pause(dog: Watchdog, agent: str = "王芳") -> Alert:
    """王芳 logs in at 10:00, pauses (示忙) at 10:01; at 10:11 the alert is raised."""
    dog.feed(AgentChange(ms("10:00"), agent, "login", "intake"))
    dog.feed(AgentChange(ms("10:01"), agent, "pause", "intake", "busy"))
    [alert] = dog.tick(ms("10:11"))
    return alert
