"""Transcript search in SQLite: the index against a brute-force scan (1- and 2-character
Chinese, English words), filters joined to the history, pagination, hostile queries, the
migration from the first transcripts schema, and the index kept in step with the rows."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.records import CallRecord, QueueVisit
from hotline.recordings.leg import Leg
from hotline.stores import schema, search_plan
from hotline.stores.history import History
from hotline.stores.transcripts import MIGRATIONS, SearchFilters, TranscriptStore
from hotline.transcripts.fulltext import QueryError, grams, parse_query
from hotline.transcripts.redact import PiiKind
from hotline.transcripts.transcript import Transcript, Word

T0 = 1_795_463_379_000
HAN = "物业噪音小区楼的了"


def leg(
    call_id: str, text: str, which: Leg = Leg.CALLER, words: tuple[Word, ...] = ()
) -> Transcript:
    return Transcript(call_id, which, "vosk", "m", "zh", text, words, 1000, "ab" * 32, T0)


def ids(store: TranscriptStore, query: str, filters: SearchFilters = SearchFilters()) -> set[str]:  # noqa: B008
    hits = store.search(query, filters, limit=1000)
    assert store.search_count(query, filters) == len(hits)
    return {f"{h.call_id}/{h.leg.value}" for h in hits}


@pytest.fixture
def store() -> TranscriptStore:
    return TranscriptStore.open(":memory:")


# -- the index against a brute-force scan -------------------------------------------------

corpora = st.lists(st.text(alphabet=HAN + " ，", min_size=0, max_size=30), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora, st.text(alphabet=HAN, min_size=1, max_size=2))
def test_one_and_two_character_chinese_finds_exactly_what_a_scan_finds(
    docs: list[str], query: str
) -> None:
    store = TranscriptStore.open(":memory:")
    store.save_many(leg(f"c{i}", text) for i, text in enumerate(docs))
    # brute force: the query as a substring, the spaces between Chinese words ignored
    expected = {f"c{i}/rx" for i, text in enumerate(docs) if query in text.replace(" ", "")}
    assert ids(store, query) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora, st.text(alphabet=HAN, min_size=3, max_size=6))
def test_longer_chinese_finds_exactly_what_a_scan_finds(docs: list[str], query: str) -> None:
    store = TranscriptStore.open(":memory:")
    store.save_many(leg(f"c{i}", text) for i, text in enumerate(docs))
    expected = {f"c{i}/rx" for i, text in enumerate(docs) if query in text.replace(" ", "")}
    assert ids(store, query) == expected


WORDS = ["noise", "Noise", "NOISE", "noises", "no", "elevator", "物业", "3号楼", "12345"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join), min_size=1, max_size=20),
    st.sampled_from(["noise", "NOISE", "no", "elevator", "12345"]),
)
def test_english_words_whole_and_case_insensitive_like_a_scan(docs: list[str], word: str) -> None:
    store = TranscriptStore.open(":memory:")
    store.save_many(leg(f"c{i}", text) for i, text in enumerate(docs))
    expected = {
        f"c{i}/rx"
        for i, text in enumerate(docs)
        if word.lower() in re.findall(r"[a-z0-9]+", text.lower())
    }
    assert ids(store, word) == expected


MIXED = HAN + "3４aBÉ -，\"'*()^:+_"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.text(alphabet=MIXED, max_size=25), min_size=1, max_size=15),
    st.text(alphabet=MIXED, max_size=12),
)
def test_the_index_agrees_with_the_reference_on_any_text_and_query(
    docs: list[str], raw: str
) -> None:
    """Mixed scripts, digits, punctuation and FTS5 syntax: never an error, and the index
    finds exactly what :meth:`Query.matches` (the definition) finds."""
    store = TranscriptStore.open(":memory:")
    store.save_many(leg(f"c{i}", text) for i, text in enumerate(docs))
    q = parse_query(raw)
    expected = {f"c{i}/rx" for i, text in enumerate(docs) if q.matches(text)}
    assert ids(store, raw) == expected


# -- hostile input -------------------------------------------------------------------------

HOSTILE = [
    '"', "'", '""', "*", "**", "物业*", "-噪音", "物业 -噪音", "(", ")", "(物业", "物业)",
    "NEAR(物业 噪音)", "NEAR", "物业 AND 噪音", "OR", "NOT 物业", "物业 OR", "^物业",
    "transcript_index:物业", "{grams}:物业", "grams:物业 OR 1=1", "'; DROP TABLE transcripts; --",
    "\x00", "物业\x00噪音", "%", "_", "物业%", "\\", "😀", "物\u200b业", "\ud800",
]  # fmt: skip


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_queries_are_literal_text_never_an_sqlite_error(
    store: TranscriptStore, raw: str
) -> None:
    store.save_many([leg("a", "物业的噪音 NEAR the lift"), leg("b", "小区 OR 物业")])
    q = parse_query(raw)
    hits = store.search(raw)
    assert {h.call_id for h in hits} == {
        c
        for c, text in (("a", "物业的噪音 NEAR the lift"), ("b", "小区 OR 物业"))
        if q.matches(text)
    }
    assert store.search_count(raw) == len(hits)
    assert store.count() == 2  # nothing was dropped


def test_operators_are_searched_as_words(store: TranscriptStore) -> None:
    store.save_many([leg("a", "物业的噪音 NEAR the lift"), leg("b", "小区 OR 物业")])
    assert ids(store, "NEAR") == {"a/rx"}
    assert ids(store, "or") == {"b/rx"}
    assert ids(store, "物业 -噪音") == {"a/rx"}  # "-" is not NOT: both terms must match
    assert ids(store, '"物业"') == {"a/rx", "b/rx"}


def test_blank_lists_everything_punctuation_alone_nothing(store: TranscriptStore) -> None:
    store.save_many([leg("a", "物业"), leg("b", "噪音")])
    assert ids(store, "") == {"a/rx", "b/rx"}
    assert ids(store, "  ") == {"a/rx", "b/rx"}
    assert ids(store, "***") == set()


def test_bad_limits_and_long_queries_are_clear_errors(store: TranscriptStore) -> None:
    with pytest.raises(QueryError, match="at most 200"):
        store.search("物" * 201)
    with pytest.raises(QueryError, match="at most 200"):
        store.search_count("物" * 201)
    with pytest.raises(QueryError, match="limit -1"):
        store.search("物业", limit=-1)
    with pytest.raises(QueryError, match="offset -5"):
        store.search("物业", offset=-5)
    assert store.search("物" * 200) == []


# -- pagination, snippets, marks, times ----------------------------------------------------


def test_pages_are_newest_first_without_gaps_or_repeats(store: TranscriptStore) -> None:
    store.save_many(leg(f"c{i:02d}", f"第{i}次 物业") for i in range(23))
    pages = [store.search("物业", limit=10, offset=o) for o in (0, 10, 20, 30)]
    assert [len(p) for p in pages] == [10, 10, 3, 0]
    seen = [h.call_id for p in pages for h in p]
    assert seen == [f"c{i:02d}" for i in reversed(range(23))]
    assert store.search("物业", limit=0) == []


def test_snippet_marks_and_the_time_of_the_first_matching_word(store: TranscriptStore) -> None:
    words = "您好 我 想 投诉 一下 我们 小区 的 物业 他们 晚上 施工 噪音 很大 一直 没有 人 管"
    words = words.split(" ")
    timed = tuple(Word(w, 300 * i, 300 * i + 250, 0.9) for i, w in enumerate(words))
    store.save(leg("c1", " ".join(words), words=timed))
    (hit,) = store.search("物业")
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["物业"]
    assert hit.start_ms == 300 * words.index("物业")
    (hit,) = store.search("噪音 小区")
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["小区", "噪音"]
    assert hit.start_ms == 300 * words.index("小区")  # the first match in the leg
    (hit,) = store.search("的物")  # across two words: the time of the first
    assert hit.start_ms == 300 * words.index("的")
    assert store.search("")[0].start_ms is None


def test_a_long_text_gets_a_window_with_ellipses(store: TranscriptStore) -> None:
    text = "前" * 100 + "物业" + "后" * 100
    store.save(leg("c1", text))
    (hit,) = store.search("物业")
    assert hit.snippet.startswith("…")
    assert hit.snippet.endswith("…")
    assert len(hit.snippet) < 100
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["物业"]


def test_the_snippet_is_masked_for_display_and_marks_follow(store: TranscriptStore) -> None:
    text = (
        "我的电话是一三八一二三四五六七八 物业不管 "
        "call me on one three eight one two three four five six seven eight"
    )
    store.save(leg("c1", text))
    (hit,) = store.search("物业 seven")
    assert "一二三四" in hit.snippet  # raw: for a role that may see it
    assert {p.kind for p in hit.pii} == {PiiKind.MOBILE}
    shown = hit.masked()
    assert "一三八****五六七八" in shown.snippet
    assert "one three eight * * * * five six seven eight" in shown.snippet
    assert [shown.snippet[a:b] for a, b in shown.marks] == ["物业", "seven"]
    assert shown.pii == ()
    assert hit.masked({PiiKind.ID_CARD}).snippet == hit.snippet  # other kinds: untouched


def test_a_number_the_window_would_cut_is_included_whole(store: TranscriptStore) -> None:
    text = "物业" + "嗯" * 55 + "13812345678 后面"  # the window ends inside the number
    store.save(leg("c1", text))
    (hit,) = store.search("物业")
    assert "13812345678" in hit.snippet
    assert "138****5678" in hit.masked().snippet


# -- filters, joined to the history's calls ---------------------------------------------


@pytest.fixture(params=[None, *search_plan.Way])
def with_calls(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> TranscriptStore:
    """Calls in the history; every filter test runs with each way of running a search
    (None: the way the planner picks)."""
    if request.param is not None:
        monkeypatch.setattr(search_plan, "_choose", lambda *a, **k: request.param)
    db = tmp_path / "h.sqlite3"
    history = History.open(db)
    history.save_calls(
        [
            CallRecord("c1", caller="13800000001", t_arrival=T0 - 5000, agent="王芳",
                       visits=(QueueVisit("property", T0),)),
            CallRecord("c2", caller="13800000002", t_arrival=T0 + 86_400_000, agent="李娜",
                       visits=(QueueVisit("intake", T0 + 86_400_000),
                               QueueVisit("labour", T0 + 86_500_000))),
            CallRecord("c3", caller="13800000001", t_arrival=T0 + 2 * 86_400_000, agent="王芳"),
        ]
    )  # fmt: skip
    history.close()
    store = TranscriptStore.open(db)
    for cid in ("c1", "c2", "c3", "orphan"):
        store.save(leg(cid, "物业 噪音", Leg.CALLER))
        store.save(leg(cid, "您好 物业", Leg.AGENT))
    return store


def test_filters(with_calls: TranscriptStore) -> None:
    s = with_calls

    def calls(**kw: object) -> set[str]:
        return {h.split("/")[0] for h in ids(s, "物业", SearchFilters(**kw))}  # type: ignore[arg-type]

    assert calls() == {"c1", "c2", "c3", "orphan"}
    assert calls(since_ms=T0, until_ms=T0 + 1) == {"c1"}  # t_q, not the earlier arrival
    assert calls(since_ms=T0 + 1) == {"c2", "c3"}  # c3 never queued: its arrival
    assert calls(until_ms=T0 + 86_400_000) == {"c1"}  # until is excluded
    assert calls(queue="property") == {"c1"}
    assert calls(queue="labour") == {"c2"}  # a later visit counts
    assert calls(agent="王芳") == {"c1", "c3"}
    assert calls(caller="13800000001") == {"c1", "c3"}
    assert calls(agent="王芳", caller="13800000002") == set()
    assert ids(s, "噪音", SearchFilters(leg=Leg.AGENT)) == set()
    assert ids(s, "您好", SearchFilters(leg=Leg.AGENT, agent="李娜")) == {"c2/tx"}
    assert ids(s, "", SearchFilters(agent="李娜")) == {"c2/rx", "c2/tx"}
    # the calls linked to work orders: the transcript's own call, in the history or not
    assert calls(calls=("c1", "orphan", "c9")) == {"c1", "orphan"}
    assert calls(calls=("c1", "c2"), agent="王芳") == {"c1"}
    assert calls(calls=()) == set()
    assert ids(s, "噪音", SearchFilters(calls=("c3",), leg=Leg.CALLER)) == {"c3/rx"}
    assert s.search_count("物业", SearchFilters(calls=("c2", "orphan"))) == 4


def test_hits_carry_the_call(with_calls: TranscriptStore) -> None:
    (hit,) = with_calls.search("噪音", SearchFilters(queue="labour"))
    assert (hit.call_id, hit.leg, hit.t_q, hit.queue, hit.agent, hit.caller) == (
        "c2", Leg.CALLER, T0 + 86_400_000, "intake", "李娜", "13800000002",
    )  # fmt: skip
    (orphan,) = [h for h in with_calls.search("噪音") if h.call_id == "orphan"]
    assert (orphan.t_q, orphan.queue, orphan.agent, orphan.caller) == (None, "", "", "")


def test_without_a_history_call_filters_match_nothing(store: TranscriptStore) -> None:
    store.save(leg("c1", "物业"))
    assert ids(store, "物业") == {"c1/rx"}
    assert ids(store, "物业", SearchFilters(leg=Leg.CALLER)) == {"c1/rx"}
    assert ids(store, "物业", SearchFilters(agent="王芳")) == set()


# -- the index follows the rows ----------------------------------------------------------


def test_a_replaced_or_deleted_transcript_leaves_nothing_behind(store: TranscriptStore) -> None:
    store.save(leg("c1", "物业 噪音"))
    store.save(leg("c1", "电梯 故障"))  # the job ran again with another result
    assert ids(store, "物业") == set()
    assert ids(store, "电梯") == {"c1/rx"}
    store.save(leg("c2", "电梯"))
    assert store.delete("c1") == 1
    assert ids(store, "电梯") == {"c2/rx"}
    store.connection.execute("UPDATE transcripts SET text = '楼道' WHERE call_id = 'c2'")
    assert ids(store, "电梯") == set()
    assert ids(store, "楼道") == {"c2/rx"}
    conn = store.connection
    # contentless: the check covers the index's own structure (it raises if broken) ...
    conn.execute(
        "INSERT INTO transcript_index (transcript_index, rank) VALUES ('integrity-check', 1)"
    )
    # ... and the index holds exactly the grams of the rows left, none of the old texts
    conn.execute(
        "CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, transcript_index, instance)"
    )
    indexed = sorted(conn.execute("SELECT doc, term FROM temp.terms"))
    rows = conn.execute("SELECT rowid, text FROM transcripts").fetchall()
    assert indexed == sorted((rowid, g) for rowid, text in rows for g in grams(text).split())


def test_a_connection_without_the_function_cannot_change_transcripts(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    TranscriptStore.open(db).save(leg("c1", "物业"))
    plain = schema.connect(db)
    with pytest.raises(sqlite3.OperationalError, match="no such function: hotline_grams"):
        plain.execute("DELETE FROM transcripts")
    assert TranscriptStore.open(db).count() == 1


def test_a_store_made_by_the_first_schema_becomes_searchable(tmp_path: Path) -> None:
    """A file written by the transcripts schema before search (version 1): opened, it is
    migrated and its rows are found."""
    db = tmp_path / "h.sqlite3"
    conn = schema.connect(db)
    schema.migrate(conn, "transcripts", MIGRATIONS[:1])
    conn.executemany(
        "INSERT INTO transcripts VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            ("c1", "rx", "vosk", "m", "zh", "物业 噪音", '[["物业",0,400,1.0]]', 1000, "", T0),
            ("c2", "tx", "vosk", "m", "en", "the Noise", "[]", 1000, "", T0),
        ],
    )
    conn.close()
    store = TranscriptStore.open(db)
    assert store.connection.execute(
        "SELECT version FROM schema_components WHERE component = 'transcripts'"
    ).fetchone() == (len(MIGRATIONS),)
    assert ids(store, "噪") == {"c1/rx"}
    assert ids(store, "物业") == {"c1/rx"}
    assert ids(store, "noise") == {"c2/tx"}
    assert store.search("物业")[0].start_ms == 0
    store.save(leg("c1", "电梯"))  # an old row replaced through the index
    assert ids(store, "物业") == set()


calls_strategy = st.lists(
    st.tuples(
        st.sampled_from(["王芳", "李娜", ""]),  # agent
        st.sampled_from(["138", "139"]),  # caller
        st.none() | st.integers(0, 10),  # t_q (in days), None: never queued
        st.integers(0, 10),  # t_arrival (days)
        st.lists(st.sampled_from(["intake", "property", "labour"]), max_size=2),  # visits
        st.text(alphabet=HAN[:4], max_size=6),  # what the caller said
    ),
    min_size=1,
    max_size=12,
)
filters_strategy = st.builds(
    SearchFilters,
    since_ms=st.none() | st.integers(0, 10).map(lambda d: T0 + d * 86_400_000),
    until_ms=st.none() | st.integers(0, 11).map(lambda d: T0 + d * 86_400_000),
    queue=st.none() | st.sampled_from(["intake", "property", "labour"]),
    agent=st.none() | st.sampled_from(["王芳", "李娜"]),
    caller=st.none() | st.sampled_from(["138", "139"]),
    leg=st.none() | st.sampled_from([Leg.CALLER, Leg.AGENT]),
    calls=st.none()
    | st.lists(st.sampled_from([f"c{i}" for i in range(13)]), max_size=4).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls_strategy, filters_strategy, st.sampled_from(["", "物", "物业", "噪音小"]), st.booleans()
)
def test_filters_find_what_a_scan_of_the_calls_finds(
    tmp_path_factory: pytest.TempPathFactory,
    calls: list[tuple[str, str, int | None, int, list[str], str]],
    f: SearchFilters,
    query: str,
    way: search_plan.Way | None,
) -> None:
    db = tmp_path_factory.mktemp("f") / "h.sqlite3"
    day = 86_400_000
    History.open(db).save_calls(
        CallRecord(
            f"c{i}", caller=caller, agent=agent, t_arrival=T0 + arrival * day,
            visits=tuple(QueueVisit(q, T0 + (t_q or 0) * day + n) for n, q in enumerate(visits))
            if t_q is not None else (),
        )
        for i, (agent, caller, t_q, arrival, visits, _) in enumerate(calls)
    )  # fmt: skip
    store = TranscriptStore.open(db)
    for i, c in enumerate(calls):
        store.save(leg(f"c{i}", c[5]))
        store.save(leg(f"c{i}", "您好" + c[5][::-1], Leg.AGENT))
    expected = set()
    q = parse_query(query)
    for i, (agent, caller, t_q, arrival, visits, said) in enumerate(calls):
        t = T0 + (t_q if t_q is not None and visits else arrival) * day
        ok = (
            (f.since_ms is None or t >= f.since_ms)
            and (f.until_ms is None or t < f.until_ms)
            and (f.queue is None or f.queue in (visits if t_q is not None else []))
            and (f.agent is None or agent == f.agent)
            and (f.caller is None or caller == f.caller)
            and (f.calls is None or f"c{i}" in f.calls)
        )
        for which, text in ((Leg.CALLER, said), (Leg.AGENT, "您好" + said[::-1])):
            if ok and (f.leg is None or f.leg is which) and q.matches(text):
                expected.add(f"c{i}/{which.value}")
    original = search_plan._choose
    if way is not None:
        search_plan._choose = lambda *a, **k: way  # type: ignore[assignment]
    try:
        assert ids(store, query, f) == expected
        hits = store.search(query, f, limit=1000)
        assert [h.call_id for h in hits] == [
            h.call_id
            for h in sorted(hits, key=lambda h: -int(h.call_id[1:]) * 2 - (h.leg is Leg.AGENT))
        ]  # newest first, whichever way
    finally:
        search_plan._choose = original
