"""The stores' contract, the same on SQLite and on PostgreSQL (a real server: pgbed).

Every test takes ``db``: a fresh SQLite file or a fresh PostgreSQL database, and must
pass on both. What only one engine can show (TRUNCATE, two writers racing on one chain)
is tested where it applies.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from hotline.core.localtime import DAY_MS
from hotline.core.records import AgentChange, CallRecord, QueueVisit
from hotline.kb.errors import KbError
from hotline.kb.model import Content
from hotline.metrics import GroupBy, Params
from hotline.metrics.agenttime import AgentData
from hotline.metrics.changes import param_change
from hotline.metrics.formulas import REVISION
from hotline.orders.errors import OrderError
from hotline.orders.machine import Step, step
from hotline.orders.model import Action, Actor, Entry, OrderType, Side, State
from hotline.qa.forms import Form, Item
from hotline.qa.sampling import Pick
from hotline.recordings.integrity import Mismatch
from hotline.recordings.leg import Leg, Recording
from hotline.recordings.retention import Due, Kept, RetentionPolicy, plan
from hotline.stores import anchors, dialect
from hotline.stores.access import AccessEntry, AccessLog
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.kb import KbStore
from hotline.stores.metrics import MetricsStore
from hotline.stores.orders import OrderStore
from hotline.stores.qa import QaStore, QaStoreError, Score
from hotline.stores.retention import RetentionError, RetentionStore
from hotline.stores.rollup import Rollup
from hotline.stores.search_plan import SearchFilters
from hotline.stores.transcripts import Total, TranscriptStore
from hotline.stores.twilio_events import TwilioEvent
from hotline.transcripts.fulltext import QueryError, parse_query
from hotline.transcripts.transcript import Transcript, Word
from hotline.web.accounts import Accounts
from hotline.web.roles import Role, Scope
from tests.integration.pgbed import PgServer
from tests.unit.metrics.test_rollup import START, assert_equal, journal_for, random_calls
from tests.unit.test_history import T0, answered, change

pytestmark = pytest.mark.timeout(120)

Target = Path | str


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A fresh, empty database of each engine."""
    if request.param == "sqlite":
        yield tmp_path / "h.sqlite3"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create()
    yield url
    server.drop(url)


def is_pg(db: Target) -> bool:
    return isinstance(db, str)


# -- calls, callbacks, legs, alerts (the history) ---------------------------------------


def test_calls_with_visits_and_rings_round_trip_and_replace(db: Target) -> None:
    history = History.open(db)
    record = answered(callback_number="13800000009")
    assert history.save_calls([record]) == 1
    assert history.call(record.call_id) == record
    assert history.calls(since=T0, until=T0 + 1) == [record]
    assert history.calls(since=T0 + 1) == []
    history.save_calls([answered(survey_score=None, callback_number="13800000009")])
    history.save_calls([record])
    assert history.calls() == [record]
    many = [answered(f"c{i:04d}", t_arrival=T0 + i) for i in range(300)]
    history.save_calls(many)
    assert [c.call_id for c in history.calls(since=T0 + 1, limit=5)] == [
        f"c{i:04d}" for i in range(1, 6)
    ]
    assert len(history.calls()) == 301
    # the callback registered once, completed once
    (row,) = history.callbacks()
    assert (row["call_id"], row["status"], row["queue"]) == (record.call_id, "open", "labour")
    assert history.complete_callback(record.call_id, at=T0 + 5, by="王芳")
    assert not history.complete_callback(record.call_id, at=T0 + 6, by="王芳")
    history.save_calls([record])  # saved again: the callback keeps its state
    assert history.callbacks()[0]["status"] == "done"
    assert History.open(db).migrate() == history.migrate()  # idempotent
    history.close()


def test_the_same_uniqueid_on_two_pbxs_is_two_calls_each_with_its_pbx(db: Target) -> None:
    history = History.open(db)
    one = answered("1765100000.7", pbx="pbx1")
    two = answered("pbx2:1765100000.7", pbx="pbx2", agent="李娜")
    assert history.save_calls([one, two]) == 2
    assert history.call("1765100000.7") == one
    assert history.call("pbx2:1765100000.7") == two
    assert {(c.call_id, c.pbx) for c in history.calls()} == {
        ("1765100000.7", "pbx1"), ("pbx2:1765100000.7", "pbx2"),
    }  # fmt: skip
    assert history.select_calls("WHERE pbx = ?", ("pbx2",)) == [two]
    history.close()


def test_twilio_events_are_kept_per_call_in_order_and_tie_to_the_call(db: Target) -> None:
    history = History.open(db)
    sid, other = "CA" + "1" * 32, "CA" + "2" * 32
    events = [
        TwilioEvent(sid, "entry", T0, {"open": "1", "notice": ""}),
        TwilioEvent(other, "entry", T0 + 1, {}),
        TwilioEvent(sid, "gather", T0 + 2, {"node": "main", "digit": "2", "tag": "投诉"}),
        TwilioEvent(sid, "status", T0 + 9, {"CallStatus": "completed", "CallDuration": "61"}),
    ]
    assert history.save_twilio_events(events) == 4
    assert history.save_twilio_events([]) == 0
    assert history.twilio_events(sid) == [events[0], events[2], events[3]]
    assert history.twilio_events("CA-none") == []
    record = answered(twilio_sid=sid)
    history.save_calls([record])
    assert history.call(record.call_id) == record
    assert history.call(record.call_id).twilio_sid == sid  # type: ignore[union-attr]
    history.close()


def test_legs_are_catalogued_linked_and_queued(db: Target) -> None:
    history = History.open(db)
    history.save_calls([answered(recording="")])
    legs = [
        Recording("1795463379.1", Leg.CALLER, "/r/a-rx.wav", 10, 1000, "aa" * 32),
        Recording("1795463379.1", Leg.AGENT, "/r/a-tx.wav", 10, 1000, "bb" * 32),
    ]
    assert history.save_recordings(legs, at=T0) == []
    assert history.save_recordings(legs, at=T0 + 1) == []  # same bytes: nothing
    changed = Recording("1795463379.1", Leg.CALLER, "/r/a-rx.wav", 10, 1000, "cc" * 32)
    (refused,) = history.save_recordings([changed], at=T0 + 2)
    assert (refused.expected, refused.actual, refused.reason) == ("aa" * 32, "cc" * 32, "changed")
    assert [r.sha256 for r in history.recordings("1795463379.1")] == ["aa" * 32, "bb" * 32]
    assert history.link_recording("1795463379.1", "/r/a") == 1
    assert history.link_recording("1795463379.1", "/r/b") == 0
    assert history.link_recording("nope", "/r/c") is None
    assert len(history.unqueued()) == 2
    history.mark_queued(legs[:1], at=T0 + 3)
    assert history.queued_legs("1795463379.1") == {Leg.CALLER}
    assert [r.leg for r in history.unqueued()] == [Leg.AGENT]


