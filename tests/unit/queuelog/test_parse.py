"""queue_log lines → entries or problems: the exact lines seen on Asterisk 22, and garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.queuelog import (
    Event,
    ParseProblem,
    ProblemKind,
    QueueLogEntry,
    parse_line,
    parse_lines,
)

from .fixtures import QUEUE_LOG, entries, parsed


def test_every_field_notes_line_parses() -> None:
    got = entries(QUEUE_LOG / "field_notes.queue_log")
    assert len(got) == 13
    assert [e.lineno for e in got] == list(range(1, 14))
    assert got[0] == QueueLogEntry(1795463378, "NONE", "NONE", "NONE", "QUEUESTART", ("",))
    enter = got[4]
    assert (enter.t, enter.callid, enter.queue, enter.agent, enter.event) == (
        1795463384,
        "1795463379.1",
        "property",
        "NONE",
        "ENTERQUEUE",
    )
    assert enter.data == ("", "13800000001", "1")
    assert got[2].data == ("lunch break",)
    assert got[8].data == ("3000",)


def test_the_synthetic_day_has_every_event_and_parses_whole() -> None:
    got = entries(QUEUE_LOG / "synthetic_day.queue_log")
    assert {e.event for e in got} >= {event.value for event in Event} - {"FULL"}


def test_an_entry_is_its_content_not_its_line_number() -> None:
    line = "1795463391|1795463379.1|property|agentspeak|COMPLETEAGENT|0|7|1\n"
    first, again = parse_line(line, 7), parse_line(line, 70)
    assert isinstance(first, QueueLogEntry)
    assert isinstance(again, QueueLogEntry)
    assert first == again
    assert hash(first) == hash(again)
    assert (first.lineno, again.lineno) == (7, 70)


def test_data_helpers() -> None:
    e = parse_line("1795463384|1.1|q|NONE|ENTERQUEUE||13800000001|1|张三")
    assert isinstance(e, QueueLogEntry)
    assert e.at(1) == "13800000001"
    assert e.at(3) == "张三"
    assert e.at(9) == ""
    assert e.at(-1) == ""
    assert e.int_at(2) == 1
    assert e.int_at(0) is None  # empty url
    assert e.int_at(3) is None
    assert e.int_at(-3) is None


def test_a_reason_with_a_pipe_in_it_spills_and_is_joined_back() -> None:
    e = parse_line("1795536000|NONE|intake|张伟|PAUSE|会议|临时")
    assert isinstance(e, QueueLogEntry)
    assert e.data == ("会议", "临时")
    assert e.text() == "会议|临时"


def test_short_and_long_forms() -> None:
    # no data at all (not written by Asterisk, but harmless), the 8-field form, and the
    # longest app_queue writes: ATTENDEDTRANSFER of kind LINK has six data fields
    bare = parse_line("1795536000|NONE|NONE|NONE|QUEUESTART")
    assert isinstance(bare, QueueLogEntry)
    assert bare.data == ()
    line = "1795536900|1.17|intake|张伟|ATTENDEDTRANSFER|LINK|Local/a;1|Local/a;2|1|99|1"
    link = parse_line(line)
    assert isinstance(link, QueueLogEntry)
    assert len(link.data) == 6


def test_fields_are_kept_as_written() -> None:
    e = parse_line("1795536000|NONE|labour| 王芳 |PAUSE| 午饭 \r\n")
    assert isinstance(e, QueueLogEntry)
    assert (e.agent, e.data) == (" 王芳 ", (" 午饭 ",))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", ProblemKind.EMPTY),
        ("   \n", ProblemKind.EMPTY),
        ("1795463408|1.9|sales|NONE\n", ProblemKind.FIELDS),
        ("garbage without any pipe\n", ProblemKind.FIELDS),
        ("17954634O8|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.EPOCH),  # letter O
        ("-1795463408|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.EPOCH),
        ("179546|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.EPOCH),  # spliced by a crash
        ("１７９５４６３４０８|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.EPOCH),  # fullwidth
        ("|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.EPOCH),
        ("1795463408|1.9|sales|NONE||1|1|2\n", ProblemKind.EVENT),
        ("1795463408|1.9|sales|NONE|AB ANDON|1|1|2\n", ProblemKind.EVENT),
        ("\x00\x00\x001795463408|1.9|sales|NONE|ABANDON|1|1|2\n", ProblemKind.BINARY),
    ],
)
def test_garbage_is_a_problem_never_an_error(line: str, reason: ProblemKind) -> None:
    problem = parse_line(line, 42)
    assert isinstance(problem, ParseProblem)
    assert (problem.lineno, problem.reason) == (42, reason)


def test_binary_junk_decoded_with_replacement_is_a_problem() -> None:
    junk = bytes(range(256)) + b"|1|2|3|4|5|6\n"
    problem = parse_line(junk.decode("utf-8", errors="replace"), 3)
    assert isinstance(problem, ParseProblem)
    assert problem.reason is ProblemKind.BINARY
    assert len(problem.text) <= 121  # shown shortened


def test_a_replacement_character_inside_a_reason_is_kept() -> None:
    # a GBK reason read as UTF-8: the line is whole, the text is what it is
    raw = "1795536000|NONE|labour|王芳|PAUSE|".encode() + "午饭".encode("gbk") + b"\n"
    e = parse_line(raw.decode("utf-8", errors="replace"))
    assert isinstance(e, QueueLogEntry)
    assert "\ufffd" in e.text()


def test_a_last_line_cut_mid_write_is_reported_not_parsed() -> None:
    lines = [
        "1795463384|1.1|property|NONE|ENTERQUEUE||13800000001|1\n",
        "1795463391|1.1|property|agentspeak|COMPLETEAGENT|0|7",  # would parse, wrongly
    ]
    got = list(parse_lines(lines))
    assert isinstance(got[0], QueueLogEntry)
    assert isinstance(got[1], ParseProblem)
    assert (got[1].lineno, got[1].reason) == (2, ProblemKind.TRUNCATED)


def test_lines_without_terminators_are_all_whole() -> None:
    text = "1795463384|1.1|property|NONE|ENTERQUEUE||1|1\n1795463391|1.1|p|a|COMPLETEAGENT|0|7|1"
    got = list(parse_lines(text.splitlines(), start=10))
    assert [type(item) for item in got] == [QueueLogEntry, QueueLogEntry]
    assert [item.lineno for item in got] == [10, 11]
    assert isinstance(list(parse_lines(text.splitlines(), terminated=True))[1], ParseProblem)


def test_a_file_of_garbage_is_counted_line_by_line(tmp_path: Path) -> None:
    good = (QUEUE_LOG / "field_notes.queue_log").read_bytes()
    junk = (
        b"\n"  # an empty line
        + b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe|garbage\n"  # binary
        + b"1795463408|too|few\n"
        + b"17954X3408|1.9|sales|NONE|ABANDON|1|1|2\n"
        + b"1795463409|1.9|sales|NONE|ABAN"  # cut off: no newline
    )
    path = tmp_path / "queue_log"
    path.write_bytes(good + junk)
    items = parsed(path)
    problems = [item for item in items if isinstance(item, ParseProblem)]
    assert [(p.lineno, p.reason) for p in problems] == [
        (14, ProblemKind.EMPTY),
        (15, ProblemKind.BINARY),
        (16, ProblemKind.FIELDS),
        (17, ProblemKind.EPOCH),
        (18, ProblemKind.TRUNCATED),
    ]
    assert sum(isinstance(item, QueueLogEntry) for item in items) == 13


def test_an_empty_input_gives_nothing() -> None:
    assert list(parse_lines([])) == []
