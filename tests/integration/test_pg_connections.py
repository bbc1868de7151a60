"""PostgreSQL connections: a store keeps one for the life of the process (the web app
makes no connection per request), and one that broke is replaced, never retried blindly.

Against the test bed's private PostgreSQL (tests/integration/pgbed.py); the backends are
terminated for real with ``pg_terminate_backend``, as a server restart or failover does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from hotline.host.settings import Settings
from hotline.recordings.leg import Leg
from hotline.stores.pg import PgConnection
from hotline.stores.transcripts import TranscriptStore
from tests.integration.pgbed import PgServer
from tests.integration.test_web_audit import with_purpose
from tests.integration.webapp import CALLER_WORDS, close_web, csrf, fixture_transcript, make_web


@pytest.fixture
def url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create("conn")
    yield url
    pg_server.drop(url)


def _name(url: str) -> str:
    return url.split("///", 1)[1].split("?", 1)[0]


def backends(server: PgServer, url: str) -> set[int]:
    """The server's backends connected to URL's database now."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (_name(url),)
        ).fetchall()
    return {int(r[0]) for r in rows}


def terminate(server: PgServer, pid: int) -> None:
    """End backend PID as a restart would, and wait until it is gone."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        deadline = time.monotonic() + 5
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still there"
            time.sleep(0.01)


def backend(store: TranscriptStore) -> int:
    return int(store.connection.execute("SELECT pg_backend_pid()").fetchone()[0])


def pg_conn(store: TranscriptStore) -> PgConnection:
    assert isinstance(store.connection, PgConnection)
    return store.connection


@pytest.mark.asyncio
async def test_web_requests_reuse_the_stores_connections(
    settings: Settings,
    redis_url: str,
    pg_server: PgServer,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    web = await make_web(settings, url, redis_url)  # type: ignore[arg-type]
    try:
        web.services.transcripts.save(fixture_transcript("1799000000.1", Leg.CALLER, CALLER_WORDS))
        kept = backends(pg_server, url)
        connects: list[str] = []
        real = psycopg.connect
        monkeypatch.setattr(
            psycopg, "connect", lambda *a, **k: connects.append(a[0]) or real(*a, **k)
        )
        async with web.signed_in("zhijian01") as client:
            token = await csrf(client)
            await with_purpose(client)
            for _ in range(10):
                page = await client.post("/audit/search", data={"csrf": token, "q": "拖欠"})
                assert page.status_code == 200, page.text
                assert 'data-call="1799000000.1"' in page.text
                home = await client.get("/", headers={"accept": "text/html"}, follow_redirects=True)
                assert home.status_code == 200
        monkeypatch.undo()
        # sign-in, purpose, 10 searches (each logged) and 10 pages: the same backends
        assert connects == []
        assert backends(pg_server, url) == kept
        assert len(kept) >= 4  # accounts, history, transcripts, access log (measured: 5)
        assert len(web.services.access_log.entries(user="zhijian01")) == 10
    finally:
        await close_web(web)


def test_a_broken_idle_connection_is_replaced_before_use(pg_server: PgServer, url: str) -> None:
    store = TranscriptStore.open(url)
    store.save(fixture_transcript("c1", Leg.CALLER, CALLER_WORDS))
    first = backend(store)
    assert [backend(store) for _ in range(5)] == [first] * 5  # kept, not reconnected
    terminate(pg_server, first)
    assert [h.call_id for h in store.search("拖欠")] == ["c1"]  # no error: replaced first
    assert backend(store) != first
    assert pg_conn(store).connects == 2
    store.save(fixture_transcript("c2", Leg.CALLER, CALLER_WORDS))
    assert store.search_count("拖欠") == 2
    store.close()
    with pytest.raises(psycopg.OperationalError, match="closed"):
        store.count()  # a closed store stays closed: no silent reconnect


def test_a_connection_lost_inside_a_transaction_loses_it_whole(
    pg_server: PgServer, url: str
) -> None:
    store = TranscriptStore.open(url)

    def half_done() -> None:
        with store.tx() as conn:
            conn.execute("INSERT INTO schema_components (component, version) VALUES ('p1', 1)")
            terminate(pg_server, int(conn.execute("SELECT pg_backend_pid()").fetchone()[0]))
            conn.execute("INSERT INTO schema_components (component, version) VALUES ('p2', 1)")

    with pytest.raises(psycopg.OperationalError):
        half_done()
    # the half-done transaction left nothing; the store works on a new connection
    assert pg_conn(store).connects == 2
    rows = store.connection.execute(
        "SELECT count(*) FROM schema_components WHERE component IN ('p1', 'p2')"
    ).fetchone()
    assert rows == (0,)
    store.save(fixture_transcript("c1", Leg.CALLER, CALLER_WORDS))
    assert store.count() == 1
    store.close()


def test_a_statement_is_not_resent_after_the_connection_broke_under_it(
    pg_server: PgServer, url: str
) -> None:
    """A break seen only when a statement is sent fails that statement (it may have run:
    it is not sent again); the next one gets a new connection."""
    store = TranscriptStore.open(url)
    conn = pg_conn(store)
    with pytest.raises(psycopg.OperationalError):
        # the backend ends itself while running the statement, as a crash would
        conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert store.count() == 0
    assert conn.connects == 2
    store.close()