def test_alerts_upsert_and_escalations_once(db: Target) -> None:
    history = History.open(db)
    doc = {"id": "a1", "rule": "long_pause", "agent": "王芳", "team": "t", "severity": "warn",
           "start": T0, "end": None, "t_raised": T0, "state": "open",
           "evidence": ["午饭"]}  # fmt: skip
    history.save_alerts([doc, {**doc, "id": "a2", "agent": "李娜", "t_raised": T0 + 5}])
    history.save_alerts([{**doc, "state": "closed", "end": T0 + 9}])
    assert history.alert("a1") == {**doc, "state": "closed", "end": T0 + 9}
    assert [a["id"] for a in history.alerts()] == ["a1", "a2"]
    assert [a["id"] for a in history.alerts("李娜")] == ["a2"]
    assert [a["id"] for a in history.alerts(state="closed", since=T0, until=T0 + 1)] == ["a1"]
    step = {"step_id": "a1:1", "alert": "a1", "action": "notify", "target": "班长",
            "agent": "王芳", "t_due": T0, "t_done": T0 + 1, "result": "ok"}  # fmt: skip
    history.save_escalations([step, {**step, "result": "again"}])
    assert history.escalations(alert="a1") == [step]


# -- the chains ---------------------------------------------------------------------------


def refuses(db: Target, store_conn: dialect.Connection, sql: str) -> None:
    with pytest.raises(dialect.DatabaseError, match="append-only"):
        store_conn.execute(sql)


def test_the_journal_is_chained_and_append_only(db: Target) -> None:
    history = History.open(db)
    history.append_journal([change(1), change(2, "unpause")])
    history.append_journal([change(3)])
    assert [c.kind for c in history.journal("王芳")] == ["pause", "unpause", "pause"]
    assert history.journal("王芳")[0] == change(1)
    assert history.verify_journal() is None
    refuses(db, history.connection, "UPDATE agent_journal SET t = t + 60000 WHERE id = 2")
    refuses(db, history.connection, "DELETE FROM agent_journal WHERE id = 3")
    if is_pg(db):
        refuses(db, history.connection, "TRUNCATE agent_journal")
        history.connection.execute("SET session_replication_role = replica")
        refuses(db, history.connection, "DELETE FROM agent_journal")  # ENABLE ALWAYS
    heads = anchors.heads(history.connection, T0)
    assert [(a.chain, a.id) for a in heads] == [("agent_journal", 3)]
    assert anchors.check(history.connection, heads) == []


def test_two_writers_keep_one_valid_chain(db: Target) -> None:
    """Two stores (two connections, as two processes) append at once: one chain."""
    History.open(db).close()
    stores = [History.open(db), History.open(db)]
    errors: list[BaseException] = []

    def write(store: History, who: str) -> None:
        try:
            for n in range(40):
                store.append_journal([AgentChange(T0 + n, who, "pause", "q"),
                                      AgentChange(T0 + n, who, "unpause", "q")])  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"a{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(stores[0].journal()) == 160
    assert stores[0].verify_journal() is None
    log = [AccessLog.open(db), AccessLog.open(db)]

    def access(store: AccessLog, who: str) -> None:
        for n in range(30):
            store.append(AccessEntry(T0 + n, who, "auditor", "show", "c1", "工单1"))

    threads = [threading.Thread(target=access, args=(s, f"u{i}")) for i, s in enumerate(log)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log[0].entries()) == 60
    assert log[0].verify() is None


def test_the_access_log_is_chained_and_append_only(db: Target) -> None:
    log = AccessLog.open(db)
    first = log.append(AccessEntry(T0, "auditor01", "auditor", "search", "物业", "工单1",
                                   '{"hits": 3}'))  # fmt: skip
    second = log.append(AccessEntry(T0 + 1, "auditor02", "auditor", "show", "c1", "工单2"))
    assert (first.id, second.id) == (1, 2)
    assert log.head() == (2, second.hash)
    assert [e.entry.user for e in log.entries(user="auditor02")] == ["auditor02"]
    assert [e.id for e in log.entries(since=T0 + 1)] == [2]
    assert [e.id for e in log.entries(limit=1, offset=1)] == [2]
    assert [e.id for e in log.entries(offset=1)] == [2]
    assert log.verify() is None
    refuses(db, log.connection, "UPDATE access_log SET purpose = 'x'")
    refuses(db, log.connection, "DELETE FROM access_log")
    if is_pg(db):
        refuses(db, log.connection, "TRUNCATE access_log")


def test_orders_and_their_chained_journal(db: Target) -> None:
    store = OrderStore.open(db)
    centre = Actor("banzhang01", Side.CENTRE)

    def create(order_id: str) -> Entry:
        return Entry(order=order_id, t=T0, user="wangfang", side=Side.INTAKE,
                     action=Action.CREATE, before=None, after=State.RECEIVED, text="树枝压电线",
                     phone="13812345678", type=OrderType.COMPLAINT, category="绿化")  # fmt: skip

    first = store.create(create, day="20261028")
    second = store.create(create, day="20261028")
    assert (first.id, second.id) == ("20261028-0001", "20261028-0002")
    sent = step(
        first, Step(Action.DISPATCH, centre, T0 + 1, department="greening", deadline=T0 + 9)
    )
    store.append([sent], {first.id: 1})
    with pytest.raises(OrderError, match="changed meanwhile"):
        store.append([sent], {first.id: 1})  # decided on the order before the dispatch
    order = store.order(first.id)
    assert (order.state, order.department, order.deadline) == (State.DISPATCHED, "greening", T0 + 9)
    assert store.timeline(first.id)[0].phone == "13812345678"
    assert store.ids(state="派单") == [first.id]
    assert store.ids(department="greening") == [first.id]
    assert set(store.timelines()) == {first.id, second.id}
    assert store.verify() is None
    assert store.head() is not None
    # what a follower of the journal reads: each row with its number in its order's timeline
    assert [(i, n, e.order, e.action) for i, n, e in store.since(0)] == [
        (1, 1, first.id, Action.CREATE), (2, 1, second.id, Action.CREATE),
        (3, 2, first.id, Action.DISPATCH)]  # fmt: skip
    assert [i for i, _, _ in store.since(1, limit=1)] == [2]
    assert store.since(3) == []
    refuses(db, store.connection, "UPDATE order_journal SET t = t + 1 WHERE id = 2")
    refuses(db, store.connection, "DELETE FROM order_journal WHERE id = 3")
    if is_pg(db):
        refuses(db, store.connection, "TRUNCATE order_journal")
    heads = anchors.heads(store.connection, T0)
    assert ("order_journal", 3) in [(a.chain, a.id) for a in heads]


