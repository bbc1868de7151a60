"""The IVR flow as values: what `flows/*.yaml` says once it has been validated.

Built by :func:`hotline.ivr.loader.load_flow`; read by the renderers (Asterisk, TwiML) and
by :func:`routes`, which lists every way a caller can go through the menus.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum

from hotline.core.localtime import TZ_NAME

LANGUAGES = ("zh", "en")
DIGITS = "0123456789*#"


class WhenEmpty(Enum):
    """What a queue does with a caller when no agent is logged in (Asterisk: JOINEMPTY)."""

    OVERFLOW = "overflow"  # go to the overflow queue
    CALLBACK = "callback"  # register a callback and say goodbye
    OPERATOR = "operator"  # go to the operator queue


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    label: str
    servicelevel: int = 15
    timeout: int = 600
    overflow_after: int | None = None
    overflow_to: str | None = None
    when_empty: WhenEmpty = WhenEmpty.OPERATOR


@dataclass(frozen=True, slots=True)
class Option:
    """What a digit does: switch language and/or go to a menu, or queue for a human."""

    digit: str
    goto: str | None = None
    queue: str | None = None
    language: str | None = None
    tag: str = ""


@dataclass(frozen=True, slots=True)
class Menu:
    name: str
    prompt: str
    options: tuple[Option, ...]
    retries: int = 2
    timeout: int = 5
    no_input: Option | None = None
    """Taken at once when the caller presses nothing (instead of replaying the menu)."""

    def option(self, digit: str) -> Option | None:
        return next((o for o in self.options if o.digit == digit), None)


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours for lines that are not 7x24, in the line's timezone."""

    always: bool = True
    timezone: str = TZ_NAME
    weekly: tuple[tuple[int, dt.time, dt.time], ...] = ()
    """(ISO weekday 1=Mon..7=Sun, from, to) spans when the line is open."""
    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()
    """Make-up working days (调休): open on these dates whatever the weekday."""
    closed_prompt: str | None = None

    def is_open(self, when: dt.datetime) -> bool:
        """Whether the line is open at ``when`` (an aware datetime in the line's timezone)."""
        if self.always:
            return True
        day = when.date()
        if day in self.holidays:
            return False
        weekday = when.isoweekday()
        spans = self.weekly
        if day in self.workdays:  # a make-up working day keeps Monday's hours
            spans = tuple((weekday, start, end) for d, start, end in spans if d == 1)
        clock = when.time()
        return any(d == weekday and start <= clock < end for d, start, end in spans)


@dataclass(frozen=True, slots=True)
class Callback:
    offer_when_waiting: int
    digit: str
    prompt: str
    confirm: str


@dataclass(frozen=True, slots=True)
class Survey:
    prompt: str
    thanks: str
    timeout: int = 6
    scores: str = "12345"


@dataclass(frozen=True, slots=True)
class Visit:
    """The 回访 call's questions, asked by the IVR once the citizen answers: was it
    resolved (1 yes, 2 no), then a 1-5 rating."""

    resolved: str  # prompt
    rating: str  # prompt
    thanks: str  # prompt
    timeout: int = 6


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    did: str
    operator_queue: str
    hours: Hours
    languages: tuple[str, ...]
    queues: Mapping[str, QueueSpec]
    menus: Mapping[str, Menu]
    start: str
    prompts: Mapping[str, Mapping[str, str]]
    callback: Callback | None = None
    survey: Survey | None = None
    visit: Visit | None = None
    announcements: Mapping[str, str] = field(default_factory=dict)
    """Announcement name -> prompt name; switched on at run time, no reload."""

    @property
    def default_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True, slots=True)
class Route:
    """One way through the menus: the digits pressed and where the caller ends up."""

    digits: tuple[str, ...]
    """Digits in order; "" stands for pressing nothing (a menu's no-input choice)."""
    menus: tuple[str, ...]
    queue: str
    tag: str
    language: str


def routes(flow: Flow) -> Iterator[Route]:
    """Every route from the start menu to a queue, without revisiting a menu."""

    def walk(
        menu: Menu, digits: tuple[str, ...], seen: tuple[str, ...], language: str
    ) -> Iterator[Route]:
        choices = [*flow.menus[menu.name].options]
        if menu.no_input is not None:
            choices.append(menu.no_input)
        for option in choices:
            pressed = (*digits, option.digit)
            lang = option.language or language
            if option.queue is not None:
                yield Route(pressed, (*seen, menu.name), option.queue, option.tag, lang)
            elif option.goto is not None and option.goto not in (*seen, menu.name):
                yield from walk(flow.menus[option.goto], pressed, (*seen, menu.name), lang)

    yield from walk(flow.menus[flow.start], (), (), flow.default_language)
