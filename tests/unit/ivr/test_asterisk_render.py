"""The Asterisk renderer: golden files, and the properties the dialplan must keep."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import hotline
from hotline.host.settings import DEFAULT_FLOW
from hotline.ivr.asterisk import (
    Paths,
    menu_context,
    queue_context,
    render_extensions,
    render_queues,
)
from hotline.ivr.loader import load_flow
from hotline.ivr.model import Flow
from tests.unit.ivr.golden_files import GOLDEN, check_golden

FLOW_FILE = DEFAULT_FLOW
TEXT = FLOW_FILE.read_text(encoding="utf-8")
OFFICE_HOURS = TEXT.replace(
    "hours: always",
    "hours: {weekly: {mon-fri: '08:30-17:30', sat: '09:00-12:00'}, "
    "holidays: [2026-10-01, 2026-10-02], workdays: [2026-10-10], closed: no-input}",
)


def flow(text: str = TEXT) -> Flow:
    return load_flow(text)


def contexts(dialplan: str) -> dict[str, list[str]]:
    """Context name -> its lines (a tiny parser of what the renderer writes)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in dialplan.splitlines():
        if m := re.fullmatch(r"\[([^\]]+)\]", line):
            current = m.group(1)
            found[current] = []
        elif current and line and not line.startswith(";"):
            found[current].append(line)
    return found


def test_the_shipped_flow_matches_its_golden_files() -> None:
    check_golden(GOLDEN / "asterisk" / "extensions-hotline.conf", render_extensions(flow(), TEXT))
    check_golden(GOLDEN / "asterisk" / "queues-hotline.conf", render_queues(flow()))


def test_office_hours_match_their_golden_file() -> None:
    text = render_extensions(flow(OFFICE_HOURS), OFFICE_HOURS)
    check_golden(GOLDEN / "asterisk" / "extensions-office-hours.conf", text)
    hours = contexts(text)["hotline-hours"]
    assert any("GotoIfTime(08:30-17:30,mon,*,*,Asia/Shanghai?open)" in line for line in hours)
    assert any("(2026-10-01|2026-10-02)$" in line and "?closed" in line for line in hours)
    assert any("(2026-10-10)$" in line and "?workday" in line for line in hours)


RENDER = """
import hashlib, sys
from hotline.ivr.asterisk import render_extensions, render_queues
from hotline.ivr.loader import load_flow
text = sys.stdin.read()
flow = load_flow(text)
print(hash("hotline"))
print(hashlib.sha256((render_extensions(flow, text) + render_queues(flow)).encode()).hexdigest())
"""


def render_elsewhere(text: str, hashseed: int) -> tuple[str, str]:
    """(hash("hotline"), sha256 of the render) in a fresh interpreter with that hash seed."""
    env = {**os.environ, "PYTHONHASHSEED": str(hashseed)}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(hotline.__file__).parents[1]), *sys.path])
    done = subprocess.run(
        [sys.executable, "-c", RENDER], input=text, capture_output=True, text=True, env=env,
        check=True, timeout=60,
    )  # fmt: skip
    seen, digest = done.stdout.split()
    return seen, digest


def test_rendering_does_not_depend_on_the_hash_seed() -> None:
    # set and dict orders of strings change with PYTHONHASHSEED: two interpreters that
    # hash differently must still write the same files, equal to this process's
    for text in (TEXT, OFFICE_HOURS):
        f = flow(text)
        here = hashlib.sha256((render_extensions(f, text) + render_queues(f)).encode())
        (hash_1, render_1), (hash_2, render_2) = (
            render_elsewhere(text, 1),
            render_elsewhere(text, 2),
        )
        assert hash_1 != hash_2  # the seeds took effect
        assert render_1 == render_2 == here.hexdigest()


def test_menu_contexts_hold_only_one_key_extensions() -> None:
    # a digit beside a longer extension (the DID) would wait for more digits
    for name, lines in contexts(render_extensions(flow(), TEXT)).items():
        if not name.startswith("hotline-menu-"):
            continue
        extens = {m.group(1) for line in lines if (m := re.match(r"exten => ([^,]+),", line))}
        assert extens <= set("0123456789*#") | {"s", "t", "i"}, name


def test_every_menu_and_queue_has_its_context_and_every_goto_lands() -> None:
    f = flow()
    rendered = contexts(render_extensions(f, TEXT))
    for name in f.menus:
        assert menu_context(name) in rendered
    for name in f.queues:
        assert queue_context(name) in rendered
    for lines in rendered.values():
        for line in lines:
            for target in re.findall(r"Goto\((hotline-[a-z-]+),", line):
                assert target in rendered, line


def test_calls_are_recorded_per_leg_by_uniqueid() -> None:
    text = render_extensions(flow(), TEXT, Paths(recordings="/rec"))
    assert "Set(__HOTLINE_REC=/rec/${STRFTIME(${EPOCH},UTC,%Y/%m/%d)}/${UNIQUEID})" in text
    # two legs and no mixed copy: an empty file name with r() and t() writes none
    assert "MixMonitor(,br(${HOTLINE_REC}-rx.wav)t(${HOTLINE_REC}-tx.wav))" in text


def test_queues_refuse_only_when_nobody_can_answer() -> None:
    queues = render_queues(flow())
    for name in ("property", "labour", "environment", "intake"):
        assert f"[{name}](hotline-defaults)" in queues
    assert queues.count("joinempty = unavailable,invalid") == 4
    assert "paused" not in queues.split("joinempty")[1].splitlines()[0]


def test_the_header_names_the_source() -> None:
    first = render_extensions(flow(), TEXT).splitlines()[0]
    assert first.startswith("; Generated by `hotline ivr render`")
    assert "sha256" in first


def test_the_visit_call_asks_resolved_then_a_rating_and_reports_both() -> None:
    text = render_extensions(flow(), TEXT)
    visit = text.split("[hotline-visit]")[1].split("\n\n")[0]
    steps = [line.split("=> ", 1)[1] for line in visit.splitlines() if "=>" in line]
    assert steps[0] == "s,1,Set(CHANNEL(language)=zh)"
    assert [s.split("(")[0].split(",")[-1] for s in steps] == [
        "Set", "Wait", "Read", "Read", "UserEvent", "Playback", "Hangup"
    ]  # fmt: skip
    assert "HotlineVisit,Order: ${HOTLINE_VISIT},Resolved: ${HOTLINE_RESOLVED}" in visit
