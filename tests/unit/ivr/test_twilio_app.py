"""The Twilio webhooks, offline: requests signed as Twilio signs them (twilio's own
RequestValidator), answered with the golden TwiML; unsigned, tampered and hostile requests
refused without a 500; call events recorded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from hotline.ivr import twiml
from hotline.web.twilio import (
    BODY_LIMIT,
    CallEvent,
    InMemoryCallEvents,
    create_twilio_app,
)

from .test_twiml import (
    FLOW,
    MONDAY_10AM,
    callback_queue,
    invalid_digit,
    overflowing_queue,
    plain_menu,
    read_golden,
)

TOKEN = "test-auth-token-12345"
ORIGIN = "http://testserver"
NOW = MONDAY_10AM.timestamp()
SID = "CA0123456789abcdef0123456789abcdef"
CALLER = "+8613800138000"
XML = "application/xml; charset=utf-8"


@pytest.fixture
def events() -> InMemoryCallEvents:
    return InMemoryCallEvents()


@pytest.fixture
def client(events: InMemoryCallEvents) -> Iterator[TestClient]:
    app = create_twilio_app(FLOW, auth_token=TOKEN, events=events, clock=lambda: NOW)
    with TestClient(app) as c:
        yield c


def sign(url: str, params: Mapping[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def twilio_params(**extra: str) -> dict[str, str]:
    """What Twilio sends with every voice webhook (the parts we look at), plus ``extra``."""
    return {"CallSid": SID, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": "+8612345"} | extra


def post(
    client: TestClient,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    signature: str | None = None,
    signed_params: Mapping[str, str] | None = None,
    signed_url: str | None = None,
) -> tuple[int, str, str]:
    """POST ``params`` as a form to ``path``, signed for ``signed_url`` and ``signed_params``
    (by default: what is sent); ``signature=""`` sends none."""
    params = twilio_params() if params is None else params
    if signature is None:
        signature = sign(
            signed_url or ORIGIN + path, params if signed_params is None else signed_params
        )
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post(path, data=dict(params), headers=headers)
    return response.status_code, response.headers.get("content-type", ""), response.text


# -- signed requests get the golden TwiML ---------------------------------------------------


def test_voice_answers_the_golden_entry(client: TestClient, events: InMemoryCallEvents) -> None:
    assert post(client, "/twilio/voice") == (200, XML, read_golden("entry"))
    assert events.events == [CallEvent(SID, "entry", {"open": "1", "notice": ""}, NOW)]


def test_voice_plays_the_announcement_switched_on(events: InMemoryCallEvents) -> None:
    notice = next(iter(FLOW.announcements))
    app = create_twilio_app(
        FLOW, auth_token=TOKEN, events=events, clock=lambda: NOW, notice=lambda: notice
    )
    with TestClient(app) as c:
        assert post(c, "/twilio/voice") == (200, XML, read_golden("entry-notice"))
    assert events.events[0].fields == {"open": "1", "notice": notice}


@pytest.mark.parametrize("lang", FLOW.languages)
@pytest.mark.parametrize("node", list(FLOW.menus))
def test_every_menu_is_its_golden_file(client: TestClient, node: str, lang: str) -> None:
    assert post(client, f"/twilio/menu/{node}?lang={lang}") == (
        200,
        XML,
        read_golden(f"menu-{node}-{lang}"),
    )


def test_gather_takes_the_digit_and_records_the_step(
    client: TestClient, events: InMemoryCallEvents
) -> None:
    menu = plain_menu(FLOW)
    bad = invalid_digit(menu)
    path = f"/twilio/gather/{menu.name}?lang=zh&attempt=0"
    assert post(client, path, twilio_params(Digits=bad)) == (
        200,
        XML,
        read_golden("choice-invalid"),
    )
    path = f"/twilio/gather/{menu.name}?lang=en&attempt={menu.retries}&noinput=1"
    assert post(client, path) == (200, XML, read_golden("choice-noinput-last"))
    assert [e.fields for e in events.of_kind("gather")] == [
        {"node": menu.name, "digit": bad, "lang": "zh", "attempt": "0"},
        {"node": menu.name, "digit": "", "lang": "en", "attempt": str(menu.retries)},
    ]


def test_wait_offers_the_callback_when_many_are_ahead(client: TestClient) -> None:
    assert FLOW.callback is not None
    queue = overflowing_queue(FLOW).name
    ahead = str(FLOW.callback.offer_when_waiting + 1)
    params = twilio_params(QueuePosition=ahead, QueueTime="0", CurrentQueueSize=ahead)
    assert post(client, f"/twilio/wait/{queue}?lang=en&tag=inquiry", params) == (
        200,
        XML,
        read_golden("wait-offer"),
    )


def test_leave_bridged_asks_for_the_survey(client: TestClient, events: InMemoryCallEvents) -> None:
    queue = overflowing_queue(FLOW).name
    params = twilio_params(QueueResult="bridged", QueueTime="37", QueueSid="QU1")
    assert post(client, f"/twilio/leave/{queue}?lang=zh&tag=complaint", params) == (
        200,
        XML,
        read_golden("leave-bridged"),
    )
    (event,) = events.of_kind("leave")
    assert event.fields == {
        "queue": queue,
        "result": "bridged",
        "QueueResult": "bridged",
        "QueueTime": "37",
        "tag": "complaint",
    }


def test_a_callback_request_is_recorded_with_the_callers_number(
    client: TestClient, events: InMemoryCallEvents
) -> None:
    assert FLOW.callback is not None
    queue = callback_queue(FLOW).name
    path = f"/twilio/callback/{queue}?lang=zh&tag=help"
    assert post(client, path, twilio_params(Digits=FLOW.callback.digit)) == (
        200,
        XML,
        read_golden("callback-zh"),
    )
    assert events.of_kind("callback") == [
        CallEvent(
            SID, "callback", {"queue": queue, "tag": "help", "lang": "zh", "From": CALLER}, NOW
        )
    ]


def test_a_declined_callback_keeps_the_caller_waiting(
    client: TestClient, events: InMemoryCallEvents
) -> None:
    queue = overflowing_queue(FLOW).name
    status, _, body = post(client, f"/twilio/callback/{queue}?lang=en", twilio_params(Digits="7"))
    assert (status, body) == (200, read_golden("wait-declined"))
    assert events.of_kind("callback") == []


def test_survey_digits_are_recorded_as_a_score(
    client: TestClient, events: InMemoryCallEvents
) -> None:
    queue = overflowing_queue(FLOW).name
    path = f"/twilio/survey?lang=en&queue={queue}"
    assert post(client, path, twilio_params(Digits="5")) == (
        200,
        XML,
        read_golden("survey-thanks-en"),
    )
    assert post(client, path, twilio_params(Digits="8")) == (
        200,
        XML,
        read_golden("survey-invalid"),
    )
    assert post(client, path) == (200, XML, read_golden("survey-none"))
    assert [e.fields for e in events.of_kind("survey")] == [
        {"score": "5", "queue": queue},
        {"score": "none", "queue": queue},
        {"score": "none", "queue": queue},
    ]


def test_a_status_callback_is_recorded(client: TestClient, events: InMemoryCallEvents) -> None:
    params = twilio_params(
        CallStatus="completed",
        CallDuration="93",
        Timestamp="Mon, 03 Mar 2025 02:01:33 +0000",
        SequenceNumber="3",
        CallbackSource="call-progress-events",
        ApiVersion="2010-04-01",
    )
    status, content_type, body = post(client, "/twilio/status", params)
    assert (status, content_type) == (200, XML)
    assert body == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert events.events == [
        CallEvent(
            SID,
            "status",
            {
                "CallStatus": "completed",
                "CallDuration": "93",
                "Timestamp": "Mon, 03 Mar 2025 02:01:33 +0000",
                "SequenceNumber": "3",
                "CallbackSource": "call-progress-events",
                "From": CALLER,
                "To": "+8612345",
            },
            NOW,
        )
    ]


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(events: InMemoryCallEvents) -> None:
    public = "https://hotline.example.org"
    app = create_twilio_app(FLOW, auth_token=TOKEN, public_url=public + "/", events=events)
    with TestClient(app) as c:
        path = f"/twilio/menu/{FLOW.start}?lang=zh"
        assert post(c, path, signed_url=public + path)[0] == 200
        assert post(c, path)[0] == 403  # signed for the internal URL: not what Twilio saw


# -- refused: unsigned, tampered, unknown, malformed ------------------------------------------


def test_a_missing_signature_is_refused(client: TestClient, events: InMemoryCallEvents) -> None:
    status, content_type, body = post(client, "/twilio/voice", signature="")
    assert (status, content_type.split(";")[0], body) == (
        403,
        "text/plain",
        "missing X-Twilio-Signature",
    )
    assert events.events == []


def test_a_wrong_signature_is_refused(client: TestClient) -> None:
    params = twilio_params()
    assert (
        post(client, "/twilio/voice", signature=sign(ORIGIN + "/twilio/voice", params, "x"))[0]
        == 403
    )
    assert post(client, "/twilio/voice", signature="Qe7j4Qp83fdF+olv61DK5i/t4gI=")[0] == 403


def test_a_tampered_digit_is_refused(client: TestClient, events: InMemoryCallEvents) -> None:
    path = f"/twilio/gather/{FLOW.start}?lang=zh&attempt=0"
    sent = twilio_params(Digits="2")
    assert post(client, path, sent, signed_params=twilio_params(Digits="1"))[0] == 403
    assert events.events == []


def test_a_tampered_query_or_path_is_refused(client: TestClient) -> None:
    menu = plain_menu(FLOW)
    signed = f"{ORIGIN}/twilio/menu/{menu.name}?lang=zh&attempt=0"
    assert post(client, f"/twilio/menu/{menu.name}?lang=zh&attempt=9", signed_url=signed)[0] == 403
    assert post(client, f"/twilio/menu/{FLOW.start}?lang=zh&attempt=0", signed_url=signed)[0] == 403


def test_an_unknown_node_or_queue_is_404(client: TestClient) -> None:
    for path in (
        "/twilio/menu/no-such-menu?lang=zh",
        "/twilio/gather/no-such-menu?lang=zh",
        "/twilio/wait/no-such-queue?lang=zh",
        "/twilio/leave/no-such-queue?lang=zh",
        "/twilio/callback/no-such-queue?lang=zh",
    ):
        assert post(client, path)[0] == 404, path
    assert client.post("/twilio/nothing-here").status_code == 404


def test_bad_query_values_are_400(client: TestClient) -> None:
    start = FLOW.start
    for path in (
        f"/twilio/menu/{start}?lang=fr",
        f"/twilio/menu/{start}?lang=zh&attempt=-1",
        f"/twilio/menu/{start}?lang=zh&attempt=x",
        f"/twilio/menu/{start}?lang=zh&attempt=" + "9" * 5000,
        "/twilio/survey?lang=zh&queue=no-such-queue",
    ):
        assert post(client, path)[0] == 400, path
    params = twilio_params(QueuePosition="many")
    assert post(client, f"/twilio/wait/{overflowing_queue(FLOW).name}?lang=zh", params)[0] == 400


def test_a_missing_call_sid_is_400(client: TestClient) -> None:
    assert post(client, "/twilio/voice", {"From": CALLER})[0] == 400


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", 400),
        (b"CallSid=CA1&&&", "application/x-www-form-urlencoded", 400),
        (b"CallSid=CA1&CallSid=CA2", "application/x-www-form-urlencoded", 400),
        (b"CallSid=%FF%FE", "application/x-www-form-urlencoded", 400),
        (b"&".join(b"f%d=1" % i for i in range(1000)), "application/x-www-form-urlencoded", 400),
        (b'{"CallSid": "CA1"}', "application/json", 415),
        (b"CallSid=" + b"A" * (BODY_LIMIT + 1), "application/x-www-form-urlencoded", 413),
    ],
)
def test_a_malformed_body_is_refused_not_a_500(
    client: TestClient, body: bytes, content_type: str, status: int
) -> None:
    response = client.post(
        "/twilio/voice",
        content=body,
        headers={"Content-Type": content_type, "X-Twilio-Signature": "x"},
    )
    assert response.status_code == status


def test_a_huge_chunked_body_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"A" * 4096

    response = client.post(
        "/twilio/voice",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_hostile_host_header_is_never_a_500(client: TestClient) -> None:
    # the URL checked is built from Host (no public_url): odd ports must not crash the check
    params = twilio_params()
    signature = sign(ORIGIN + "/twilio/voice", params)
    for host in ("evil:port", "evil:99999", "[::1", "a" * 300, ""):
        headers = {"Host": host, "X-Twilio-Signature": signature}
        response = client.post("/twilio/voice", data=params, headers=headers)
        assert response.status_code in (200, 403), host


def test_only_post(client: TestClient) -> None:
    assert client.get("/twilio/voice").status_code == 405


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    node=st.sampled_from([*FLOW.menus, "x", "%2e%2e"]),
    lang=st.sampled_from([*FLOW.languages, "", "xx"]),
    attempt=st.text("0123456789-x", max_size=4),
    digits=st.text(max_size=6),
    extra=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=4),
)
def test_signed_hostile_values_never_make_a_500(
    client: TestClient, node: str, lang: str, attempt: str, digits: str, extra: dict[str, str]
) -> None:
    # even with a valid signature (a leaked token, a Twilio bug), odd values are 2xx/4xx
    params = extra | twilio_params(Digits=digits)
    path = f"/twilio/gather/{node}?lang={lang}&attempt={attempt}"
    status, _, body = post(client, path, params)
    assert status in (200, 400, 403, 404), (status, body)


# -- into the PBX's queues, the events in the history ---------------------------------------


def test_a_signed_walk_reaches_the_pbx_queue_and_its_events_are_in_the_history(
    tmp_path: Path,
) -> None:
    from hotline.ivr.model import routes
    from hotline.stores.history import History
    from hotline.web.twilio import HistoryCallEvents

    history = History.open(tmp_path / "h.sqlite3")
    sink = HistoryCallEvents(history)
    pbx = twiml.SipTarget("pbx.example.org", 5070)
    app = create_twilio_app(FLOW, auth_token=TOKEN, events=sink, clock=lambda: NOW, sip=pbx)
    route = next(r for r in routes(FLOW) if len(r.digits) >= 2)
    with TestClient(app) as c:
        status, _, body = post(c, "/twilio/voice")
        assert status == 200
        for digit in route.digits:
            action = ET.fromstring(body).find("Gather")
            assert action is not None
            status, _, body = post(c, action.get("action", ""), twilio_params(Digits=digit))
            assert status == 200, body
            redirect = ET.fromstring(body).find("Redirect")
            if redirect is not None and redirect.text:  # the next menu
                status, _, body = post(c, redirect.text)
        sip = ET.fromstring(body).find("Dial/Sip")
        assert sip is not None, body
        assert sip.text == pbx.uri(
            route.queue or "", tag=route.tag or route.queue or "", language=route.language
        ).replace("X-Hotline-CallSid=&", f"X-Hotline-CallSid={SID}&")
        # a forged status callback: refused, nothing stored
        forged = twilio_params(CallStatus="completed")
        assert post(c, "/twilio/status", forged, signature="bm90IGEgc2lnbmF0dXJl")[0] == 403
        assert post(c, "/twilio/status", forged, signature="")[0] == 403
        assert post(c, "/twilio/status", twilio_params(CallStatus="completed"))[0] == 200
    kinds = [e.kind for e in history.twilio_events(SID)]
    assert kinds == ["entry", *["gather"] * len(route.digits), "status"]
    digits = [e.fields["digit"] for e in history.twilio_events(SID) if e.kind == "gather"]
    assert digits == list(route.digits)
    assert sink.of_call(SID)[-1] == CallEvent(
        SID, "status", {"CallStatus": "completed", "From": CALLER, "To": "+8612345"}, NOW
    )
    history.close()
