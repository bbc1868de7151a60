"""Synthetic queue_logs and journals for the watchdog tests.

:class:`QueueLog` writes lines the way Asterisk 22's app_queue does (docs/platform.md):
``epoch|callid|queue|agent|EVENT|data...``, PAUSEALL before the per-queue PAUSE lines,
RINGNOANSWER with the ring time in ms, CONNECT with holdtime|member uniqueid|ringtime.
:func:`wuyi` is the seed case replayed: 王芳 sets 示忙 (``busy``) again and again for long
stretches while callers wait and give up; 李娜 takes an approved 35-minute meal break;
张伟 works.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hotline.center.config import Center, load_center
from hotline.core.localtime import CHINA
from hotline.core.records import AgentChange
from hotline.host.settings import DEFAULT_CENTER

CENTER_TEXT = (DEFAULT_CENTER).read_text(encoding="utf-8")
CENTER: Center = load_center(CENTER_TEXT)
DAY = dt.date(2026, 11, 23)
T0 = int(dt.datetime.combine(DAY, dt.time(0), tzinfo=CHINA).timestamp())
"""Local midnight of DAY (epoch seconds); team-a's day shift is 08:00-16:00."""


def at(hms: str, day: int = 0) -> int:
    """Epoch seconds of a local time of DAY (+ ``day`` days): at("09:00:10")."""
    h, m, s = (int(x) for x in (hms + ":00")[:8].split(":"))
    return T0 + day * 86_400 + h * 3600 + m * 60 + s


def ms(hms: str, day: int = 0) -> int:
    return at(hms, day) * 1000


def change(hms: str, agent: str, kind: str, queue: str = "", reason: str = "") -> AgentChange:
    return AgentChange(ms(hms), agent, kind, queue, reason)


@dataclass
class QueueLog:
    lines: list[tuple[int, int, str]] = field(default_factory=list)
    calls: int = 0
    queues: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def _add(self, t: int, text: str) -> None:
        self.lines.append((t, len(self.lines), f"{t}|{text}"))

    def login(self, t: int, agent: str, *queues: str, paused: bool = False) -> None:
        self.queues[agent] = queues
        for q in queues:
            self._add(t, f"MANAGER|{q}|{agent}|ADDMEMBER|{'PAUSED' if paused else ''}")

    def logout(self, t: int, agent: str) -> None:
        for q in self.queues[agent]:
            self._add(t, f"MANAGER|{q}|{agent}|REMOVEMEMBER|")

    def pause(self, t: int, agent: str, reason: str) -> None:
        self._add(t, f"NONE|NONE|{agent}|PAUSEALL|{reason}")
        for q in self.queues[agent]:
            self._add(t, f"NONE|{q}|{agent}|PAUSE|{reason}")

    def unpause(self, t: int, agent: str, reason: str = "") -> None:
        self._add(t, f"NONE|NONE|{agent}|UNPAUSEALL|{reason}")
        for q in self.queues[agent]:
            self._add(t, f"NONE|{q}|{agent}|UNPAUSE|{reason}")

    def call(
        self,
        t: int,
        queue: str = "intake",
        *,
        wait: int,
        agent: str | None = None,
        talk: int = 120,
        ended_by: str = "caller",
        no_answer: tuple[tuple[str, int], ...] = (),
    ) -> str:
        """A caller entering at ``t``: answered by ``agent`` after ``wait`` s, or abandoning
        then; ``no_answer``: (agent, seconds after entry) ring-no-answers of 15 s."""
        self.calls += 1
        cid = f"{T0}.{self.calls}"
        self._add(t, f"{cid}|{queue}|NONE|ENTERQUEUE||1380000{self.calls:04d}|1")
        for who, after in no_answer:
            self._add(t + after, f"{cid}|{queue}|{who}|RINGNOANSWER|15000")
        if agent is None:
            self._add(t + wait, f"{cid}|{queue}|NONE|ABANDON|1|1|{wait}")
        else:
            self._add(t + wait, f"{cid}|{queue}|{agent}|CONNECT|{wait}|{cid}9|1")
            event = "COMPLETEAGENT" if ended_by == "agent" else "COMPLETECALLER"
            self._add(t + wait + talk, f"{cid}|{queue}|{agent}|{event}|{wait}|{talk}|1")
        return cid

    def raw(self, t: int, text: str) -> None:
        self.lines.append((t, len(self.lines), text))

    def text(self) -> str:
        return "".join(line + "\n" for _, _, line in sorted(self.lines))