def test_orders_searched_with_their_calls_transcripts(db: Target) -> None:
    """Both engines find the same orders and linked transcripts, exactly those whose text
    matches by the definition (Query.matches), each hit saying where it was found."""
    from hotline.casework.desk import Desk
    from hotline.orders.text import parts, searchable
    from hotline.stores.order_search import OrderSearch, Source
    from tests.unit.orders.test_seeds import AGENT, CENTER, CENTRE, GREENING

    store, transcripts = OrderStore.open(db), TranscriptStore.open(db)
    desk = Desk(store, CENTER.orders)
    contents = ["树枝压电线，很危险", "小区停水三天 water", "夜间施工噪音扰民", "3号楼 电梯 坏了",
                "噪", "Noise from 物业"]  # fmt: skip
    ids = []
    for i, content in enumerate(contents):
        made = desk.create(AGENT, OrderType.COMPLAINT, "绿化" if i % 2 else "住建", content,
                           now=T0 + i, place=f"和平路{i}号", call_id=f"call-{i}").order  # fmt: skip
        ids.append(made.id)
    desk.dispatch(CENTRE, ids[0], "greening", now=T0 + 10)
    desk.act(GREENING, ids[0], Step(Action.SIGN, GREENING, T0 + 11))
    desk.act(GREENING, ids[0], Step(Action.REPLY, GREENING, T0 + 12, text="已修剪 树枝",
                                    contact="电话"))  # fmt: skip
    for i, text in enumerate(TEXTS):  # calls 0-5 are linked to an order, 6-7 are not
        transcripts.save(Transcript(f"call-{i}", Leg.CALLER, "whisper", "small", "zh", text,
                                    t_done=T0 + i))  # fmt: skip
    found = OrderSearch(store, transcripts)
    texts = {o: searchable(parts(store.order(o), store.timeline(o))) for o in ids}
    for query in ["树枝", "噪", "噪音", "物业 噪音", "noise", "3号楼", "修剪", "和平路", "绿化",
                  "12345", "water", "化和", "", "。"]:  # fmt: skip
        q = parse_query(query)
        hits = found.search(query, limit=100)
        want_orders = [o for o in reversed(ids) if q.matches(texts[o])]
        want_calls = [f"call-{i}" for i in reversed(range(6)) if q.matches(TEXTS[i])]
        assert [h.orders[0] for h in hits if h.source is Source.ORDER] == want_orders, query
        assert [h.call.call_id for h in hits if h.call is not None] == want_calls, query
        assert found.count(query) == (len(want_orders), len(want_calls)), query
        for h in hits:
            if h.source is Source.TRANSCRIPT:
                assert h.orders == (ids[int(h.call.call_id[-1])],)  # type: ignore[union-attr]
    assert [h.field for h in found.search("修剪")] == ["reply"]
    assert [h.field for h in found.search("和平路3号")] == ["place"]
    assert found.search("12345") == []  # said on a call linked to no order
    # an order's text follows its steps; the index follows the text
    desk.act(GREENING, ids[0], Step(Action.FINISH, GREENING, T0 + 13, text="现场照片 已处理"))
    assert [h.field for h in found.search("现场照片")] == ["evidence"]
    store.close()
    transcripts.close()


# -- transcripts and their search -------------------------------------------------------

TEXTS = [
    "您好 物业 噪音 问题 楼上 装修",
    "物业噪音很大，晚上十点还在施工",
    "我住在3号楼 请问 noise complaint",
    "Noises from the BUILDING 3 楼号楼",
    "工资 拖欠 三个月 了",
    "噪",
    "请问12345能办什么事",
    "ＡＢＣ full width 物业费",
]


def transcript(call_id: str, leg: Leg, text: str, t_done: int) -> Transcript:
    return Transcript(call_id, leg, "vosk", "m", "zh", text,
                      (Word(text.split()[0] if text.split() else "", 100, 400, 0.9),),
                      1000, "ab" * 32, t_done)  # fmt: skip


@pytest.fixture
def searched(db: Target) -> TranscriptStore:
    history = History.open(db)
    history.save_calls([
        answered(f"c{i}", t_arrival=T0 + i * DAY_MS, agent=f"a{i % 2}",
                 caller=f"1380000000{i % 3}", visits=(QueueVisit(("labour", "property")[i % 2],
                                                                T0 + i * DAY_MS),))
        for i in range(len(TEXTS))
    ])  # fmt: skip
    store = TranscriptStore.open(db)
    for i, text in enumerate(TEXTS):
        store.save(transcript(f"c{i}", Leg.CALLER, text, T0 + i))
        store.save(transcript(f"c{i}", Leg.AGENT, "您好，12345", T0 + i))
    store.save(transcript("c0", Leg.CALLER, TEXTS[0], T0))  # delivered twice
    return store


QUERIES = ["噪", "物", "业噪", "物业", "物业噪音", "噪音很大", "楼", "3号楼", "楼3", "noise",
           "NOISE", "noises", "3", "12345", "abc", "物业 noise", "工资 拖欠", "号楼 3",
           "不存在", "，", "您好"]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_search_is_exact_for_any_length(searched: TranscriptStore, query: str) -> None:
    q = parse_query(query)
    expected = sorted(
        (t.call_id, t.leg.value)
        for i in range(len(TEXTS))
        for t in searched.get(f"c{i}")
        if q.matches(t.text)
    )
    hits = searched.search(query, limit=100)
    assert sorted((h.call_id, h.leg.value) for h in hits) == expected
    assert searched.search_count(query) == len(expected)
    for hit in hits:
        assert hit.marks  # the highlighter finds what the index found


def test_search_filters_order_and_pages(searched: TranscriptStore) -> None:
    def ids(query: str, **filters: object) -> list[str]:
        f = SearchFilters(**filters)  # type: ignore[arg-type]
        return [f"{h.call_id}/{h.leg.value}" for h in searched.search(query, f, limit=100)]

    assert ids("您好", leg=Leg.CALLER) == ["c0/rx"]
    assert ids("12345", leg=Leg.AGENT)[:2] == ["c7/tx", "c6/tx"]  # newest stored first
    assert ids("物业", queue="labour") == ["c0/rx"]
    assert ids("物业", queue="property") == ["c7/rx", "c1/rx"]
    assert ids("物业", agent="a1") == ["c7/rx", "c1/rx"]
    assert ids("物业", caller="13800000001") == ["c7/rx", "c1/rx"]
    assert ids("", since_ms=T0 + DAY_MS, until_ms=T0 + 2 * DAY_MS, leg=Leg.CALLER) == ["c1/rx"]
    assert ids("物业", since_ms=T0 + 5 * DAY_MS) == ["c7/rx"]
    page = searched.search("12345", limit=2, offset=1)
    assert [(h.call_id, h.leg) for h in page] == [("c6", Leg.AGENT), ("c6", Leg.CALLER)]
    assert searched.search_count("", SearchFilters(queue="labour")) == 8
    (hit,) = searched.search("楼上")
    assert (hit.queue, hit.agent, hit.caller) == ("labour", "a0", "13800000000")
    assert searched.delete("c0") == 2
    assert searched.search("楼上") == []


