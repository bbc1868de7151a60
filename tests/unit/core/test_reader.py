"""The reader every configuration file is read with: every problem at once, naming its node."""

from __future__ import annotations

from enum import Enum

from hotline.core.reader import Problem, Reader


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def test_every_problem_is_kept_and_named_by_its_node() -> None:
    r = Reader()
    data = r.mapping("", {"a": 1, "b": "x", "zz": 0}, {"a", "b"})
    assert r.get("", data, "b", int) is None
    assert r.get("", data, "c", int) is None
    assert [str(p) for p in r.problems] == [
        "zz: unknown key (expected one of a, b)",  # the top level: no leading dot
        "b: expected int, got 'x'",
        "c: missing",
    ]


def test_a_section_may_be_left_out_but_not_be_something_else() -> None:
    r = Reader()
    assert r.section("s", None) == {}
    assert r.items("l", None) == []
    assert r.section("s", []) == {}
    assert r.items("l", 5) == []
    assert r.optional("o", {"n": None}, "n", int) is None
    assert [str(p) for p in r.problems] == [
        "s: expected a mapping, got list",
        "l: expected a list, got int",
    ]


def test_choices_and_numbers() -> None:
    r = Reader()
    assert r.choice("c", "blue", Colour) is Colour.BLUE
    assert r.choice("c", "green", Colour) is None
    assert r.number("n", 3, 1)
    assert r.number("n", None, 1)
    assert not r.number("n", 0, 1)
    assert not r.number("n", 9, 1, 5)
    assert [str(p) for p in r.problems] == [
        "c: 'green': use red or blue",
        "n: 0 is less than 1",
        "n: 9 is outside 1..5",
    ]


def test_a_section_hands_its_problems_to_the_file() -> None:
    seen: list[tuple[str, str]] = []
    r = Reader(lambda node, message: seen.append((node, message)))
    r.fail("retention.default_days", "missing")
    assert seen == [("retention.default_days", "missing")]
    assert r.problems == [Problem("retention.default_days", "missing")]