@dataclass(frozen=True)
class Wuyi:
    text: str
    busy: tuple[tuple[int, int], ...]  # 王芳's 示忙 episodes (ms), flips folded in
    calls_in: dict[str, tuple[str, int, int | None]]  # call -> (queue, t_q, wait or None)


def wuyi(garbage: bool = True) -> Wuyi:
    """The seed case on 2026-11-23, team-a's day shift."""
    log = QueueLog()
    log.login(at("08:00:05"), "王芳", "intake", "labour")
    log.login(at("08:00:05"), "李娜", "intake", "property")
    log.login(at("08:00:05"), "张伟", "intake", "environment")
    waits: dict[str, tuple[str, int, int | None]] = {}

    def call(hms: str, **kw: object) -> None:
        cid = log.call(at(hms), **kw)  # type: ignore[arg-type]
        wait = kw["wait"]
        assert isinstance(wait, int)
        waits[cid] = ("intake", ms(hms), wait if kw.get("agent") else None)

    call("08:19:55", wait=5, agent="王芳", talk=240)
    # rings 王芳 15 s unanswered, then 张伟 takes it; 王芳 sets 示忙 25 s after the ring
    call("08:59:30", wait=35, agent="张伟", talk=150, no_answer=(("王芳", 15),))
    log.pause(at("09:00:10"), "王芳", "busy")
    log.unpause(at("09:35:00"), "王芳")
    log.pause(at("09:35:40"), "王芳", "busy")  # flip 1: back in 40 s
    log.unpause(at("09:50:00"), "王芳")
    log.pause(at("09:50:30"), "王芳", "busy")  # flip 2
    log.unpause(at("10:05:00"), "王芳")
    # callers while 王芳 is away: every 3 min; one in three gives up after a minute,
    # the others wait long for 张伟 or 李娜
    for i in range(21):
        t = at("09:02:00") + 180 * i
        hms = dt.datetime.fromtimestamp(t, CHINA).strftime("%H:%M:%S")
        if i % 3 == 0:
            call(hms, wait=60)
        else:
            call(hms, wait=25 + 5 * (i % 4), agent="张伟" if i % 2 else "李娜", talk=150)
    call("10:06:00", wait=10, agent="王芳", talk=360, ended_by="agent")
    log.pause(at("10:30:00"), "王芳", "busy")
    for i in range(10):
        t = at("10:31:00") + 240 * i
        hms = dt.datetime.fromtimestamp(t, CHINA).strftime("%H:%M:%S")
        if i % 2 == 0:
            call(hms, wait=90)
        else:
            call(hms, wait=40, agent="张伟", talk=150)
    log.unpause(at("11:10:00"), "王芳")
    # 李娜's approved meal break, within its 40 min; 张伟 alone meanwhile
    log.pause(at("11:30:00"), "李娜", "meal")
    call("11:40:00", wait=12, agent="张伟", talk=200)
    call("11:50:00", wait=14, agent="张伟", talk=200)
    log.unpause(at("12:05:00"), "李娜")
    call("12:30:00", wait=8, agent="李娜", talk=300)
    # 王芳 hangs up on three callers within seconds
    for hms in ("13:00:00", "13:10:00", "13:20:00"):
        call(hms, wait=3, agent="王芳", talk=5, ended_by="agent")
    call("14:00:00", wait=20, agent="张伟", talk=120, no_answer=(("王芳", 15),))
    call("14:05:00", wait=20, agent="李娜", talk=120, no_answer=(("王芳", 15),))
    log.pause(at("14:30:00"), "王芳", "")  # 示忙 without a reason code
    log.unpause(at("14:33:00"), "王芳")
    log.pause(at("15:40:00"), "王芳", "busy")  # 20 min before the 16:00 shift change
    log.unpause(at("15:45:00"), "王芳")
    for agent in ("王芳", "李娜", "张伟"):
        log.logout(at("16:00:00"), agent)
    if garbage:
        log.raw(at("12:00:00"), "this is not a queue_log line")
        log.raw(at("12:00:01"), f"{at('12:00:01')}|NONE|intake|NONE")  # 4 fields
        log.raw(at("12:00:02"), f"{at('12:00:02')}|NONE|intake|NONE|FROBNICATE|x")  # unknown
        log.raw(at("12:00:03"), f"{at('12:00:03')}|NONE|intake|\x00\x00|PAUSE|x")  # NULs
    busy = (
        (ms("09:00:10"), ms("10:05:00")),
        (ms("10:30:00"), ms("11:10:00")),
        (ms("14:30:00"), ms("14:33:00")),
        (ms("15:40:00"), ms("15:45:00")),
    )
    return Wuyi(log.text(), busy, waits)
