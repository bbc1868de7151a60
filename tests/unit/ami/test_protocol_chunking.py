"""The core property: every chunking of a stream gives the items of the one-shot parse.

Runs over the synthetic capture and every recorded ``tests/fixtures/ami/*.raw``.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.ami import EventList, Message, MessageKind, Protocol
from hotline.ami.dump import dump_messages

from .captures import captures, feed, split_at, synthetic_capture

CAPTURES = [pytest.param(data, id=name) for name, data in captures()]
# Each two-chunk split costs a whole parse: small captures are cut at every byte, big ones
# at every terminator's neighbourhood plus a fixed sample of other offsets.
PARSE_BUDGET = 64_000_000  # bytes parsed per capture (the synthetic one gets every offset)


def split_offsets(data: bytes) -> list[int]:
    if len(data) * (len(data) + 1) <= PARSE_BUDGET:
        return list(range(len(data) + 1))
    near: set[int] = set()
    start = data.find(b"\r\n")
    while start >= 0:
        near.update(range(start - 3, start + 5))
        start = data.find(b"\r\n\r\n", start + 2)
    wanted = PARSE_BUDGET // len(data)
    rest = [cut for cut in range(len(data) + 1) if cut not in near]
    sample = random.Random(len(data)).sample(rest, max(0, min(len(rest), wanted - len(near))))
    return sorted({cut for cut in near if 0 <= cut <= len(data)} | set(sample))


def test_synthetic_capture_parses_as_expected() -> None:
    outcome = feed([synthetic_capture()])
    assert outcome.error_offset is None
    assert outcome.decode_errors == 0
    names = [
        item.name if isinstance(item, Message) else f"list:{item.action_id}"
        for item in outcome.items
    ]
    assert names == [
        "Asterisk Call Manager/11.0.0",
        "Success",
        "FullyBooted",
        "QueueCallerJoin",
        "AgentCalled",
        "AgentConnect",
        "DTMFEnd",
        "list:csc-1",
        "list:qs-1",
        "QueueMemberPause",
        "AgentComplete",
        "Success",
        "Follows",
        "VarSet",
        "TestEvent",
        "OriginateResponse",
        "Hangup",
    ]
    by_name = {item.name: item for item in outcome.items if isinstance(item, Message)}
    assert by_name["QueueCallerJoin"].get("CallerIDName") == "张三丰"
    assert by_name["QueueMemberPause"].get("PausedReason") == "午饭"
    assert by_name["AgentComplete"].get("Reason") == "agent"
    assert by_name["AgentConnect"].get("DestCallerIDName") == "李四"
    assert by_name["VarSet"].getall("ChanVariable") == ["HOTLINE_CALL=c-42", "CALLER_NAME=王五"]
    assert by_name["Follows"].getall("Output")[3] == "Key: not a header, just CLI text"
    assert by_name["OriginateResponse"].kind is MessageKind.EVENT
    queue_status = outcome.items[8]
    assert isinstance(queue_status, EventList)
    assert [event.name for event in queue_status.events] == [
        "QueueParams",
        "QueueMember",
        "QueueEntry",
    ]
    assert queue_status.complete.get("ListItems") == "3"


@pytest.mark.parametrize("data", CAPTURES)
def test_every_two_chunk_split(data: bytes) -> None:
    expected = feed([data])
    for cut in split_offsets(data):
        assert feed([data[:cut], data[cut:]]) == expected, f"split at byte {cut}"


@pytest.mark.parametrize("data", CAPTURES)
def test_byte_at_a_time(data: bytes) -> None:
    assert feed(data[i : i + 1] for i in range(len(data))) == feed([data])


@pytest.mark.parametrize("data", CAPTURES)
@settings(max_examples=150, deadline=None)
@given(choice=st.data())
def test_random_chunkings(data: bytes, choice: st.DataObject) -> None:
    cuts = choice.draw(st.lists(st.integers(0, len(data)), max_size=60), label="cuts")
    assert feed(split_at(data, cuts)) == feed([data])


@pytest.mark.parametrize("data", CAPTURES)
def test_chunked_with_fixed_read_sizes(data: bytes) -> None:
    expected = feed([data])
    for size in (1, 2, 3, 7, 64, 4096):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert feed(chunks, Protocol()) == expected, f"reads of {size} bytes"


@pytest.mark.parametrize("data", CAPTURES)
def test_dump_matches_the_protocol(data: bytes) -> None:
    records = list(dump_messages(data))
    assert len(records) == len(feed([data]).items)
    for record in records:
        assert record["kind"] in {"greeting", "response", "event", "eventlist"}
