"""Reading a configuration file's parsed YAML: every problem at once, each naming its node.

The flow (flows/*.yaml) and the centre file (center.yaml, with its ``watchdog:`` and
``retention:`` sections) are read the same way: a :class:`Reader` walks the parsed data,
and what is wrong becomes a :class:`Problem` (``menus.main.options.3: unknown queue
'houseing'``) instead of an exception, so one run lists them all::

    r = Reader()
    section = r.mapping("retention", raw, {"default_days", "categories"})
    days = r.get("retention", section, "default_days", int, 180)
    if r.problems: ...

A section read on behalf of a larger file takes the file's ``fail(node, message)``:
``Reader(fail)`` hands every problem on as well as keeping it (pure).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from hotline.core.validate import Kind, check, shown

__all__ = ["Fail", "Problem", "Reader"]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)
Fail = Callable[[str, str], None]
"""Where a problem goes: ``fail(node, message)``."""


@dataclass(frozen=True, slots=True)
class Problem:
    node: str
    message: str

    def __str__(self) -> str:
        return f"{self.node}: {self.message}"

    @classmethod
    def of(cls, node: str, message: str) -> Problem:
        """A problem whose text stays readable when a value is huge (a 10 kB key or value
        is named by its start, not echoed whole)."""
        node = node or "(the whole file)"  # the top level: an empty file, a list, ...
        parts = [p if len(p) <= 40 else p[:37] + "..." for p in node.split(".")]
        return cls(".".join(parts), message if len(message) <= 300 else message[:297] + "...")


class Reader:
    """Walks the parsed YAML, collecting problems instead of stopping at the first."""

    def __init__(self, fail: Fail | None = None) -> None:
        self.problems: list[Problem] = []
        self._handed_on = fail

    def fail(self, node: str, message: str) -> None:
        self.problems.append(Problem.of(node, message))
        if self._handed_on is not None:
            self._handed_on(node, message)

    def mapping(
        self, node: str, value: object, keys: Collection[str] | None = None
    ) -> dict[str, Any]:
        """``value`` as a mapping with string keys; any other key than ``keys`` (None: any
        key goes) is a problem, and so is a value that is not a mapping ({} then)."""
        if not isinstance(value, dict):
            self.fail(node, f"expected a mapping, got {type(value).__name__}")
            return {}
        if keys is not None:
            for key in value:
                if str(key) not in keys:
                    expected = ", ".join(sorted(keys))
                    where = f"{node}.{key}" if node else str(key)
                    self.fail(where, f"unknown key (expected one of {expected})")
        return {str(k): v for k, v in value.items()}

    def section(
        self, node: str, value: object, keys: Collection[str] | None = None
    ) -> dict[str, Any]:
        """A mapping the file may leave out or leave empty (None: {}, no problem)."""
        return {} if value is None else self.mapping(node, value, keys)

    def items(self, node: str, value: object) -> list[Any]:
        """A list the file may leave out (None: []); anything else is a problem, not a crash
        (fuzzing found ``queues: 5``)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(node, f"expected a list, got {type(value).__name__}")
            return []
        return value

    def get(
        self, node: str, data: Mapping[str, Any], key: str, kind: type[T], default: T | None = None
    ) -> T | None:
        """``data[key]`` if it is a ``kind``; missing is a problem unless there is a default."""
        if key not in data:
            if default is None:
                self.fail(f"{node}.{key}" if node else key, "missing")
            return default
        value = data[key]
        if kind is str and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # digits and DIDs written without quotes
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            where = f"{node}.{key}" if node else key
            self.fail(where, f"expected {kind.__name__}, got {value!r}")
            return default
        return value

    def optional(self, node: str, data: Mapping[str, Any], key: str, kind: type[T]) -> T | None:
        """``data[key]`` if it is a ``kind``; None when it is left out or null."""
        if data.get(key) is None:
            return None
        return self.get(node, data, key, kind)

    def choice(self, node: str, value: object, kind: type[E]) -> E | None:
        """The member of the enum ``kind`` whose value is ``value``; None and a problem if
        there is none."""
        for member in kind:
            if member.value == value:
                return member
        *first, last = [str(m.value) for m in kind]
        options = f"{', '.join(first)} or {last}" if first else last
        self.fail(node, f"{shown(value)}: use {options}")
        return None

    def name(self, node: str, value: str) -> None:
        self.kind(node, Kind.NAME, value)

    def kind(self, node: str, kind: Kind, value: object) -> None:
        """A problem unless ``value`` is a ``kind`` (:mod:`hotline.core.validate`)."""
        problem = check(kind, value)
        if problem is not None:
            self.fail(node, problem)

    def number(self, node: str, value: int | None, low: int, high: int | None = None) -> bool:
        """False and a problem when ``value`` is outside low..high (None: no upper bound);
        None passes (its problem, if any, was found when it was read)."""
        if value is None or (low <= value and (high is None or value <= high)):
            return True
        self.fail(node, f"{value} is outside {low}..{high}" if high is not None else
                  f"{value} is less than {low}")  # fmt: skip
        return False