@pytest.mark.parametrize(
    ("query", "filters"),
    [("", SearchFilters()), ("12345", SearchFilters()), ("物业", SearchFilters(queue="property")),
     ("您好", SearchFilters(leg=Leg.AGENT)), ("12345", SearchFilters(since_ms=T0 + DAY_MS)),
     ("物业噪音", SearchFilters()), ("不存在", SearchFilters()), ("，", SearchFilters())],
)  # fmt: skip
def test_capped_total_is_exact_to_its_cap_then_more(
    searched: TranscriptStore, query: str, filters: SearchFilters
) -> None:
    n = searched.search_count(query, filters)
    assert searched.search_total(query, filters) == Total(n)  # far below COUNT_CAP
    assert searched.search_total(query, filters, cap=max(n, 1)) == Total(n)
    if n > 1:
        capped = searched.search_total(query, filters, cap=n - 1)
        assert capped == Total(n - 1, more=True)
        assert str(capped) == f"{n - 1:,}+"
    with pytest.raises(QueryError, match="cap 0"):
        searched.search_total(query, filters, cap=0)


def test_search_matches_a_brute_force_scan(db: Target) -> None:
    rng = random.Random(7)
    chars = "物业噪音楼上装修工资拖欠投诉水电"
    store = TranscriptStore.open(db)
    texts = {}
    for n in range(200):
        words = ["".join(rng.choice(chars) for _ in range(rng.randint(1, 6)))
                 for _ in range(rng.randint(1, 8))]  # fmt: skip
        text = rng.choice([" ", "", "，"]).join(words) + rng.choice(["", " noise", " 3号"])
        texts[f"r{n}"] = text
        store.save(transcript(f"r{n}", Leg.CALLER, text, T0 + n))
    for query in ["物", "业噪", "噪音楼", "楼上装修", "水电 投诉", "noise", "3号", "工资拖欠投诉"]:
        q = parse_query(query)
        want = sorted(k for k, v in texts.items() if q.matches(v))
        assert sorted(h.call_id for h in store.search(query, limit=1000)) == want, query
        assert store.search_count(query) == len(want)


# -- retention, integrity, metrics, accounts --------------------------------------------


def test_holds_disposals_and_their_chain(db: Target, tmp_path: Path) -> None:
    history = History.open(db)
    history.save_calls([
        CallRecord("c1", tag="inquiry", t_arrival=T0, t_end=T0 + 60_000),
        CallRecord("c2", tag="complaint", t_arrival=T0, t_end=T0 + 60_000),
    ])  # fmt: skip
    recordings = []
    for call in ("c1", "c2"):
        for leg in (Leg.CALLER, Leg.AGENT):
            path = tmp_path / f"{call}-{leg.value}.wav"
            path.write_bytes(f"RIFF {call} {leg.value}".encode())
            recordings.append(Recording(call, leg, str(path), path.stat().st_size, 1000,
                                        hashlib.sha256(path.read_bytes()).hexdigest()))  # fmt: skip
    history.save_recordings(recordings, at=T0 + 70_000)
    transcripts = TranscriptStore.open(db)
    for call in ("c1", "c2"):
        transcripts.save(transcript(call, Leg.CALLER, "物业 噪音", T0))
    store = RetentionStore.open(db)
    policy = RetentionPolicy(180, {"complaint": 730})
    assert [k.call_id for k in store.kept()] == ["c1", "c2"]
    assert sorted(store.kept()[0].files) == sorted(r.path for r in recordings[:2])
    store.hold("c1", by="纪检组", reason="信访 88", t=T0)
    with pytest.raises(RetentionError, match="already on hold"):
        store.hold("c1", by="纪检组", reason="again", t=T0)
    now = T0 + 800 * DAY_MS
    due, held = plan(policy, store.kept(), store.held(), now)
    assert [d.call_id for d in due] == ["c2"]
    assert [h.call_id for h in held] == ["c1"]
    assert store.dispose(due[0], by="test", t=now) is not None
    store.release("c1", by="纪检组", reason="结案", t=now)
    assert [a for a, _ in store.hold_history("c1")] == ["hold", "release"]
    due, _ = plan(policy, store.kept(), store.held(), now)
    (record,) = [store.dispose(d, by="test", t=now) for d in due]
    assert record is not None
    assert record.transcripts == 1
    assert [f.outcome for f in record.files] == ["deleted", "deleted"]
    assert [d.call_id for d in store.disposals()] == ["c2", "c1"]
    assert store.verify() is None
    assert store.kept() == []
    assert transcripts.search("物业") == []
    refuses(db, store.connection, "DELETE FROM disposals")
    refuses(db, store.connection, "UPDATE legal_holds SET reason = 'x'")
    if is_pg(db):
        refuses(db, store.connection, "TRUNCATE disposal_files")


def test_integrity_alerts(db: Target) -> None:
    alerts = IntegrityAlerts.open(db)
    m = Mismatch("c1", Leg.CALLER, "/r/c1-rx.wav", "aa" * 32, "bb" * 32, "changed")
    assert alerts.add(m, by="stt-worker", at=T0) == 1
    assert alerts.add(m, by="stt-worker", at=T0 + 1) == 2
    assert alerts.count() == 2
    assert [(a.id, a.mismatch, a.t_raised) for a in alerts.recent(1)] == [(2, m, T0 + 1)]


def test_metrics_params_are_append_only(db: Target) -> None:
    store = MetricsStore.open(db)
    assert store.note_registry(at=T0, by="hotline") is not None
    assert store.note_registry(at=T0 + 1, by="hotline") is None
    change_ = param_change(Params(), "threshold_s", "20", by="张三", why="市局口径",
                           at=T0 + 2, revision=REVISION)  # fmt: skip
    store.record(change_)
    assert store.changes()[-1] == change_
    refuses(db, store.connection, "DELETE FROM metrics_changes")


def test_the_rollup_equals_the_raw_computation(db: Target) -> None:
    rng = random.Random(5)
    rollup = Rollup.open(db)
    calls = random_calls(rng, 150, "c")
    rollup.history.save_calls(calls)
    rollup.history.append_journal(journal_for(calls, rng))
    params = Params()
    rollup.build(params)
    assert_equal(rollup, params)
    more = random_calls(rng, 40, "d")
    rollup.history.save_calls(more)
    rollup.history.append_journal(journal_for(more, rng))
    for row in rollup.history.callbacks()[:3]:
        rollup.history.complete_callback(row["call_id"], at=row["t_requested"] + 1, by="王芳")
    assert rollup.refresh() > 0
    assert_equal(rollup, params)
    assert rollup.report(params, by=GroupBy.QUEUE, since=START, until=START + DAY_MS,
                         agents=AgentData()) is not None  # fmt: skip


