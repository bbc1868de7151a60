"""What of an order is searched: its fields apart, so no match spans two of them."""

from __future__ import annotations

from hotline.orders.model import Action, Entry, Order, OrderType, Side, State
from hotline.orders.text import Part, parts, searchable
from hotline.transcripts.fulltext import parse_query

ORDER = Order("20261207-0001", 0, OrderType.COMPLAINT, "绿化", "和平路", "树枝压电线",
              State.REPLIED)  # fmt: skip


def entry(action: Action, text: str, attachments: tuple[str, ...] = ()) -> Entry:
    return Entry(ORDER.id, 1, "lvhua01", Side.DEPARTMENT, action, State.SIGNED, State.REPLIED,
                 text=text, attachments=attachments)  # fmt: skip


def test_the_fields_in_order_and_none_empty() -> None:
    timeline = [entry(Action.SIGN, ""), entry(Action.REPLY, "已修剪树枝"),
                entry(Action.RETURN, "不归我们管"),
                entry(Action.FINISH, "现场照片", ("photo.jpg",))]  # fmt: skip
    assert parts(ORDER, timeline) == (
        Part("category", "绿化"), Part("place", "和平路"), Part("content", "树枝压电线"),
        Part("reply", "已修剪树枝"), Part("evidence", "现场照片 photo.jpg"),
    )  # fmt: skip
    no_place = Order(ORDER.id, 0, OrderType.HELP, "供水", "", "停水", State.RECEIVED)
    assert [p.field for p in parts(no_place, [])] == ["category", "content"]


def test_no_match_spans_two_fields() -> None:
    text = searchable(parts(ORDER, [entry(Action.REPLY, "修剪")]))
    assert parse_query("绿化").matches(text)
    assert parse_query("线修").matches(text) is False  # content's end, the reply's start
    assert parse_query("化和").matches(text) is False
    assert parse_query("电线 修剪").matches(text)  # terms may be in different fields
    assert parse_query("photo").matches(text) is False
