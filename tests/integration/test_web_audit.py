"""The auditor's pages in process, on real SQLite (transcripts, search, access log) and a
real WAV file: search with hostile syntax, masking, the call page, playback with Range,
unmasking, and the hash-chained log of it all."""

from __future__ import annotations

import re
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.core.records import CallRecord, EndReason, QueueVisit
from hotline.host.settings import Settings
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores import transcript_search
from hotline.stores.integrity import IntegrityAlerts
from tests.integration.webapp import (
    AGENT_WORDS,
    CALLER_WORDS,
    Web,
    close_web,
    csrf,
    fixture_transcript,
    make_web,
)

pytestmark = pytest.mark.asyncio
CALL = "1796000000.7"
PHONE = "13812345678"


def a_wav(path: Path, seconds: float = 3.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * int(seconds * 8000 * 2 / 256))
    return path


@pytest_asyncio.fixture
async def web(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[Web]:
    app = await make_web(settings, tmp_path / "audit.sqlite3", redis_url)
    t0 = 1_796_000_000_000
    app.services.history.save_calls(
        [
            CallRecord(
                call_id=CALL,
                caller=PHONE,
                t_arrival=t0,
                visits=(QueueVisit("labour", t0 + 2000, 1, t0 + 5000, "CONNECT"),),
                t_answer=t0 + 5000,
                agent="王芳",
                t_end=t0 + 30_000,
                end_reason=EndReason.ANSWERED,
            )
        ]
    )
    legs = [
        describe(CALL, leg, a_wav(tmp_path / f"{CALL}-{leg.value}.wav"))
        for leg in (Leg.CALLER, Leg.AGENT)
    ]
    app.services.history.save_recordings(legs, at=t0 + 31_000)
    app.services.transcripts.save(fixture_transcript(CALL, Leg.CALLER, CALLER_WORDS))
    app.services.transcripts.save(fixture_transcript(CALL, Leg.AGENT, AGENT_WORDS))
    yield app
    await close_web(app)


async def with_purpose(client: object, purpose: str = "GD-2026-0042") -> str:
    token = await csrf(client)  # type: ignore[arg-type]
    r = await client.post("/audit/purpose", data={"csrf": token, "purpose": purpose})  # type: ignore[attr-defined]
    assert r.status_code == 303
    return token


async def test_search_needs_a_purpose_and_is_logged(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await csrf(client)
        refused = await client.post("/audit/search", data={"csrf": token, "q": "拖欠"})
        assert refused.status_code == 428
        await with_purpose(client)
        page = await client.post(
            "/audit/search", data={"csrf": token, "q": "拖欠工资", "leg": "rx"}
        )
    assert page.status_code == 200, page.text
    assert f'data-call="{CALL}"' in page.text
    assert "<mark>" in page.text
    assert PHONE not in page.text  # neither the caller column nor the snippet
    assert "138****5678" in page.text
    log = web.services.access_log.entries(user="zhijian01")
    assert [(e.entry.action, e.entry.target, e.entry.purpose) for e in log] == [
        ("search", "拖欠工资", "GD-2026-0042")
    ]
    assert '"leg": "rx"' in log[0].entry.detail
    assert web.services.access_log.verify() is None


async def test_a_total_past_the_cap_shows_as_more(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common term's total is counted to a cap ("10,000+"), here 2: the page says "2+"
    and the access log records the capped count as such."""
    for n in range(3):
        web.services.transcripts.save(
            fixture_transcript(f"1799000000.{n}", Leg.CALLER, CALLER_WORDS)
        )
    monkeypatch.setattr(transcript_search, "COUNT_CAP", 2)
    async with web.signed_in("zhijian01") as client:
        token = await csrf(client)
        await with_purpose(client)
        page = await client.post("/audit/search", data={"csrf": token, "q": "拖欠"})
    assert page.status_code == 200, page.text
    assert re.search(r"<h2>(共 2\+ 条结果|2\+ results)</h2>", page.text), page.text
    assert ">下一页<" not in page.text  # 3 hits: one page (more pages: tests/e2e)
    assert ">next<" not in page.text
    (entry,) = web.services.access_log.entries(user="zhijian01")
    assert '"hits": 2' in entry.entry.detail
    assert '"more": true' in entry.entry.detail


HOSTILE = [
    '"',
    '""',
    "拖欠 OR 1=1",
    "NEAR(拖欠 工资)",
    "*",
    "工*",
    "(",
    ")",
    "a:b",
    "^拖欠",
    "' OR ''='",
    "拖欠\x00工资",
    "-拖欠",
    "AND",
    "{x}",
    "\\",
    "%",
    "_",
    "拖欠 " * 30,
    "x" * 200,
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_search_syntax_is_text_or_a_clear_error(web: Web, query: str) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        r = await client.post("/audit/search", data={"csrf": token, "q": query})
    assert r.status_code in (200, 400), (query, r.status_code, r.text[:300])
    if r.status_code == 400:
        assert "无法检索" in r.text or "过长" in r.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from", "2026-13-01"),
        ("from", "yesterday"),
        ("to", "2026-02-30"),
        ("queue", "nope"),
        ("agent", "nobody"),
        ("caller", "138 1234"),
        ("leg", "mixed"),
        ("page", "x"),
    ],
)
async def test_bad_filters_are_refused_clearly(web: Web, field: str, value: str) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        r = await client.post("/audit/search", data={"csrf": token, "q": "拖欠", field: value})
    assert r.status_code == 400


async def test_a_query_too_long_is_refused(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        r = await client.post("/audit/search", data={"csrf": token, "q": "长" * 201})
    assert r.status_code == 400


async def test_the_call_page_plays_each_leg_with_ranges(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        await with_purpose(client)
        page = await client.get(f"/audit/calls/{CALL}")
        assert page.status_code == 200, page.text
        assert PHONE not in page.text
        assert 'data-leg="rx" data-start="1000">拖欠</span>' in page.text
        assert 'class="w pii"' in page.text  # the number said on the line is masked too
        found = re.findall(r'src="/media/([^"]+)" data-leg="(rx|tx)"', page.text)
        ids = {leg: media_id for media_id, leg in found}
        rx = ids["rx"]
        whole = await client.get(f"/media/{rx}")
        assert whole.status_code == 200
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == "audio/wav"
        size = int(whole.headers["content-length"])
        part = await client.get(f"/media/{rx}", headers={"range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        assert part.content == whole.content[100:200]
        tail = await client.get(f"/media/{rx}", headers={"range": "bytes=-10"})
        assert tail.content == whole.content[-10:]
        beyond = await client.get(f"/media/{rx}", headers={"range": f"bytes={size}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{size}"
    async with web.signed_in("jijian01") as other:  # another session: the id means nothing
        assert (await other.get(f"/media/{rx}")).status_code == 404
    actions = [e.entry.action for e in web.services.access_log.entries(user="zhijian01")]
    assert actions == ["show", "play"]  # one play however many ranges


async def test_a_tampered_recording_is_not_played(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        await with_purpose(client)
        page = await client.get(f"/audit/calls/{CALL}")
        rx = re.search(r'src="/media/([^"]+)" data-leg="rx"', page.text).group(1)  # type: ignore[union-attr]
        [leg] = [r for r in web.services.history.recordings(CALL) if r.leg is Leg.CALLER]
        data = bytearray(Path(leg.path).read_bytes())
        data[-1] ^= 0xFF
        Path(leg.path).write_bytes(bytes(data))
        r = await client.get(f"/media/{rx}")
    assert r.status_code == 409
    assert "SHA-256" in r.text
    actions = [e.entry.action for e in web.services.access_log.entries(user="zhijian01")]
    assert "play" not in actions
    # an integrity alert, as the STT worker and `hotline play` raise (who tried, which leg)
    alerts = IntegrityAlerts.open(web.services.settings.db)
    [alert] = alerts.recent()
    alerts.close()
    assert (alert.mismatch.call_id, alert.mismatch.leg, alert.raised_by) == (
        CALL, Leg.CALLER, "web:zhijian01"
    )  # fmt: skip


async def test_unmasking_is_for_allowed_auditors_and_logged(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        no = await client.post(f"/audit/calls/{CALL}/unmask", data={"csrf": token})
        assert no.status_code == 403
    async with web.signed_in("jijian01") as client:
        token = await with_purpose(client, "JJ-2026-7")
        shown = await client.post(f"/audit/calls/{CALL}/unmask", data={"csrf": token})
        assert shown.status_code == 200
        assert PHONE in shown.text
        searched = await client.post(
            "/audit/search", data={"csrf": token, "q": "电话", "unmask": "1"}
        )
        assert PHONE in searched.text
    log = [
        (e.entry.action, e.entry.purpose) for e in web.services.access_log.entries(user="jijian01")
    ]
    assert log == [("unmask", "JJ-2026-7"), ("unmask", "JJ-2026-7")]


async def test_guessing_hidden_digits_by_search_is_an_unmask(web: Web) -> None:
    """The snippet shows 138****5678; searching 1234 against the unmasked index would
    confirm the hidden digits. Without can_unmask it is refused; with it, it is an unmask.
    The log keeps no number the searcher could not see."""
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        for guess in ("1234", "一二三四", "138 1234"):
            refused = await client.post("/audit/search", data={"csrf": token, "q": guess})
            assert refused.status_code == 403, guess
        ok = await client.post("/audit/search", data={"csrf": token, "q": "电话 13"})
        assert ok.status_code == 200  # a short run (a building, a count) is no guess
    async with web.signed_in("jijian01") as client:
        token = await with_purpose(client, "JJ-2026-8")
        found = await client.post("/audit/search", data={"csrf": token, "q": "1234"})
        assert found.status_code == 200
    zhijian = [
        (e.entry.action, e.entry.target) for e in web.services.access_log.entries(user="zhijian01")
    ]
    assert zhijian == [("search", "电话 13")]
    jijian = [
        (e.entry.action, e.entry.target) for e in web.services.access_log.entries(user="jijian01")
    ]
    assert jijian == [("unmask", "1234")]  # may unmask: the query as typed


async def test_admins_read_the_access_log_and_see_its_chain(web: Web) -> None:
    async with web.signed_in("zhijian01") as client:
        token = await with_purpose(client)
        await client.post("/audit/search", data={"csrf": token, "q": "工资"})
        export = await client.post(f"/audit/calls/{CALL}/export", data={"csrf": token})
        assert export.status_code == 200
        assert export.headers["content-disposition"].startswith("attachment")
        assert PHONE not in export.text
    async with web.signed_in("admin") as admin:
        page = await admin.get("/admin/access")
    assert page.status_code == 200
    assert 'data-intact="1"' in page.text
    assert "GD-2026-0042" in page.text
    assert "export" in page.text
