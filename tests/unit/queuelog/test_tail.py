"""Following a real file: appends, a half-written line, rotation, truncation, no file yet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.queuelog import ParseProblem, QueueLogEntry, parse_lines
from hotline.queuelog.tail import QueueLogTail, Reset

from .fixtures import QUEUE_LOG

A = "1795463384|1.1|property|NONE|ENTERQUEUE||13800000001|1\n"
B = "1795463384|1.1|property|王芳|CONNECT|0|1.2|0\n"
C = "1795463391|1.1|property|王芳|COMPLETEAGENT|0|7|1\n"
D = "1795463400|NONE|property|王芳|PAUSE|午饭\n"


def append(path: Path, text: str | bytes) -> None:
    with path.open("ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "queue_log"


@pytest.fixture
def tail(log: Path) -> Iterator[QueueLogTail]:
    with QueueLogTail(log) as t:
        yield t


def test_a_missing_file_is_no_lines_and_no_error(log: Path, tail: QueueLogTail) -> None:
    assert tail.read_new() == ([], 0)
    assert tail.missing
    append(log, A)
    assert tail.read_new() == ([A], len(A.encode()))
    assert not tail.missing
    assert tail.reset is None


def test_appends_come_in_order_and_once(log: Path, tail: QueueLogTail) -> None:
    append(log, A + B)
    assert tail.read_new()[0] == [A, B]
    assert tail.read_new() == ([], len((A + B).encode()))
    append(log, C)
    lines, offset = tail.read_new()
    assert lines == [C]
    assert offset == log.stat().st_size
    assert tail.lineno == 3  # C is the third line of the file


def test_a_partial_line_waits_for_its_end(log: Path, tail: QueueLogTail) -> None:
    raw = D.encode()
    half = len(raw) - 4  # inside 午饭: a UTF-8 sequence is cut too
    append(log, A.encode() + raw[:half])
    assert tail.read_new() == ([A], len(A.encode()))
    assert tail.read_new() == ([], len(A.encode()))
    append(log, raw[half:])
    assert tail.read_new() == ([D], len(A.encode()) + len(raw))


def test_the_offset_resumes_in_a_new_tail(log: Path) -> None:
    append(log, A + B)
    with QueueLogTail(log) as first:
        _, offset = first.read_new()
        identity = first.identity
    append(log, C)
    with QueueLogTail(log, offset, identity=identity) as second:
        assert second.read_new() == ([C], log.stat().st_size)
        assert second.reset is None


def test_rotation_reads_the_rest_of_the_old_file_then_the_new(
    log: Path, tail: QueueLogTail
) -> None:
    append(log, A)
    assert tail.read_new()[0] == [A]
    append(log, B)  # written after our last read, just before the rotation
    log.rename(log.with_name("queue_log.0"))  # `logger rotate`
    assert tail.read_new()[0] == [B]  # from the old file, still open
    assert tail.read_new()[0] == []
    assert tail.missing  # rotated away, new file not created yet
    append(log, C)  # Asterisk reopened: a new file
    lines, offset = tail.read_new()
    assert (lines, offset) == ([C], len(C.encode()))
    assert tail.reset is Reset.ROTATED
    assert tail.resets == 1
    assert tail.lineno == 1


def test_rotation_found_by_a_new_tail_with_a_saved_identity(log: Path) -> None:
    append(log, A + B)
    with QueueLogTail(log) as first:
        _, offset = first.read_new()
        identity = first.identity
    log.rename(log.with_name("queue_log.0"))
    append(log, C + D)  # longer than the old offset: only the identity tells
    with QueueLogTail(log, offset, identity=identity) as second:
        assert second.read_new()[0] == [C, D]
        assert second.reset is Reset.ROTATED


def test_truncation_starts_again_from_zero(log: Path, tail: QueueLogTail) -> None:
    append(log, A + B + C)
    tail.read_new()
    os.truncate(log, 0)  # logrotate copytruncate
    append(log, D)
    assert tail.read_new() == ([D], len(D.encode()))
    assert tail.reset is Reset.TRUNCATED


def test_a_file_rewritten_past_our_offset_is_seen(log: Path, tail: QueueLogTail) -> None:
    append(log, A)
    tail.read_new()
    # truncated and refilled before we looked: longer than our offset, but our offset is
    # no longer at a line start
    with log.open("r+b") as f:
        f.truncate(0)
        f.write((D + D).encode())
    lines, _ = tail.read_new()
    assert lines == [D, D]
    assert tail.reset is Reset.TRUNCATED


def test_binary_junk_reaches_the_parser_as_problems(log: Path, tail: QueueLogTail) -> None:
    append(log, A.encode() + b"\x00\x00\xff\xfe\x01junk\n" + C.encode())
    lines, _ = tail.read_new()
    items = list(parse_lines(lines, start=tail.lineno))
    assert [type(item) for item in items] == [QueueLogEntry, ParseProblem, QueueLogEntry]


def test_reads_are_bounded(log: Path) -> None:
    text = (QUEUE_LOG / "synthetic_day.queue_log").read_text()
    append(log, text)
    got: list[str] = []
    with QueueLogTail(log, max_bytes=300) as tail:
        while True:
            lines, _ = tail.read_new()
            if not lines:
                break
            got += lines
    assert "".join(got) == text


def test_a_line_longer_than_a_read_is_cut_into_junk(log: Path) -> None:
    append(log, "x" * 150 + "\n" + A + B)
    with QueueLogTail(log, max_bytes=60) as tail:
        got: list[str] = []
        while lines := tail.read_new()[0]:
            assert tail.reset is None
            got += lines
    assert got == ["x" * 60, "x" * 60, "x" * 30 + "\n", A, B]
    assert [type(item) for item in parse_lines(got)][-2:] == [QueueLogEntry, QueueLogEntry]