def test_accounts_and_sessions(db: Target) -> None:
    accounts = Accounts.open(db, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    user = accounts.add("banzhang01", "a long password", Role.SUPERVISOR, now=T0,
                        scope=Scope(teams=frozenset({"team-a"})))  # fmt: skip
    with pytest.raises(Exception, match="exists already"):
        accounts.add("banzhang01", "a long password", Role.SUPERVISOR, now=T0)
    assert accounts.verify("banzhang01", "a long password") == user
    assert accounts.verify("banzhang01", "wrong password") is None
    token, session = accounts.start_session(user, now=T0)
    assert accounts.session(token, now=T0 + 120_000) is not None
    accounts.set_disabled("banzhang01")
    assert accounts.session(token, now=T0 + 130_000) is None
    assert session.user == user


def test_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    from hotline.host.settings import ConfigError

    with pytest.raises(ConfigError, match="not 'mysql'"):
        History.open("mysql://db/hotline")
    with pytest.raises(ConfigError, match="lost its '//'"):
        History.open(Path("postgresql://db/hotline"))
    assert not (tmp_path / "postgresql:").exists()


# -- moving a site ------------------------------------------------------------------------


def fill(db: Target, tmp_path: Path) -> None:
    """A site with a row in every store (calls, journal, transcripts, the chains, ...)."""
    rng = random.Random(11)
    rollup = Rollup.open(db)
    calls = random_calls(rng, 60, "c")
    rollup.history.save_calls(calls)
    rollup.history.append_journal(journal_for(calls, rng))
    rollup.build(Params())
    rollup.history.save_alerts([{"id": "a1", "rule": "r", "agent": "王芳", "team": "t",
                                 "severity": "warn", "start": T0, "end": None,
                                 "t_raised": T0, "state": "open"}])  # fmt: skip
    rollup.history.save_twilio_events([TwilioEvent("CA" + "3" * 32, "entry", T0, {"open": "1"})])
    transcripts = TranscriptStore.open(db)
    for i, text in enumerate(TEXTS):
        transcripts.save(transcript(calls[i].call_id, Leg.CALLER, text, T0 + i))
    path = tmp_path / "x-rx.wav"
    path.write_bytes(b"RIFF")
    digest = hashlib.sha256(b"RIFF").hexdigest()
    rollup.history.save_recordings(
        [Recording(calls[0].call_id, Leg.CALLER, str(path), 4, 10, digest)], at=T0
    )
    log = AccessLog.open(db)
    for n in range(5):
        log.append(AccessEntry(T0 + n, "auditor01", "auditor", "search", "物业", "工单1"))
    retention = RetentionStore.open(db)
    retention.hold(calls[1].call_id, by="纪检组", reason="信访", t=T0)
    due, _ = plan(RetentionPolicy(1, {}), retention.kept(), retention.held(), T0 + 900 * DAY_MS)
    for d in due[:3]:
        retention.dispose(d, by="test", t=T0 + 900 * DAY_MS)
    IntegrityAlerts.open(db).add(Mismatch("c1", Leg.CALLER, "/p", "a", "b", "changed"),
                                 by="w", at=T0)  # fmt: skip
    MetricsStore.open(db).note_registry(at=T0, by="hotline")
    accounts = Accounts.open(db, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    accounts.add("admin01", "a long password", Role.ADMIN, now=T0)
    qa = QaStore.open(db)
    first = qa.add_score(qa_score(calls[0].call_id, 0.0), QA_FORM)
    appeal = qa.open_appeal(first, by="王芳", reason="并非推诿", at=T0)
    qa.settle(appeal, by="质检B", at=T0 + 1, revised=qa_score(calls[0].call_id, 80.0, "质检B"),
              form=QA_FORM)  # fmt: skip
    flag = {"rule": "talk_over", "item": "", "speaker": "agent", "start": 1.5, "end": 4.0,
            "text": "知道了", "detail": "overlap 2.5 s"}  # fmt: skip
    qa.save_flags(calls[0].call_id, "王芳", "team-a", T0, [flag])
    qa.save_sample("2026-W49", [Pick(calls[0].call_id, "王芳", "flagged")], seed=1, at=T0)
    from hotline.recall.rules import RecallRules
    from hotline.recall.tasks import Outcome
    from hotline.stores.recall import RecallStore
    from tests.unit.recall.scene import MORNING

    rollup.history.save_calls(MORNING)
    recall = RecallStore.open(db)
    recall.sync(rollup.history, RecallRules(), now=MORNING[-1].t_end + 1)  # type: ignore[operator]
    task = next(t for t in recall.tasks() if t.open)
    recall.attempt(task.id, Outcome.BUSY, agent="王芳", t_start=T0, t_end=T0 + 1,
                   rules=RecallRules())  # fmt: skip
    OrderStore.open(db).create(
        lambda order_id: Entry(order=order_id, t=T0, user="wangfang", side=Side.INTAKE,
                               action=Action.CREATE, before=None, after=State.RECEIVED,
                               text="停水", type=OrderType.HELP, category="供水",
                               call_id=calls[1].call_id),
        day="20261028",
    )  # fmt: skip
    kb = KbStore.open(db)
    answer = kb.add(Content("供水", "停水通知", "计划停水提前24小时通知"), user="banzhang01", t=T0)
    kb.edit(answer.id, Content("供水", "停水通知", "计划停水提前48小时通知"), user="admin01",
            t=T0 + 1)  # fmt: skip
    kb.link(answer.id, "order", "20261028-0001", user="wangfang", t=T0 + 2)


def test_a_site_moves_from_sqlite_to_postgresql(tmp_path: Path, pg_server: PgServer) -> None:
    from hotline.stores.move import CopyError, copy_database

    source, target = tmp_path / "h.sqlite3", pg_server.create("move")
    fill(source, tmp_path)
    report = copy_database(f"sqlite://{source}", target, extra=(Accounts,))
    assert report.rows["transcripts"] == len(TEXTS) - 3  # 3 disposed
    assert report.rows["disposals"] == 3
    assert (report.rows["kb_versions"], report.rows["kb_links"]) == (2, 1)
    assert {a.chain for a in report.heads} == {
        "agent_journal", "access_log", "disposals", "order_journal", "kb_versions", "kb_links",
    }  # fmt: skip
    assert OrderStore.open(target).timelines() == OrderStore.open(source).timelines()
    assert OrderStore.open(target).verify() is None
    kb_before, kb_after = KbStore.open(source), KbStore.open(target)
    assert kb_after.answers() == kb_before.answers()
    assert kb_after.uses() == kb_before.uses()
    for query in ["停水", "48", "24小时", ""]:
        assert kb_after.search(query, every_version=True) == kb_before.search(
            query, every_version=True
        )
    assert [h.version.n for h in kb_after.search("48小时")] == [2]
    assert kb_after.add(Content("供水", "t", "x"), user="u", t=T0).id == 2  # after the copy
    # the copy reads like the source
    for a, b in [(History.open(source), History.open(target))]:
        assert a.calls() == b.calls()
        assert a.journal() == b.journal()
        assert a.callbacks() == b.callbacks()
        assert a.alerts() == b.alerts()
    before, after = TranscriptStore.open(source), TranscriptStore.open(target)
    for query in ["物业", "噪", "3号楼", "noise", ""]:
        assert before.search(query) == after.search(query)
    from hotline.stores.order_search import OrderSearch, Source

    orders_before = OrderSearch(OrderStore.open(source), before)
    orders_after = OrderSearch(OrderStore.open(target), after)
    for query in ["停水", "供水", "物业", "噪", "施工", ""]:
        assert orders_after.search(query) == orders_before.search(query)
        assert orders_after.count(query) == orders_before.count(query)
    # the held call's transcript, linked to the order
    assert [(h.source, h.orders) for h in orders_after.search("施工")] == [
        (Source.TRANSCRIPT, ("20261028-0001",))
    ]
    assert [(h.source, h.field) for h in orders_after.search("停水")] == [
        (Source.ORDER, "content")]  # fmt: skip
    assert RetentionStore.open(source).disposals() == RetentionStore.open(target).disposals()
    assert RetentionStore.open(target).held().keys() == {"c1"}
    assert Accounts.open(target).user("admin01") is not None
    assert Rollup.open(target).built(Params())
    from hotline.stores.recall import RecallStore

    recall_before, recall_after = RecallStore.open(source), RecallStore.open(target)
    assert recall_before.tasks() == recall_after.tasks()
    assert len(recall_after.tasks()) >= 2  # the random calls owe some too
    assert [recall_before.attempts(t.id) for t in recall_before.tasks()] == [
        recall_after.attempts(t.id) for t in recall_after.tasks()
    ]
    assert sum(len(recall_after.attempts(t.id)) for t in recall_after.tasks()) == 1
    qa_before, qa_after = QaStore.open(source), QaStore.open(target)
    assert qa_before.effective_scores() == qa_after.effective_scores()
    assert qa_before.appeals() == qa_after.appeals()
    assert qa_before.flags() == qa_after.flags()
    assert qa_after.sample("2026-W49") == qa_before.sample("2026-W49")
    assert qa_after.add_score(qa_score("new", 50.0), QA_FORM) == 3  # after the two copied
    # new rows follow the copied ones, on every chain
    moved = AccessLog.open(target)
    assert moved.append(AccessEntry(T0 + 9, "u", "auditor", "show", "c1", "工单")).id == 6
    assert moved.verify() is None
    History.open(target).append_journal([change(99)])
    assert History.open(target).verify_journal() is None
    with pytest.raises(CopyError, match="holds rows already"):
        copy_database(source, target, extra=(Accounts,))
    with pytest.raises(CopyError, match="no store given for web_users, web_sessions"):
        copy_database(source, pg_server.create("move"))


def test_hotline_db_migrate_moves_a_site_and_refuses_a_second_time(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline.cli.main import main

    source, target = tmp_path / "h.sqlite3", pg_server.create("cli")
    fill(source, tmp_path)
    assert main(["db", "migrate", "--from", str(source), "--to", target]) == 0
    out = capsys.readouterr().out
    assert "chain heads equal" in out
    assert History.open(source).calls() == History.open(target).calls()
    # a target that holds rows is refused, and so is a scheme hotline does not serve
    assert main(["db", "migrate", "--from", str(source), "--to", target]) == 1
    assert "holds rows already" in capsys.readouterr().err
    assert main(["db", "migrate", "--from", str(source), "--to", "mysql://x/y"]) == 2
    assert "not 'mysql'" in capsys.readouterr().err


# -- recall ---------------------------------------------------------------------------------


def test_recall_tasks_follow_the_calls_and_the_attempts(db: Target) -> None:
    from hotline.recall.rules import RecallRules
    from hotline.recall.tasks import Origin, Outcome, State
    from hotline.stores.recall import RecallError, RecallStore
    from tests.unit.recall.scene import MORNING, T0, A, B, call

    rules = RecallRules(attempts=2, retry_ms=(600_000,))
    history = History.open(db)
    store = RecallStore.open(db)
    history.save_calls(MORNING[:6])  # A has not got through yet
    assert store.sync(history, rules, now=T0 + 800_000) == {
        "new": 2, "folded": 1, "got_through": 0, "expired": 0
    }  # fmt: skip
    a, b = store.tasks(State.OPEN)
    assert (a.number, a.calls, a.origin, a.queue) == (A, ("m1", "m2"), Origin.MISSED, "intake")
    assert a.deadline == rules.deadline(MORNING[0].t_end)  # type: ignore[arg-type]
    assert (b.number, b.calls, b.queue) == (B, ("m3",), "labour")
    # a second sync over the same calls changes nothing; A's answered call closes A's task
    history.save_calls(MORNING)
    assert store.sync(history, rules, now=T0 + 1_000_000)["got_through"] == 1
    assert store.sync(history, rules, now=T0 + 1_000_001) == dict.fromkeys(
        ("new", "folded", "got_through", "expired"), 0
    )
    got = store.task(a.id)
    assert got is not None
    assert (got.state, got.outcome, got.closed_by) == (State.DONE, Outcome.GOT_THROUGH, "m7")
    # B: busy, then no answer: both attempts used
    t = store.attempt(b.id, Outcome.BUSY, agent="王芳", t_start=T0 + 1_100_000,
                      t_end=T0 + 1_110_000, rules=rules, cause="17", call_id="o1")  # fmt: skip
    assert (t.state, t.attempts, t.t_next) == (State.OPEN, 1, T0 + 1_710_000)
    t = store.attempt(b.id, Outcome.NO_ANSWER, agent="李娜", t_start=T0 + 1_800_000,
                      t_end=T0 + 1_845_000, rules=rules, cause="19")  # fmt: skip
    assert (t.state, t.outcome) == (State.EXPIRED, Outcome.ATTEMPTS_USED)
    assert [(x.n, x.agent, x.outcome) for x in store.attempts(b.id)] == [
        (1, "王芳", Outcome.BUSY), (2, "李娜", Outcome.NO_ANSWER)
    ]  # fmt: skip
    with pytest.raises(RecallError, match="expired already"):
        store.close_by_hand(b.id, by="王芳", at=T0 + 1_900_000)
    with pytest.raises(RecallError, match="no recall task 99"):
        store.attempt(99, Outcome.BUSY, agent="x", t_start=0, t_end=0, rules=rules)
    # B misses again: a new task (the old one is closed); it expires long past its deadline
    history.save_calls([call("m8", B, T0 + 2_000_000, 30_000, MORNING[0].end_reason)])  # type: ignore[arg-type]
    assert store.sync(history, rules, now=T0 + 2_100_000)["new"] == 1
    (again,) = store.tasks(State.OPEN)
    by_hand = store.close_by_hand(again.id, by="王芳", at=T0 + 2_200_000)
    assert (by_hand.state, by_hand.outcome) == (State.DONE, Outcome.BY_HAND)
    history.save_calls([call("m9", A, T0 + 3_000_000, 30_000, MORNING[0].end_reason)])  # type: ignore[arg-type]
    late = T0 + 3_100_000 + rules.give_up_ms + 3_600_000
    assert store.sync(history, rules, now=late)["expired"] == 1
    assert [t.outcome for t in store.tasks(State.EXPIRED)] == [
        Outcome.ATTEMPTS_USED, Outcome.GAVE_UP
    ]  # fmt: skip
    assert RecallStore.open(db).migrate_component() == 1
    store.close()
    history.close()


# -- quality inspection (scores, appeals, flags, samples) -----------------------------------

QA_FORM = Form("service", "服务", 1, (Item("greeting", "问候", 10), Item("accuracy", "准确", 30),
                                      Item("dismissive", "推诿", 0, critical=True)))  # fmt: skip


def qa_score(call_id: str, total: float, reviewer: str = "质检A", t: int = T0) -> Score:
    failed = ("dismissive",) if total == 0 else ()
    return Score(call_id, "王芳", "team-a", T0, reviewer, t, total, failed,
                 {"greeting": 10, "accuracy": 20, "dismissive": 0}, "")  # fmt: skip


def test_qa_scores_appeals_and_form_versions(db: Target) -> None:
    store = QaStore.open(db)
    first = store.add_score(qa_score("c1", 0.0), QA_FORM)
    assert store.score(first).score == qa_score("c1", 0.0)  # type: ignore[union-attr]
    with pytest.raises(QaStoreError, match="scored by service already"):
        store.add_score(qa_score("c1", 50.0), QA_FORM)
    changed = Form("service", "服务", 1, (Item("greeting", "问候", 5),))
    with pytest.raises(QaStoreError, match="give it a new version"):
        store.add_score(qa_score("c2", 50.0), changed)
    assert store.form("service", 1) == QA_FORM
    # the agent appeals; only the agent, once at a time
    with pytest.raises(QaStoreError, match="王芳's"):
        store.open_appeal(first, by="李娜", reason="x", at=T0 + 1)
    appeal = store.open_appeal(first, by="王芳", reason="我没有推诿", at=T0 + 1)
    with pytest.raises(QaStoreError, match="open appeal already"):
        store.open_appeal(first, by="王芳", reason="again", at=T0 + 2)
    with pytest.raises(QaStoreError, match="a second reviewer"):
        store.settle(appeal, by="质检A", at=T0 + 3)
    settled = store.settle(appeal, by="质检B", at=T0 + 3, decision="录音显示已转办",
                           revised=qa_score("c1", 75.0, "质检B", T0 + 3), form=QA_FORM)  # fmt: skip
    assert (settled.state, settled.settled_by) == ("revised", "质检B")
    assert settled.new_score is not None
    with pytest.raises(QaStoreError, match="settled already"):
        store.settle(appeal, by="质检C", at=T0 + 4)
    (effective,) = store.effective_scores()
    assert (effective.id, effective.score.total, effective.replaces) == (
        settled.new_score,
        75.0,
        first,
    )
    assert [s.superseded_by for s in store.scores("c1")] == [settled.new_score, None]
    with pytest.raises(QaStoreError, match="was replaced"):
        store.open_appeal(first, by="王芳", reason="x", at=T0 + 5)
    # an upheld appeal leaves the score
    second = store.add_score(qa_score("c2", 50.0), QA_FORM)
    upheld = store.settle(store.open_appeal(second, by="王芳", reason="?", at=T0 + 6),
                          by="质检B", at=T0 + 7)  # fmt: skip
    assert (upheld.state, upheld.new_score) == ("upheld", None)
    assert [a.state for a in store.appeals()] == ["revised", "upheld"]
    assert store.appeals(state="open") == []
    assert [r.total for r in store.score_rows()] == [75.0, 50.0]
    assert store.effective_scores(since=T0 + 1) == []
    # the agent's own page: theirs only, newest first, superseded ones too
    assert [s.score.call_id for s in store.scores_of("王芳")] == ["c2", "c1", "c1"]
    assert store.scores_of("李娜") == []
    store.close()
    assert QaStore.open(db).migrate_component() == 1


def test_qa_flags_and_samples_replace_per_call_and_week(db: Target) -> None:
    store = QaStore.open(db)
    doc = {"rule": "forbidden_phrase", "item": "dismissive", "speaker": "agent", "start": 9.4,
           "end": 10.5, "text": "不归我们管", "detail": ""}  # fmt: skip
    assert store.save_flags("c1", "王芳", "team-a", T0, [doc, {**doc, "rule": "talk_over"}]) == 2
    store.save_flags("c1", "王芳", "team-a", T0, [doc])  # found again: replaced
    store.save_flags(
        "c2", "李娜", "team-a", T0 + 5, [{**doc, "text": "你自己去问", "speaker": None}]
    )
    assert [(f["call_id"], f["start_ms"], f["text"]) for f in store.flags()] == [
        ("c1", 9400, "不归我们管"), ("c2", 9400, "你自己去问")]  # fmt: skip
    assert [f["call_id"] for f in store.flags(text="自己")] == ["c2"]
    assert [f["call_id"] for f in store.flags(agent="王芳", rule="forbidden_phrase")] == ["c1"]
    assert store.flags(since=T0 + 6) == []
    assert [r.call_id for r in store.flag_rows()] == ["c1", "c2"]
    assert [(f["rule"], f["text"]) for f in store.flags_of("c1")] == [
        ("forbidden_phrase", "不归我们管")]  # fmt: skip
    assert store.flags_of("c9") == []
    # retention disposes of c1's transcripts: its flags keep rule and time, not the words
    TranscriptStore.open(db).save(transcript("c1", Leg.CALLER, "这个不归我们管", T0))
    kept = Kept("c1", "", T0, (), 1)
    assert RetentionStore.open(db).dispose(Due(kept, 1, T0 + DAY_MS), by="t", t=T0 + 2 * DAY_MS)
    (gone,) = store.flags(agent="王芳")
    assert (gone["rule"], gone["start_ms"], gone["text"], gone["detail"]) == (
        "forbidden_phrase", 9400, "", "")  # fmt: skip
    assert store.flags(agent="李娜")[0]["text"] == "你自己去问"
    picks = [Pick("c1", "王芳", "flagged"), Pick("c3", "王芳", "share")]
    assert store.save_sample("2026-W49", picks, seed=7, at=T0) == 2
    store.save_sample("2026-W49", picks[:1], seed=8, at=T0)
    assert store.sample("2026-W49") == picks[:1]
    assert store.sample("2026-W50") == []
    store.close()


# -- the knowledge base ---------------------------------------------------------------------


def test_kb_answers_versions_links_and_their_append_only_rows(db: Target) -> None:
    from dataclasses import replace as changed

    store = KbStore.open(db)
    text = "携带身份证到社保卡服务网点补卡，一般7个工作日内制卡完成。"
    c = Content("社保", "社保卡补办流程", text,
                tags=("社保卡",), serves=("social-insurance",), valid_from=T0)  # fmt: skip
    a = store.add(c, user="banzhang01", t=T0)
    assert (a.id, a.current.n, a.current.change) == (1, 1, "new answer")
    b = store.edit(a.id, changed(c, text=c.text.replace("7个", "15个")), user="admin01",
                   t=T0 + 5, seen=1)  # fmt: skip
    assert [v.n for v in b.versions] == [1, 2]
    assert b.current.change.startswith("text: +2 −1 characters in 1 place")
    assert store.answer(a.id) == b
    assert store.answers() == [b]
    assert store.answers("社保") == [b]
    assert store.answers("欠薪") == []
    with pytest.raises(KbError, match="at version 2, the edit was made on version 1"):
        store.edit(a.id, changed(c, title="x"), user="admin01", t=T0 + 6, seen=1)
    with pytest.raises(KbError, match="changes nothing"):
        store.edit(a.id, b.content, user="admin01", t=T0 + 6)
    with pytest.raises(KbError, match="no answer 9"):
        store.edit(9, c, user="admin01", t=T0 + 6)
    with pytest.raises(KbError, match="needs a title"):
        store.add(changed(c, title=""), user="admin01", t=T0)
    # links: the current version by default, an older one when named; once per target
    first = store.link(a.id, "call", "1796000000.1", user="wangfang", t=T0 + 7)
    assert (first.id, first.version, first.user) == (1, 2, "wangfang")
    assert store.link(a.id, "call", "1796000000.1", user="lina", t=T0 + 8) == first
    old = store.link(a.id, "order", "20261201-0001", user="wangfang", t=T0 + 9, version=1)
    assert old.version == 1
    assert store.links(answer=a.id) == [first, old]
    assert store.links(kind="order", target="20261201-0001") == [old]
    uses = store.uses()
    assert [(link, v.n, v.content.text) for link, v in uses] == [
        (first, 2, text.replace("7个", "15个")), (old, 1, text),
    ]  # fmt: skip
    assert store.uses(since=T0 + 8) == uses[1:]
    for bad, says in [("visit", "not 'visit'"), ("call", "which call")]:
        with pytest.raises(KbError, match=says):
            store.link(a.id, bad, "" if bad == "call" else "x", user="u", t=T0)
    with pytest.raises(KbError, match="no version 5"):
        store.link(a.id, "call", "x", user="u", t=T0, version=5)
    # versions and links are never changed nor deleted
    for sql in ["UPDATE kb_versions SET text = 'x'", "DELETE FROM kb_versions",
                "UPDATE kb_links SET linked_by = 'x'", "DELETE FROM kb_links"]:  # fmt: skip
        refuses(db, store.connection, sql)
    if is_pg(db):
        refuses(db, store.connection, "TRUNCATE kb_links")
    # both are hash chains: intact, anchored, and an edit behind the triggers' back is seen
    assert store.verify() == {"kb_versions": None, "kb_links": None}
    heads = {a.chain: a.id for a in anchors.heads(store.connection, T0)}
    assert (heads["kb_versions"], heads["kb_links"]) == (2, old.id)
    assert KbStore.open(db).migrate_component() == 1  # idempotent
    if not is_pg(db):
        store.connection.execute("DROP TRIGGER kb_links_no_update")
        store.connection.execute("UPDATE kb_links SET linked_by = 'lina' WHERE id = 1")
        assert store.verify() == {"kb_versions": None, "kb_links": 1}


KB = [
    ("欠薪", "农民工工资被拖欠怎么办", "可向劳动保障监察大队投诉，5个工作日内联系您。"),
    ("欠薪", "申请劳动仲裁的条件", "劳动争议申请仲裁的时效期间为一年。"),
    ("物业", "物业服务投诉", "小区物业乱收物业费，可向住建局物业科投诉。"),
    ("噪声", "夜间施工噪声扰民", "夜间22点至次日6点禁止施工作业 noise"),
    ("供水", "停水通知查询", "计划停水提前24小时通知。突发停水请拨打96116。"),
]


def test_kb_search_is_the_transcripts_search_on_the_current_versions(db: Target) -> None:
    from dataclasses import replace as changed

    store = KbStore.open(db)
    for category, title, text in KB:
        store.add(Content(category, title, text), user="banzhang01", t=T0)
    searchable = {a.id: a.content.searchable() for a in store.answers()}
    for query in ["投诉", "物", "业费", "劳动仲裁", "仲裁 一年", "noise", "NOISE", "96116",
                  "9611", "欠薪", "不存在", "，", "通知。突发"]:  # fmt: skip
        q = parse_query(query)
        want = sorted(i for i, text in searchable.items() if q.matches(text))
        assert sorted(h.version.answer for h in store.search(query)) == want, query
    # a term in the title ranks first; the snippet marks the match
    hits = store.search("投诉")
    assert [h.version.answer for h in hits] == [3, 1]
    assert hits[0].in_title
    assert [hits[1].snippet[a:b] for a, b in hits[1].marks] == ["投诉"]
    assert [h.version.answer for h in store.search("投诉", category="欠薪")] == [1]
    assert len(store.search("")) == 5
    assert [h.version.answer for h in store.search("", limit=2, offset=1)] == [2, 3]
    # fields are apart: no match across the title and the text
    assert store.search("怎么办可向") == []
    # an edit: the new text is found, the old one only among every version
    a = store.answers()[0]
    store.edit(a.id, changed(a.content, text="请向劳动监察投诉，15个工作日内答复。"),
               user="banzhang01", t=T0 + 1)  # fmt: skip
    assert store.search("5个工作日内联系") == []
    (old,) = store.search("5个工作日内联系", every_version=True)
    assert (old.version.answer, old.version.n) == (1, 1)
    assert [h.version.n for h in store.search("15个工作日")] == [2]
