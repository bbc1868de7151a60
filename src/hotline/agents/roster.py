"""Who works at the centre: pause reasons, teams and their shifts, agents (pure values).

The centre file (:mod:`hotline.center.config`) is read into these; the watchdog and the
commands take a :class:`Roster` and never the file's other sections.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PauseReason:
    code: str
    label: str
    is_break: bool = False
    max_minutes: int | None = None
    supervisor_only: bool = False


@dataclass(frozen=True, slots=True)
class Shift:
    name: str
    start: dt.time
    end: dt.time  # 24:00 is written as 00:00 of the next day: end <= start means "to midnight"


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    label: str
    supervisor: str
    shifts: tuple[Shift, ...]


@dataclass(frozen=True, slots=True)
class Agent:
    ext: str
    name: str  # the queue MemberName
    team: str
    queues: tuple[str, ...]
    interface: str  # PJSIP/<ext> unless set

    @property
    def state_interface(self) -> str:
        return self.interface


@dataclass(frozen=True, slots=True)
class Roster:
    reasons: Mapping[str, PauseReason]
    teams: Mapping[str, Team]
    agents: Mapping[str, Agent]

    def reason(self, code: str) -> PauseReason:
        return self.reasons[code]

    def agent(self, key: str) -> Agent | None:
        """An agent by extension or by name."""
        return self.agents.get(key) or next(
            (a for a in self.agents.values() if a.name == key), None
        )
