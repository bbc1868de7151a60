"""The queue_log fixtures, read the way an importer reads a file."""

from __future__ import annotations

from pathlib import Path

from hotline.queuelog import ParseProblem, QueueLogEntry, parse_lines

TESTS = Path(__file__).resolve().parents[2]
QUEUE_LOG = TESTS / "fixtures" / "queue_log"
CAPTURES = TESTS / "fixtures" / "ami" / "scenarios"

T0 = 1795536000
"""The first second of synthetic_day.queue_log; its call ids are f"{T0}.n"."""


def parsed(path: Path) -> list[QueueLogEntry | ParseProblem]:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return list(parse_lines(lines))


def entries(path: Path) -> list[QueueLogEntry]:
    items = parsed(path)
    problems = [item for item in items if isinstance(item, ParseProblem)]
    assert problems == []
    return [item for item in items if isinstance(item, QueueLogEntry)]


def ms(offset: int) -> int:
    """The time T0 + offset seconds, in ms."""
    return (T0 + offset) * 1000
