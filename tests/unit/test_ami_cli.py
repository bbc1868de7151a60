"""`hotline ami dump` on real captures from our Asterisk (tests/fixtures/ami/*.raw)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ami"


def dump(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", "ami", "dump", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_dump_returns_every_message_with_chinese_names_intact() -> None:
    capture = FIXTURES / "queue-calls.raw"
    out = dump(capture)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    # every message of the stream: plain frames plus the events folded into lists
    raw = capture.read_bytes()
    frames = [f for f in raw.split(b"\r\n", 1)[1].split(b"\r\n\r\n") if f.strip(b"\r\n")]
    folded = sum(len(r["events"]) + 2 for r in records if r["kind"] == "eventlist")
    plain = sum(1 for r in records if r["kind"] in ("response", "event"))
    assert plain + folded == len(frames)
    assert records[0]["kind"] == "greeting"
    text = out.stdout
    for name in ("张三丰", "欧阳娜娜", "王芳", "李娜", "午饭", "回来了"):
        assert name in text
    assert raw.count("张三丰".encode()) == text.count("张三丰")
    pauses = [
        r["headers"] for r in records if r.get("headers", {}).get("Event") == "QueueMemberPause"
    ]
    assert [(p["MemberName"], p["Paused"], p["PausedReason"]) for p in pauses] == [
        ("李娜", "1", "午饭"),
        ("李娜", "0", "回来了"),
    ]


def test_dump_keeps_command_output_lines() -> None:
    out = dump(FIXTURES / "command-output.raw")
    assert out.returncode == 0, out.stderr
    outputs = [
        r["headers"]["Output"]
        for r in map(json.loads, out.stdout.splitlines())
        if isinstance(r.get("headers", {}).get("Output"), list)
    ]
    assert any(any(line.startswith("queue show") for line in lines) for lines in outputs)


def test_a_corrupt_capture_exits_non_zero_with_the_byte_offset(tmp_path: Path) -> None:
    good = (FIXTURES / "command-output.raw").read_bytes()
    bad = tmp_path / "bad.raw"
    # a frame that is neither Response nor Event, after the good traffic
    bad.write_bytes(good + b"Garbage: yes\r\n\r\n")
    out = dump(bad)
    assert out.returncode == 1
    assert f"protocol error at byte {len(good)}" in out.stderr
    assert len(out.stdout.splitlines()) > 3  # what came before is still printed


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    out = dump(tmp_path / "nope.raw")
    assert out.returncode == 1
    assert "cannot read" in out.stderr
