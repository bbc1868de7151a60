"""Bad input gets a clear error, never a crash: property-based fuzzing of every reader of
outside input (the AMI protocol has its own: tests/unit/ami/test_protocol_fuzz.py).

Each target takes what Hypothesis makes up and may only answer or raise its own error type.
``HOTLINE_FUZZ_EXAMPLES`` raises the number of inputs per target (bench/fuzz.py uses it to
report figures in docs/security.md); the default keeps `make test` quick.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable
from typing import TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.center.config import CenterError, load_center
from hotline.host.settings import DEFAULT_CENTER, DEFAULT_FLOW
from hotline.ivr.loader import FlowError, load_flow
from hotline.queuelog.build import build
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.recordings import audio
from hotline.recordings.errors import AudioError
from hotline.transcripts import redact
from hotline.web.ranges import Unsatisfiable, parse_range

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
FLOW = yaml.safe_load((DEFAULT_FLOW).read_text(encoding="utf-8"))
CENTER = yaml.safe_load((DEFAULT_CENTER).read_text(encoding="utf-8"))

SAMPLES = ["", "0", "intake", "${SHELL(id)}", "\n[x]", "08:00-18:00"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(SAMPLES),
)  # fmt: skip
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(doc: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value in a parsed YAML document."""
    out: list[tuple[object, ...]] = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(doc: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {k: (_replaced(v, rest, value) if k == head else v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [(_replaced(v, rest, value) if i == head else v) for i, v in enumerate(doc)]
    return doc


def _refusal(read: Callable[[T], object], value: T, error: type[E]) -> E | None:
    """None if READ took VALUE; the error if it refused it with its own error type (any
    other exception fails the test)."""
    try:
        read(value)
    except error as exc:
        return exc
    return None


def _mutated(base: object) -> st.SearchStrategy[str]:
    """The shipped document with one value (anywhere) replaced by any tree, as YAML."""
    paths = _paths(base)
    return st.tuples(st.sampled_from(paths), trees).map(
        lambda pv: yaml.safe_dump(_replaced(base, pv[0], pv[1]), allow_unicode=True)
    )


@FUZZ
@given(st.one_of(_mutated(FLOW), st.text(max_size=300), trees.map(yaml.safe_dump)))
def test_the_flow_loader_answers_or_names_the_node(text: str) -> None:
    refused = _refusal(load_flow, text, FlowError)
    if refused is not None:
        assert refused.problems
        assert all(p.node and p.message for p in refused.problems)


@FUZZ
@given(st.one_of(_mutated(CENTER), st.text(max_size=300), trees.map(yaml.safe_dump)))
def test_the_centre_loader_answers_or_names_the_node(text: str) -> None:
    refused = _refusal(load_center, text, CenterError)
    if refused is not None:
        assert refused.problems


EVENTS = [
    "ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT",
    "EXITEMPTY", "EXITWITHKEY", "RINGNOANSWER", "RINGCANCELED", "TRANSFER", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "AGENTDUMP", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL",
    "UNPAUSEALL", "AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN", "AGENTCALLBACKLOGOFF",
    "QUEUESTART", "CONFIGRELOAD", "JOINEMPTY", "FULL", "SYSCOMPAT", "SURVEY", "CALLBACK", "X",
]  # fmt: skip
fields = st.one_of(st.text(alphabet="0123456789.-", max_size=12), st.text(max_size=10))
lines = st.one_of(
    st.tuples(
        st.integers(0, 2**33).map(str) | st.text(max_size=12),
        st.sampled_from(["1795.7", "NONE", "REALTIME-9", ""]) | st.text(max_size=8),
        st.sampled_from(["intake", "NONE", ""]) | st.text(max_size=8),
        st.sampled_from(["PJSIP/1001", "Agent/1001", "王芳", "NONE"]),
        st.sampled_from(EVENTS),
        st.lists(fields, max_size=6),
    ).map(lambda t: "|".join([t[0], t[1], t[2], t[3], t[4], *t[5]]) + "\n"),
    st.text(max_size=80),
)


@FUZZ
@given(st.lists(lines, max_size=40))
def test_queue_log_lines_of_any_kind_parse_and_build(batch: list[str]) -> None:
    """Legacy and foreign formats (AGENTLOGIN, PAUSEALL, REALTIME ids, lines with missing
    exit events, junk): each line is an entry or a problem; the records build."""
    items = list(parse_lines(batch))
    assert len(items) <= len(batch)
    built = build([e for e in items if isinstance(e, QueueLogEntry)])
    for record in built.calls:
        assert record.call_id


def _wav(rate: int, channels: int, bits: int, data: bytes, riff: int, size: int) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * bits // 8,
                      channels * bits // 8, bits)  # fmt: skip
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", size) + data)  # fmt: skip


wavs = st.one_of(
    st.binary(max_size=200),
    st.builds(
        _wav,
        st.sampled_from([0, 1, 8000, 16000, 200000]),
        st.integers(0, 9),
        st.sampled_from([0, 8, 16, 24, 32]),
        st.binary(max_size=64),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
    ),
    st.tuples(st.binary(min_size=44, max_size=44), st.binary(max_size=32)).map(
        lambda p: p[0] + p[1]
    ),
)


@FUZZ
@given(wavs)
def test_a_wav_header_of_any_bytes_is_read_or_refused_with_a_reason(data: bytes) -> None:
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        f.write(data)
        f.flush()
        refused = _refusal(audio.probe, f.name, AudioError)
        if refused is not None:
            assert refused.reason
        else:
            info = audio.probe(f.name)
            assert info.frames > 0
            assert 8000 <= info.rate <= 48000


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=40), st.from_regex(r"bytes=[0-9,\- ]{0,20}")),
       st.integers(0, 10**9))  # fmt: skip
def test_any_range_header_is_a_range_or_unsatisfiable(header: str | None, size: int) -> None:
    if _refusal(lambda h: parse_range(h, size), header, Unsatisfiable) is not None:
        return
    got = parse_range(header, size)
    if got is not None:
        first, last = got
        assert 0 <= first <= last < size


@FUZZ
@given(st.text(max_size=200))
def test_masking_takes_any_text(text: str) -> None:
    masked = redact.mask(text)
    assert redact.mask(masked) == masked


@pytest.mark.parametrize(
    ("path", "value"),
    [(("agents", "1001", "queues"), 5), (("teams", "team-a", "shifts"), 5),
     (("pause_reasons", "meal", "max_minutes"), True), (("languages", 0), []),
     (("announcements",), [[]]), (("menus", "main", "options", "1", "goto"), ["x"]),
     (("menus", "help", "options"), 1)],
)  # fmt: skip
def test_what_fuzzing_found_is_a_named_problem(path: tuple[object, ...], value: object) -> None:
    """Each crashed a loader (TypeError) or was taken (a boolean as minutes) before."""
    base, error = (FLOW, FlowError) if path[0] in FLOW else (CENTER, CenterError)
    text = yaml.safe_dump(_replaced(base, path, value), allow_unicode=True)
    read = load_flow if base is FLOW else load_center
    refused = _refusal(read, text, error)  # type: ignore[arg-type]
    assert refused is not None
