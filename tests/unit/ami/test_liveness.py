"""When the client drops a link whose Ping is late: only when the peer is silent (pure)."""

from __future__ import annotations

import pytest

from hotline.ami.client import ClientOptions, frozen

OPTS = ClientOptions(ping_timeout=3.0)


@pytest.mark.parametrize(
    ("waited", "silent", "rtt", "dropped"),
    [
        (1.0, 1.0, 0.0, False),  # not late yet
        (3.5, 3.5, 0.0, True),  # late and silent: frozen (SIGSTOP, a deadlock)
        (12.5, 0.01, 0.0, False),  # 12.5 s late, events still arriving: busy, kept
        (30.0, 0.2, 9.0, False),
        (10.0, 4.0, 3.0, False),  # silent, but within 4x the recent round trip (12 s)
        (13.0, 4.0, 3.0, True),  # past it and silent
    ],
)
def test_a_late_ping_drops_the_link_only_when_nothing_else_arrives(
    waited: float, silent: float, rtt: float, dropped: bool
) -> None:
    assert frozen(waited, silent, rtt, OPTS) is dropped


def test_take_returns_the_queued_events_in_order_and_keeps_a_close() -> None:
    from hotline.ami.client import AMIClient, Endpoint, Subscription
    from hotline.ami.message import Message, MessageKind

    client = AMIClient(Endpoint("127.0.0.1", 1, "u", "s"))
    sub = Subscription(client, frozenset(), 10)
    events = [Message(MessageKind.EVENT, (("Event", f"E{i}"),)) for i in range(3)]
    for e in events:
        sub.queue.put_nowait(e)
    sub.queue.put_nowait(None)  # the client was closed
    assert sub.take() == events
    assert sub.queue.get_nowait() is None
