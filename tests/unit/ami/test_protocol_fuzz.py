"""Hostile input: whatever bytes arrive, only ProtocolError escapes and memory stays bounded.

Also checks that even broken streams parse the same for every chunking (items and the byte
offset of the error).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.ami import Protocol, ProtocolError

from .captures import Outcome, captures, split_at, synthetic_capture

MAX = 512  # small, so the size limits are hit often
# bench/fuzz.py raises the count to report figures (docs/security.md)
FUZZ = settings(max_examples=int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "300")), deadline=None)


def feed_checked(chunks: Sequence[bytes]) -> Outcome:
    """Like captures.feed, asserting the buffer bound after every read."""
    protocol = Protocol(max_message_size=MAX, max_eventlist_size=4 * MAX)
    items = []
    for chunk in chunks:
        try:
            items += protocol.receive_data(chunk)
        except ProtocolError as exc:
            assert protocol.closed
            assert protocol.buffered == 0
            return Outcome((*items, *exc.items), exc.offset, protocol.decode_errors)
        # never more than one message's worth is held (the bound promised is MAX + chunk)
        assert protocol.buffered <= MAX
    return Outcome(tuple(items), None, protocol.decode_errors)


def check(data: bytes, cuts: Sequence[int]) -> None:
    assert feed_checked(split_at(data, cuts)) == feed_checked([data])


AMI_BYTES = st.sampled_from(
    [b"\r", b"\n", b"\r\n", b"\r\n\r\n", b":", b": ", b"Event", b"Response: Follows\r\n",
     b"ActionID: 1\r\n", b"EventList: start\r\n", b"EventList: Complete\r\n",
     b"--END COMMAND--", b"\xe5\xbc\xa0", b"\xff", b"\x00", b"x"]
)  # fmt: skip


@FUZZ
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    check(data, cuts)


@FUZZ
@given(
    parts=st.lists(AMI_BYTES, max_size=200),
    cuts=st.lists(st.integers(0, 3000), max_size=20),
)
def test_ami_like_token_soup(parts: list[bytes], cuts: list[int]) -> None:
    check(b"Asterisk Call Manager/11.0.0\r\n" + b"".join(parts), cuts)


MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 1 << 20), st.integers(0, 255)
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, value in mutations:
        index = where % (len(buf) + 1)
        if op == "insert":
            buf.insert(index, value)
        elif index < len(buf):
            if op == "flip":
                buf[index] ^= value or 1
            else:
                del buf[index]
    return bytes(buf)


@pytest.mark.parametrize("data", [pytest.param(d, id=n) for n, d in captures()])
@FUZZ
@given(
    mutations=st.lists(MUTATION, min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 1 << 20), max_size=20),
)
def test_mutated_captures(
    data: bytes, mutations: list[tuple[str, int, int]], cuts: list[int]
) -> None:
    mutated = mutate(data, mutations)
    check(mutated, [cut % (len(mutated) + 1) for cut in cuts])


@FUZZ
@given(cuts=st.lists(st.integers(0, 10_000), max_size=20), junk=st.binary(min_size=1, max_size=50))
def test_junk_between_messages(cuts: list[int], junk: bytes) -> None:
    data = synthetic_capture()
    middle = data.index(b"Event: QueueMemberPause")
    check(data[:middle] + junk + data[middle:], cuts)
