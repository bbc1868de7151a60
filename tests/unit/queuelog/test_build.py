"""Building incrementally (beside a tail) and streaming (a year of lines, bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator

from hotline.core.records import AgentChange, CallRecord, EndReason
from hotline.queuelog import Builder, QueueLogEntry, build, iter_build, parse_line

from .fixtures import QUEUE_LOG, T0, entries

DAY = QUEUE_LOG / "synthetic_day.queue_log"


def line(text: str) -> QueueLogEntry:
    entry = parse_line(text)
    assert isinstance(entry, QueueLogEntry)
    return entry


def test_feeding_says_which_calls_changed() -> None:
    builder = Builder()
    assert builder.feed([line("1795536200|c1|property|NONE|ENTERQUEUE||1|1")]) == {"c1"}
    assert builder.record("c1").end_reason is None
    changed = builder.feed(
        [
            line("1795536200|c1|property|NONE|ENTERQUEUE||1|1"),  # a repeat: no change
            line("1795536201|NONE|property|王芳|PAUSE|示忙"),  # no call
            line("1795536203|c1|property|NONE|ABANDON|1|1|3"),
        ]
    )
    assert changed == {"c1"}
    assert builder.record("c1").end_reason is EndReason.ABANDONED_IN_QUEUE
    assert builder.repeats == 1
    assert len(builder) == 1


def test_a_call_event_without_a_call_is_other() -> None:
    built = build([line("1795536200|NONE|property|NONE|ENTERQUEUE||1|1")])
    assert (built.calls, built.other) == ((), {"ENTERQUEUE": 1})


def test_settle_gives_out_quiet_calls_and_old_journal_lines() -> None:
    builder = Builder()
    builder.feed(entries(DAY))
    calls, changes = builder.settle(before=T0 + 400)
    assert [c.call_id for c in calls] == [f"{T0}.{n}" for n in (1, 2, 4, 5)]
    assert changes
    assert all(c.t < (T0 + 400) * 1000 for c in changes)
    assert len(builder) == 13
    rest_calls, rest_changes = builder.settle(before=T0 + 10_000)
    assert len(calls) + len(rest_calls) == len(build(entries(DAY)).calls)
    assert changes + rest_changes == list(build(entries(DAY)).agent_changes)
    assert len(builder) == 0


def test_streaming_gives_what_the_batch_gives() -> None:
    batch = build(entries(DAY))
    streamed = list(iter_build(entries(DAY), quiet=120))
    calls = [item for item in streamed if isinstance(item, CallRecord)]
    changes = [item for item in streamed if isinstance(item, AgentChange)]
    assert sorted(calls, key=lambda c: c.call_id) == sorted(batch.calls, key=lambda c: c.call_id)
    assert changes == list(batch.agent_changes)
    # the two calls still open at the end come out last, as open records
    assert [c.done for c in calls[-2:]] == [False, False]


def test_streaming_gives_calls_out_long_before_the_end() -> None:
    # one call a minute, each 50 s long; quiet=600 s: a call comes out about 11 calls after
    # it was read, whatever the length of the input (so the builder holds ~11 calls)
    read = 0

    def lines() -> Iterator[QueueLogEntry]:
        nonlocal read
        for n in range(2000):
            t = T0 + n * 60
            read += 1
            yield line(f"{t}|c{n}|labour|NONE|ENTERQUEUE||138|1")
            yield line(f"{t + 5}|c{n}|labour|王芳|CONNECT|5|a.{n}|1")
            yield line(f"{t + 50}|c{n}|labour|王芳|COMPLETEAGENT|5|45|1")

    lags = []
    for item in iter_build(lines(), quiet=600):
        if isinstance(item, CallRecord):
            assert item.end_reason is EndReason.ANSWERED
            lags.append(read - int(item.call_id[1:]))
    assert len(lags) == 2000
    assert max(lags) <= 15


def test_a_call_fed_again_after_it_settled_comes_out_again_the_same() -> None:
    lines = entries(DAY)
    streamed = [
        item for item in iter_build(lines + lines, quiet=60) if isinstance(item, CallRecord)
    ]
    by_id: dict[str, CallRecord] = {}
    for record in streamed:
        assert by_id.setdefault(record.call_id, record) == record  # an upsert changes nothing
    assert sorted(by_id.values(), key=lambda c: c.call_id) == sorted(
        build(lines).calls, key=lambda c: c.call_id
    )
