"""The sans-I/O AMI protocol, one behaviour per test (framing rules as seen on Asterisk 22)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hotline.ami import (
    Action,
    ActionError,
    EventList,
    Message,
    MessageKind,
    Protocol,
    ProtocolError,
)
from hotline.ami.dump import dump_messages

from .captures import LEGACY_OUTPUT, event, feed, frame, list_item, split_at

GREETING = b"Asterisk Call Manager/11.0.0\r\n"


def greeted(**options: int) -> Protocol:
    protocol = Protocol(**options)
    protocol.receive_data(GREETING)
    return protocol


def only(items: list[Message | EventList]) -> Message:
    assert len(items) == 1
    item = items[0]
    assert isinstance(item, Message)
    return item


# -- framing and headers ------------------------------------------------------------------


def test_greeting_is_one_crlf_terminated_line() -> None:
    protocol = Protocol()
    assert protocol.receive_data(b"Asterisk Call Man") == []
    greeting = only(protocol.receive_data(b"ager/11.0.0\r\n"))
    assert greeting.kind is MessageKind.GREETING
    assert greeting.name == "Asterisk Call Manager/11.0.0"
    assert greeting.headers == (("Greeting", "Asterisk Call Manager/11.0.0"),)
    assert greeting.offset == 0
    assert protocol.buffered == 0


def test_greeting_and_first_message_in_one_read() -> None:
    data = GREETING + frame(("Response", "Success"), ("ActionID", "1"), ("Message", "ok"))
    items = Protocol().receive_data(data)
    assert [item.kind for item in items if isinstance(item, Message)] == [
        MessageKind.GREETING,
        MessageKind.RESPONSE,
    ]


def test_response() -> None:
    protocol = greeted()
    data = b"Response: Success\r\nActionID: login-1\r\nMessage: Authentication accepted\r\n\r\n"
    reply = only(protocol.receive_data(data))
    assert reply.kind is MessageKind.RESPONSE
    assert reply.name == "Success"
    assert reply.action_id == "login-1"
    assert reply.get("message") == "Authentication accepted"
    assert reply.offset == len(GREETING)
    assert protocol.messages_received == 2
    assert protocol.bytes_received == len(GREETING) + len(data)


def test_event_headers_in_wire_order_and_case_insensitive() -> None:
    message = only(greeted().receive_data(event("QueueCallerJoin", ("Queue", "property"))))
    assert message.kind is MessageKind.EVENT
    assert message.name == "QueueCallerJoin"
    assert [key for key, _ in message.headers] == ["Event", "Privilege", "Timestamp", "Queue"]
    assert message.get("QUEUE") == message.get("queue") == "property"
    assert message.get("Missing") is None
    assert message.get("Missing", "x") == "x"
    assert message.action_id is None


def test_repeated_chanvariable_becomes_a_list() -> None:
    message = only(
        greeted().receive_data(
            event(
                "VarSet",
                ("ChanVariable", "HOTLINE_CALL=c-42"),
                ("Variable", "X"),
                ("ChanVariable", "CALLER_NAME=王五"),
            )
        )
    )
    assert message.get("ChanVariable") == "HOTLINE_CALL=c-42"
    assert message.getall("chanvariable") == ["HOTLINE_CALL=c-42", "CALLER_NAME=王五"]
    assert message.as_dict()["ChanVariable"] == ["HOTLINE_CALL=c-42", "CALLER_NAME=王五"]
    assert message.as_dict()["Variable"] == "X"


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        (b"AccountCode:", "AccountCode", ""),
        (b"AccountCode: ", "AccountCode", ""),
        (b"Key:value", "Key", "value"),
        (b"Key:  two spaces ", "Key", " two spaces "),
        (b"AppData: a: b:c", "AppData", "a: b:c"),
        (b"Key:a: b", "Key:a", "b"),  # split on the first ": ", as specified
        (b"Stray: cr\r", "Stray", "cr"),
    ],
)
def test_header_line_shapes(line: bytes, key: str, value: str) -> None:
    message = only(greeted().receive_data(b"Event: E\r\n" + line + b"\r\n\r\n"))
    assert message.headers[1] == (key, value)


def test_line_without_colon_is_a_protocol_error() -> None:
    protocol = greeted()
    with pytest.raises(ProtocolError, match="without a colon") as caught:
        protocol.receive_data(b"Event: E\r\nnot a header\r\n\r\n")
    assert caught.value.offset == len(GREETING)


def test_stray_blank_lines_lose_nothing() -> None:
    protocol = greeted()
    data = (
        frame(("Event", "TestEvent"), ("Type", "StateChange"), stray=b"\r\n")
        + b"\r\n\r\n"
        + frame(("Event", "Hangup"), ("Cause", "16"))
    )
    test_event, hangup = protocol.receive_data(data)
    assert isinstance(test_event, Message)
    assert isinstance(hangup, Message)
    assert (test_event.name, hangup.name) == ("TestEvent", "Hangup")
    # the offset is the message's first byte, after the blank lines
    assert hangup.offset == len(GREETING) + data.index(b"Event: Hangup")
    assert protocol.buffered == 0


@pytest.mark.parametrize("cut", range(1, 60))
def test_chinese_caller_name_split_at_every_byte(cut: int) -> None:
    data = frame(("Event", "QueueCallerJoin"), ("CallerIDName", "张三丰"), ("Queue", "热线"))
    protocol = greeted()
    items = protocol.receive_data(data[:cut]) + protocol.receive_data(data[cut:])
    message = only(items)
    assert message.get("CallerIDName") == "张三丰"
    assert message.get("Queue") == "热线"
    assert protocol.decode_errors == 0


def test_invalid_utf8_is_kept_visible_and_counted() -> None:
    protocol = greeted()
    message = only(protocol.receive_data(b"Event: E\r\nCallerIDName: \xff\xfe ok\r\n\r\n"))
    assert message.get("CallerIDName") == "\\xff\\xfe ok"
    assert protocol.decode_errors == 1
    only(protocol.receive_data(b"Event: F\r\n\r\n"))
    assert protocol.decode_errors == 1


# -- command output ---------------------------------------------------------------------


def test_modern_command_output_is_repeated_headers() -> None:
    reply = only(
        greeted().receive_data(
            b"Response: Success\r\nActionID: x\r\nMessage: Command output follows\r\n"
            b"Output: line1\r\nOutput: Name: with colon\r\nOutput: \r\n\r\n"
        )
    )
    assert reply.getall("Output") == ["line1", "Name: with colon", ""]


LEGACY = (
    b"Response: Follows\r\nPrivilege: Command\r\nActionID: cmd-2\r\n"
    + LEGACY_OUTPUT
    + b"--END COMMAND--\r\n\r\n"
)
LEGACY_LINES = [
    "Name/username             Host                 Dyn Port     Status",
    "agent1001/agent1001       127.0.0.1             D  5080     OK (1 ms)",
    "",
    "Key: not a header, just CLI text",
    "",
    "1 sip peers [Monitored: 1 online, 0 offline]",
]


def test_legacy_follows_output_keeps_colons_and_empty_lines() -> None:
    items = greeted().receive_data(LEGACY + frame(("Event", "After")))
    reply, after = items
    assert isinstance(reply, Message)
    assert reply.kind is MessageKind.RESPONSE
    assert reply.name == "Follows"
    assert reply.action_id == "cmd-2"
    assert reply.get("Privilege") == "Command"
    assert reply.getall("Output") == LEGACY_LINES
    assert isinstance(after, Message)
    assert after.name == "After"


@pytest.mark.parametrize("cut", [*range(1, 25), *range(len(LEGACY) - 25, len(LEGACY))])
def test_legacy_follows_split_across_chunks(cut: int) -> None:
    protocol = greeted()
    items = protocol.receive_data(LEGACY[:cut]) + protocol.receive_data(LEGACY[cut:])
    assert only(items).getall("Output") == LEGACY_LINES


def test_legacy_output_without_trailing_newline_and_empty_output() -> None:
    data = (
        b"Response: Follows\r\nPrivilege: Command\r\nno newline--END COMMAND--\r\n\r\n"
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: e\r\n--END COMMAND--\r\n\r\n"
    )
    first, empty = greeted().receive_data(data)
    assert isinstance(first, Message)
    assert isinstance(empty, Message)
    assert first.getall("Output") == ["no newline"]
    assert empty.action_id == "e"
    assert empty.getall("Output") == []


def test_follows_only_as_the_first_header_changes_framing() -> None:
    message = only(greeted().receive_data(b"Event: E\r\nResponse: Follows\r\n\r\n"))
    assert message.kind is MessageKind.EVENT
    assert message.get("Response") == "Follows"


def test_originate_response_event_carrying_response_header_is_an_event() -> None:
    message = only(
        greeted().receive_data(
            b"Event: OriginateResponse\r\nActionID: o1\r\nResponse: Success\r\n\r\n"
        )
    )
    assert message.kind is MessageKind.EVENT
    assert message.name == "OriginateResponse"
    assert message.action_id == "o1"


def test_message_with_neither_response_nor_event() -> None:
    protocol = greeted()
    with pytest.raises(ProtocolError, match="'Channel' is neither a Response nor an Event"):
        protocol.receive_data(b"Channel: PJSIP/1001\r\nState: Up\r\n\r\n")
    assert protocol.closed


# -- EventList ----------------------------------------------------------------------------


def queue_status(action_id: str) -> list[bytes]:
    qs = ("ActionID", action_id)
    return [
        frame(("Response", "Success"), qs, ("EventList", "start"), ("Message", "will follow")),
        list_item("QueueParams", ("Queue", "property"), ("Calls", "1"), qs),
        list_item("QueueMember", ("Queue", "property"), ("PausedReason", "午饭"), qs),
        list_item("QueueEntry", ("Queue", "property"), ("CallerIDName", "张三丰"), qs),
        list_item("QueueStatusComplete", qs, ("EventList", "Complete"), ("ListItems", "3")),
    ]


def test_queue_status_collected_with_unrelated_events_in_order() -> None:
    start, params, member, entry, complete = queue_status("qs-1")
    data = (
        start
        + event("Newchannel")
        + params
        + member
        + event("QueueMemberPause", ("ActionID", "other"))
        + entry
        + event("Hangup")
        + complete
        + event("After")
    )
    items = greeted().receive_data(data)
    names = [item.name if isinstance(item, Message) else "<list>" for item in items]
    assert names == ["Newchannel", "QueueMemberPause", "Hangup", "<list>", "After"]
    found = items[3]
    assert isinstance(found, EventList)
    assert found.action_id == "qs-1"
    assert found.response.get("EventList") == "start"
    assert [e.name for e in found.events] == ["QueueParams", "QueueMember", "QueueEntry"]
    assert found.events[1].get("PausedReason") == "午饭"
    assert found.complete.name == "QueueStatusComplete"


def test_two_concurrent_eventlists() -> None:
    a, b = queue_status("a"), queue_status("b")
    protocol = greeted()
    assert protocol.receive_data(a[0] + b[0] + a[1] + b[1] + b[2] + a[2] + a[3] + b[3]) == []
    assert protocol.open_eventlists == 2
    for stream, action_id in ((b, "b"), (a, "a")):
        found = protocol.receive_data(stream[4])[0]
        assert isinstance(found, EventList)
        assert found.action_id == action_id
        assert [e.name for e in found.events] == ["QueueParams", "QueueMember", "QueueEntry"]
        assert all(e.action_id == action_id for e in found.events)
    assert protocol.open_eventlists == 0


def test_complete_value_is_case_insensitive_and_empty_list_works() -> None:
    qs = ("ActionID", "c")
    data = frame(("Response", "Success"), qs, ("EventList", "Start")) + list_item(
        "CoreShowChannelsComplete", qs, ("EventList", "complete"), ("ListItems", "0")
    )
    found = greeted().receive_data(data)[0]
    assert isinstance(found, EventList)
    assert found.events == ()


def test_eventlist_without_action_id_is_not_collected() -> None:
    data = frame(("Response", "Success"), ("EventList", "start")) + list_item(
        "QueueStatusComplete", ("EventList", "Complete")
    )
    assert [item.name for item in greeted().receive_data(data) if isinstance(item, Message)] == [
        "Success",
        "QueueStatusComplete",
    ]


def test_eventlist_buffer_is_bounded() -> None:
    start, params, *_ = queue_status("big")
    protocol = greeted(max_eventlist_size=len(params) * 3)
    protocol.receive_data(start + params * 3)
    with pytest.raises(ProtocolError, match="max_eventlist_size") as caught:
        protocol.receive_data(params)
    assert caught.value.offset == len(GREETING) + len(start) + 3 * len(params)


# -- limits and closing -------------------------------------------------------------------


def test_oversized_partial_message_closes_the_protocol() -> None:
    protocol = greeted(max_message_size=100)
    first = frame(("Event", "Small"))
    assert len(protocol.receive_data(first)) == 1
    protocol.receive_data(b"Event: Big\r\n")
    with pytest.raises(ProtocolError, match="max_message_size") as caught:
        protocol.receive_data(b"X: " + b"y" * 100)
    assert caught.value.offset == len(GREETING) + len(first)
    assert protocol.closed
    assert protocol.buffered == 0
    with pytest.raises(ProtocolError, match="closed"):
        protocol.receive_data(frame(("Event", "Later")))


def test_oversized_complete_message_fails_however_it_arrives() -> None:
    big = frame(("Event", "Big"), ("Data", "x" * 200))
    data = GREETING + frame(("Event", "Before")) + big
    one_shot = feed([data], Protocol(max_message_size=200))
    bytewise = feed(split_at(data, range(len(data))), Protocol(max_message_size=200))
    assert one_shot == bytewise
    assert one_shot.error_offset == data.index(b"Event: Big")
    assert [item.name for item in one_shot.items if isinstance(item, Message)] == [
        "Asterisk Call Manager/11.0.0",
        "Before",
    ]


def test_error_carries_the_items_completed_before_it() -> None:
    protocol = greeted()
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_data(frame(("Event", "Good")) + b"Bad\r\n\r\n")
    assert [item.name for item in caught.value.items if isinstance(item, Message)] == ["Good"]


def test_oversized_greeting() -> None:
    protocol = Protocol(max_message_size=64)
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_data(b"x" * 65)
    assert caught.value.offset == 0


# -- sending ------------------------------------------------------------------------------


def test_send_encodes_action_id_headers_and_utf8() -> None:
    action = Action(
        "Originate",
        (
            ("Channel", "Local/12346@ivr"),
            ("CallerID", '"张三" <13800000001>'),
            ("Variable", "A=1"),
            ("Variable", "B=2"),
        ),
        "orig-1",
    )
    assert (
        Protocol().send(action)
        == (
            "Action: Originate\r\nActionID: orig-1\r\nChannel: Local/12346@ivr\r\n"
            'CallerID: "张三" <13800000001>\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n'
        ).encode()
    )


def test_action_build_from_mapping_and_keywords() -> None:
    action = Action.build(
        "Originate", {"Channel": "Local/1@x"}, action_id="a1", Variable=["A=1", "B=2"], Async="true"
    )
    assert action == Action(
        "Originate",
        (("Channel", "Local/1@x"), ("Variable", "A=1"), ("Variable", "B=2"), ("Async", "true")),
        "a1",
    )


@pytest.mark.parametrize(
    "action",
    [
        Action("Originate", (("CallerID", "张三\r\nAction: Originate"),), "1"),
        Action("Originate", (("CallerID", "张三\nAction: Hangup"),), "1"),
        Action("Originate", (("CallerID", "a\rb"),), "1"),
        Action("Originate", (("CallerID", "nul\0"),), "1"),
        Action("Ping\r\nAction: Originate", (), "1"),
        Action("Ping", (), "1\r\nAction: Originate"),
        Action("", (), "1"),
        Action("Ping", (("X\r\nAction", "Originate"),), "1"),
        Action("Ping", (("", "v"),), "1"),
        Action("Ping", (("Key:", "v"),), "1"),
        Action("Ping", ((" Key", "v"),), "1"),
        Action("Ping", (("Key ", "v"),), "1"),
        Action("Ping", (("ActionID", "2"),), "1"),
        Action("Ping", (("action", "Originate"),), "1"),
    ],
)
def test_send_rejects_injection_and_bad_names(action: Action) -> None:
    with pytest.raises(ActionError):
        Protocol().send(action)


# -- values, the line cache and the dump ---------------------------------------------------


def test_message_lookups_do_not_change_equality() -> None:
    data = event("Hangup", ("cause", "16"), ("Cause", "17"))
    looked_up, fresh = only(greeted().receive_data(data)), only(greeted().receive_data(data))
    assert looked_up.get("CAUSE") == "16"
    assert looked_up == fresh
    assert hash(looked_up) == hash(fresh)
    assert looked_up.as_dict()["cause"] == ["16", "17"]  # one header, first spelling


def test_line_cache_gives_the_same_pairs_as_a_fresh_parse() -> None:
    # the same lines in an odd message (stray CR, "Key:"), a plain one, the odd one again
    odd = b"Event: E\r\nQueue: q\r\r\nAccountCode:\r\n\r\n"
    plain = b"Event: E\r\nQueue: q\r\nAccountCode: \r\n\r\n"
    long_value = b"Event: E\r\nData: " + "长".encode() * 300 + b"\r\n\r\n"
    stream = [odd, plain, odd, long_value, long_value]
    shared = greeted().receive_data(b"".join(stream))
    fresh = [only(greeted().receive_data(data)) for data in stream]
    assert [item.headers for item in shared if isinstance(item, Message)] == [
        item.headers for item in fresh
    ]
    assert fresh[0].headers == (("Event", "E"), ("Queue", "q"), ("AccountCode", ""))
    assert fresh[3].get("Data") == "长" * 300


def test_line_cache_stays_bounded_and_correct() -> None:
    protocol = greeted()
    for batch in range(3):
        data = b"".join(
            frame(("Event", "Newchannel"), ("Uniqueid", f"{batch}.{n}")) for n in range(3000)
        )
        items = protocol.receive_data(data)
        assert [item.get("Uniqueid") for item in items if isinstance(item, Message)] == [
            f"{batch}.{n}" for n in range(3000)
        ]
    assert len(protocol._pairs) <= 4096


def test_dump_records() -> None:
    start, params, _, _, complete = queue_status("qs-1")
    data = GREETING + start + params + complete + event("VarSet", ("ChanVariable", "A=1"))
    records = list(dump_messages(data))
    assert records[0] == {
        "kind": "greeting",
        "offset": 0,
        "headers": {"Greeting": "Asterisk Call Manager/11.0.0"},
    }
    assert records[1]["kind"] == "eventlist"
    assert records[1]["action_id"] == "qs-1"
    assert records[1]["response"]["offset"] == len(GREETING)
    assert [e["headers"]["Event"] for e in records[1]["events"]] == ["QueueParams"]
    assert records[1]["complete"]["headers"]["EventList"] == "Complete"
    assert records[2]["headers"]["ChanVariable"] == "A=1"
    json.dumps(records, ensure_ascii=False)  # JSON-ready


def test_dump_yields_what_precedes_a_protocol_error() -> None:
    data = GREETING + event("Good") + b"garbage\r\n\r\n"
    records: list[dict[str, Any]] = []
    with pytest.raises(ProtocolError) as caught:
        records.extend(dump_messages(data))
    assert [r["kind"] for r in records] == ["greeting", "event"]
    assert caught.value.offset == data.index(b"garbage")
