"""Orders searched with their linked calls' transcripts, on a real SQLite file: the
service (who, why, the access log, masking), the store's hits and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.casework.desk import Desk
from hotline.casework.search import search
from hotline.orders.errors import OrderError
from hotline.orders.machine import Step
from hotline.orders.model import Action, Actor, OrderType, Side
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.order_search import OrderSearch, Source
from hotline.stores.orders import OrderStore
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript

from .test_cli import db, run  # noqa: F401 (the CLI's fixture: a file with web users)
from .test_seeds import AGENT, CENTER, CENTRE, GREENING, at

AUDIT = Actor("jijian01", Side.AUDIT)
MOBILE = "13912345678"


def said(call_id: str, text: str, leg: Leg = Leg.CALLER) -> Transcript:
    return Transcript(call_id, leg, "whisper", "small", "zh", text, t_done=1)


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Desk, OrderSearch]]:
    file = tmp_path / "h.sqlite3"
    store, transcripts, access = (OrderStore.open(file), TranscriptStore.open(file),
                                  AccessLog.open(file))  # fmt: skip
    yield (
        Desk(store, CENTER.orders, access, "test", "GD-2026-0001"),
        OrderSearch(store, transcripts),
    )
    assert store.verify() is None
    for s in (store, transcripts, access):
        s.close()


def loop(desk: Desk) -> tuple[str, str]:
    """Two orders: a greening one linked to a call, replied to; a water one, no call."""
    tree = desk.create(AGENT, OrderType.COMPLAINT, "绿化", "树枝压电线，很危险", now=at(11, 2, 9),
                       phone=MOBILE, call_id="1796000000.1", place="和平路3号").order  # fmt: skip
    desk.dispatch(CENTRE, tree.id, "greening", now=at(11, 2, 10))
    desk.act(GREENING, tree.id, Step(Action.SIGN, GREENING, at(11, 2, 11)))
    desk.act(GREENING, tree.id, Step(Action.REPLY, GREENING, at(11, 2, 12),
                                     text="已派人修剪树枝", contact="电话"))  # fmt: skip
    water = desk.create(AGENT, OrderType.HELP, "供水", "小区停水三天", now=at(11, 3, 9),
                        phone="13700000000").order  # fmt: skip
    return tree.id, water.id


def test_orders_and_linked_transcripts_found_together(parts: tuple[Desk, OrderSearch]) -> None:
    desk, found = parts
    tree, water = loop(desk)
    found.transcripts.save(said("1796000000.1", f"我家门口树枝压着电线 电话 {MOBILE}"))
    found.transcripts.save(said("1796000000.1", "好的 我们 记录 树枝 的 问题", Leg.AGENT))
    found.transcripts.save(said("1796000000.9", "树枝 挡路 但没有工单"))  # linked to nothing
    assert found.linked() == {"1796000000.1": (tree,)}
    hits = found.search("树枝")
    assert [(h.orders, h.source, h.field) for h in hits] == [
        ((tree,), Source.ORDER, "content"),
        ((tree,), Source.TRANSCRIPT, "tx"),  # newest stored first
        ((tree,), Source.TRANSCRIPT, "rx"),
    ]
    assert hits[0].snippet[hits[0].marks[0][0] : hits[0].marks[0][1]] == "树枝"
    assert found.count("树枝") == (1, 2)
    # the reply, the place and the category are searched; a match never spans two fields
    assert [(h.orders, h.field) for h in found.search("修剪")] == [((tree,), "reply")]
    assert [h.field for h in found.search("和平路")] == ["place"]
    assert [h.orders for h in found.search("停水")] == [(water,)]
    assert found.search("险和") == []
    assert [h.field for h in found.search("绿化 电线")] == ["category"]  # the first of two
    # paging runs over the orders, then the transcripts
    assert [h.source for h in found.search("树枝", limit=1, offset=1)] == [Source.TRANSCRIPT]
    assert [h.field for h in found.search("树枝", limit=5, offset=2)] == ["rx"]
    assert len(found.search("")) == 4  # blank: every order, every linked transcript
    # a link added later brings its call's transcripts in
    desk.link(CENTRE, water, now=at(11, 3, 10), call_id="1796000000.9")
    assert [h.orders for h in found.search("挡路")] == [(water,)]


def test_the_service_wants_an_auditor_a_purpose_and_logs(parts: tuple[Desk, OrderSearch]) -> None:
    desk, found = parts
    tree, _ = loop(desk)
    found.transcripts.save(said("1796000000.1", f"树枝 我的电话 {MOBILE}"))
    with pytest.raises(OrderError, match="auditor's"):
        search(desk, found, CENTRE, "树枝", now=at(11, 4, 9))
    desk.purpose = " "
    with pytest.raises(OrderError, match="--purpose"):
        search(desk, found, AUDIT, "树枝", now=at(11, 4, 9))
    desk.purpose = "GD-2026-0001"
    with pytest.raises(OrderError, match="cannot search"):
        search(desk, found, AUDIT, "x" * 201, now=at(11, 4, 9))
    got = search(desk, found, AUDIT, "树枝", now=at(11, 4, 9))
    assert (got.orders, got.transcripts, got.unmasked) == (1, 1, False)
    call = next(h for h in got.hits if h.call is not None)
    assert "139****5678" in call.snippet
    assert MOBILE not in call.snippet
    probed = search(desk, found, AUDIT, "12345678", now=at(11, 4, 10))  # digits: an unmask
    assert probed.unmasked
    entries = [x.entry for x in desk.access.entries()] if desk.access else []
    assert [(e.action, e.user, e.purpose, e.target) for e in entries] == [
        ("search", "jijian01", "GD-2026-0001", "树枝"),
        ("unmask", "jijian01", "GD-2026-0001", "12345678"),
    ]
    detail = json.loads(entries[0].detail)
    assert (detail["orders"], detail["calls"], detail["scope"]) == ([tree], ["1796000000.1"],
                                                                    "orders")  # fmt: skip
    assert detail["hits"] == {"orders": 1, "transcripts": 1}


def test_an_existing_file_gets_its_orders_indexed(tmp_path: Path) -> None:
    file = tmp_path / "h.sqlite3"
    store = OrderStore.open(file)
    desk = Desk(store, CENTER.orders)
    tree, _ = loop(desk)
    with store.tx() as conn:  # as a file made before the search: no text, no calls
        conn.execute("DELETE FROM order_text")
        conn.execute("DELETE FROM order_calls")
    store.close()
    store = OrderStore.open(file)
    transcripts = TranscriptStore.open(file)
    found = OrderSearch(store, transcripts)
    assert [h.field for h in found.search("修剪")] == ["reply"]
    assert found.linked() == {"1796000000.1": (tree,)}
    store.close()
    transcripts.close()


def test_the_cli_searches_as_an_auditor(db: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    order = run(capsys, "create", "--as", "wangfang", "--type", "投诉举报", "--category",
                "绿化", "--content", "树枝压电线", "--call", "1796000000.5", "--phone",
                MOBILE)[1].strip()  # fmt: skip
    transcripts = TranscriptStore.open(db)
    transcripts.save(said("1796000000.5", f"树枝 电话 {MOBILE}"))
    transcripts.close()
    code, out, _ = run(capsys, "search", "树枝", "--purpose", "GD-1", "--as", "jijian01",
                       "--format", "json")  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert (doc["orders"], doc["transcripts"]) == (1, 1)
    found = [(h["source"], h["orders"]) for h in doc["hits"]]
    assert found == [("order", [order]), ("transcript", [order])]
    assert doc["hits"][1]["call"]["id"] == "1796000000.5"
    assert MOBILE not in out
    code, out, _ = run(capsys, "search", "树枝", "--purpose", "GD-1", "--as", "jijian01")
    assert "1 orders, 1 transcripts of linked calls match" in out
    code, _, err = run(capsys, "search", "树枝", "--purpose", "GD-1", "--as", "banzhang01")
    assert (code, "auditor's" in err) == (1, True)
    code, _, err = run(capsys, "search", "树枝", "--purpose", "", "--as", "jijian01")
    assert (code, "--purpose" in err) == (1, True)
    log = AccessLog.open(db)
    assert [x.entry.action for x in log.entries() if x.entry.purpose == "GD-1"] == [
        "search",
        "search",
    ]
    log.close()
