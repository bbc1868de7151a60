"""TwiML of the shipped flow: golden documents, and the proof that the TwiML routes agree with
the flow (every route of `routes(flow)`, pressed digit by digit through our own documents,
ends in an <Enqueue> of the route's queue).

Golden files are in golden/twiml/; after a deliberate change to the renderer or to
flows/12345.yaml, regenerate them with `UPDATE_GOLDEN=1 pytest tests/unit/ivr` and review
the diff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from hotline.host.settings import DEFAULT_FLOW
from hotline.ivr import twiml
from hotline.ivr.loader import load_flow
from hotline.ivr.model import DIGITS, Flow, Hours, Menu, Option, QueueSpec, WhenEmpty, routes
from hotline.ivr.twiml import (
    BASE,
    BadValueError,
    QueueResult,
    UnknownNodeError,
    Voice,
    render_callback,
    render_choice,
    render_enqueue,
    render_entry,
    render_leave,
    render_node,
    render_survey_answer,
    render_wait,
)
from tests.unit.ivr import golden_files

GOLDEN = golden_files.GOLDEN / "twiml"
FLOW_FILE = DEFAULT_FLOW
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10AM = dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
SUNDAY_10AM = dt.datetime(2025, 3, 2, 10, 0, tzinfo=SHANGHAI)
VERBS = {"Response", "Say", "Play", "Gather", "Redirect", "Enqueue", "Leave", "Pause", "Hangup"}


def shipped_flow() -> Flow:
    return load_flow(FLOW_FILE.read_text(encoding="utf-8"), str(FLOW_FILE))


FLOW = shipped_flow()


def pretty(xml: str) -> list[str]:
    root = ET.fromstring(xml)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode").splitlines(keepends=True)


def read_golden(name: str) -> str:
    """The golden document ``name`` (the file ends with one newline, the document does not)."""
    return golden_files.read_golden(GOLDEN / f"{name}.xml").removesuffix("\n")


def assert_golden(name: str, xml: str) -> None:
    """``xml`` is the golden document ``name``; with UPDATE_GOLDEN=1, it becomes it."""
    golden_files.check_golden(GOLDEN / f"{name}.xml", xml + "\n", lambda t: pretty(t.strip()))


# -- the flow's nodes by role, so the cases follow flows/12345.yaml when it changes --------


def menus_in_order(flow: Flow) -> list[Menu]:
    return [flow.menus[name] for name in flow.menus]


def submenu_choice(flow: Flow) -> tuple[Menu, Option]:
    """A digit leading to another menu, in the caller's language (not the language menu)."""
    return next(
        (m, o) for m in menus_in_order(flow) for o in m.options if o.goto and not o.language
    )


def language_choice(flow: Flow) -> tuple[Menu, Option]:
    """A digit that switches to a language other than the default."""
    return next(
        (m, o)
        for m in menus_in_order(flow)
        for o in m.options
        if o.language and o.language != flow.default_language
    )


def queue_choice(flow: Flow) -> tuple[Menu, Option]:
    """A digit into a queue that is not the operator's "0"."""
    return next(
        (m, o) for m in menus_in_order(flow) for o in m.options if o.queue and o.digit != "0"
    )


def plain_menu(flow: Flow) -> Menu:
    """A menu that replays on no input (no `no_input` option) and is not the start menu."""
    return next(m for m in menus_in_order(flow) if m.no_input is None and m.name != flow.start)


def invalid_digit(menu: Menu) -> str:
    return next(d for d in DIGITS if menu.option(d) is None)


def overflowing_queue(flow: Flow) -> QueueSpec:
    return next(q for q in flow.queues.values() if q.overflow_to and q.overflow_after)


def callback_queue(flow: Flow) -> QueueSpec:
    return next(q for q in flow.queues.values() if q.when_empty is WhenEmpty.CALLBACK)


def closed_flow(flow: Flow) -> Flow:
    weekdays = tuple((day, dt.time(8, 30), dt.time(17, 30)) for day in range(1, 6))
    return dataclasses.replace(flow, hours=Hours(always=False, weekly=weekdays))


def golden_cases(flow: Flow) -> dict[str, Callable[[], str]]:
    """Golden file name -> the document it holds."""
    zh, en = flow.default_language, next(lang for lang in flow.languages if lang != "zh")
    cases: dict[str, Callable[[], str]] = {
        "entry": lambda: render_entry(flow, now=MONDAY_10AM),
        "entry-notice": lambda: render_entry(
            flow, now=MONDAY_10AM, notice=next(iter(flow.announcements))
        ),
        "entry-unknown-notice": lambda: render_entry(flow, now=MONDAY_10AM, notice="no-such"),
        "entry-closed": lambda: render_entry(closed_flow(flow), now=SUNDAY_10AM),
    }
    for menu in menus_in_order(flow):
        for lang in flow.languages:
            cases[f"menu-{menu.name}-{lang}"] = partial(render_node, flow, menu.name, language=lang)
    plain = plain_menu(flow)
    cases["menu-past-retries"] = lambda: render_node(
        flow, plain.name, language=en, attempt=plain.retries + 1
    )
    cases["menu-played"] = lambda: render_node(
        flow,
        plain.name,
        language=en,
        prompt_url=lambda name, lang: (
            f"https://audio.example.org/{lang}/{name}.wav" if name == plain.prompt else None
        ),
    )
    cases["menu-voices"] = lambda: render_node(
        flow, plain.name, language=zh, voices={zh: Voice("cmn-CN", "Polly.Zhiyu-Neural")}
    )
    menu, option = submenu_choice(flow)
    cases["choice-submenu"] = lambda: render_choice(flow, menu.name, option.digit, language=zh)
    lmenu, loption = language_choice(flow)
    cases["choice-language"] = lambda: render_choice(flow, lmenu.name, loption.digit, language=zh)
    qmenu, qoption = queue_choice(flow)
    cases["choice-enqueue"] = lambda: render_choice(flow, qmenu.name, qoption.digit, language=en)
    cases["choice-zero"] = lambda: render_choice(flow, plain.name, "0", language=en)
    bad = invalid_digit(plain)
    cases["choice-invalid"] = lambda: render_choice(flow, plain.name, bad, language=zh)
    cases["choice-invalid-last"] = lambda: render_choice(
        flow, plain.name, bad, language=zh, attempt=plain.retries
    )
    cases["choice-noinput-first"] = lambda: render_choice(flow, plain.name, "", language=en)
    cases["choice-noinput-last"] = lambda: render_choice(
        flow, plain.name, "", language=en, attempt=plain.retries
    )
    start = flow.menus[flow.start]
    if start.no_input is not None:
        cases["choice-noinput-option"] = lambda: render_choice(flow, start.name, "", language=zh)
    over, cb = overflowing_queue(flow), callback_queue(flow)
    offer_at = (flow.callback.offer_when_waiting + 1) if flow.callback else 1
    cases["enqueue"] = lambda: render_enqueue(flow, over.name, language=en, tag="inquiry")
    cases["wait"] = lambda: render_wait(flow, over.name, language=zh, queue_time=30, position=1)
    cases["wait-offer"] = lambda: render_wait(
        flow, over.name, language=en, tag="inquiry", position=offer_at
    )
    cases["wait-declined"] = lambda: render_wait(
        flow, over.name, language=en, position=offer_at, offer=False
    )
    cases["wait-overflow"] = lambda: render_wait(
        flow, over.name, language=zh, queue_time=over.overflow_after or 0
    )
    cases["wait-timeout-offer"] = lambda: render_wait(
        flow, cb.name, language=zh, queue_time=cb.timeout, position=1
    )
    for result in QueueResult:
        cases[f"leave-{result.value}"] = partial(
            render_leave, flow, over.name, result, language=zh, tag="complaint"
        )
    cases["leave-queue-full-callback"] = lambda: render_leave(
        flow, cb.name, QueueResult.QUEUE_FULL, language=en
    )
    for lang in flow.languages:
        cases[f"callback-{lang}"] = partial(render_callback, flow, cb.name, language=lang)
        cases[f"survey-thanks-{lang}"] = partial(render_survey_answer, flow, "5", language=lang)
    cases["survey-none"] = lambda: render_survey_answer(flow, None, language=zh)
    cases["survey-invalid"] = lambda: render_survey_answer(flow, "9", language=zh)
    return cases


CASES = golden_cases(FLOW)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    xml = CASES[name]()
    assert xml == CASES[name](), "rendering is not deterministic"
    assert {e.tag for e in ET.fromstring(xml).iter()} <= VERBS
    assert_golden(name, xml)


# -- the routes of the flow and the routes of the TwiML agree --------------------------------


def serve(flow: Flow, url: str, digits: str | None) -> ET.Element:
    """What the webhook at ``url`` (one of ours) answers when the caller pressed ``digits``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    kind, node = parts.path.removeprefix(BASE + "/").split("/")
    lang, attempt = query["lang"], int(query.get("attempt", "0"))
    if kind == "menu":
        xml = render_node(flow, node, language=lang, attempt=attempt)
    elif kind == "gather":
        pressed = "" if query.get("noinput") else (digits or "")
        xml = render_choice(flow, node, pressed, language=lang, attempt=attempt)
    else:
        raise AssertionError(f"a menu step led to {url}")
    return ET.fromstring(xml)


def settle(flow: Flow, doc: ET.Element) -> ET.Element:
    """Follow <Redirect>s until a document asks for a digit (a menu) or enqueues the caller."""
    for _ in range(10):
        if doc.find("Gather") is not None or doc.find("Enqueue") is not None:
            return doc
        redirect = doc.find("Redirect")
        assert redirect is not None, ET.tostring(doc, encoding="unicode")
        assert redirect.text
        doc = serve(flow, redirect.text, None)
    raise AssertionError("redirect loop")


def press(flow: Flow, doc: ET.Element, digit: str) -> ET.Element:
    """The caller at a menu presses ``digit`` ("" = waits the menu's timeout out)."""
    gather = doc.find("Gather")
    assert gather is not None, f"expected a menu, got {ET.tostring(doc, encoding='unicode')}"
    if digit == "":
        # Twilio falls through the <Gather> to the next verb
        redirect = doc.find("Redirect")
        assert redirect is not None
        assert redirect.text
        return settle(flow, serve(flow, redirect.text, None))
    action = gather.get("action")
    assert action
    return settle(flow, serve(flow, action, digit))


def enqueued(doc: ET.Element) -> tuple[str, dict[str, str]]:
    enqueue = doc.find("Enqueue")
    assert enqueue is not None, ET.tostring(doc, encoding="unicode")
    assert enqueue.text
    action = enqueue.get("action", "")
    assert urlsplit(action).path == f"{BASE}/leave/{enqueue.text}"
    assert urlsplit(enqueue.get("waitUrl", "")).path == f"{BASE}/wait/{enqueue.text}"
    return enqueue.text, dict(parse_qsl(urlsplit(action).query))


def test_every_route_of_the_flow_ends_in_its_queue_through_the_twiml() -> None:
    checked = 0
    for route in routes(FLOW):
        doc = settle(FLOW, ET.fromstring(render_entry(FLOW, now=MONDAY_10AM)))
        for digit in route.digits:
            doc = press(FLOW, doc, digit)
        queue, query = enqueued(doc)
        assert queue == route.queue, route
        assert query["tag"] == (route.tag or route.queue), route
        assert query["lang"] == route.language, route
        checked += 1
    assert checked >= len(FLOW.queues)  # the walk saw the whole flow, not an empty list


def test_no_caller_is_trapped_every_key_at_every_attempt_reaches_a_menu_or_a_queue() -> None:
    for menu in menus_in_order(FLOW):
        for attempt in range(menu.retries + 2):
            for digit in [*DIGITS, "", "12", "\u0661"]:
                for lang in FLOW.languages:
                    doc = settle(
                        FLOW,
                        ET.fromstring(
                            render_choice(FLOW, menu.name, digit, language=lang, attempt=attempt)
                        ),
                    )
                    assert doc.find("Hangup") is None


def test_retries_then_a_human_for_invalid_and_no_input() -> None:
    menu = plain_menu(FLOW)
    for digit in (invalid_digit(menu), ""):
        doc = settle(FLOW, ET.fromstring(render_node(FLOW, menu.name, language="zh")))
        plays = 1
        while doc.find("Enqueue") is None:
            doc = press(FLOW, doc, digit)
            plays += doc.find("Gather") is not None
        queue, query = enqueued(doc)
        assert (queue, query["tag"]) == (FLOW.operator_queue, twiml.OPERATOR_TAG)
        assert plays == menu.retries + 1  # played once, then replayed `retries` times
        to_operator = FLOW.prompts["to-operator"]["zh"]
        assert [s.text for s in doc.iter("Say")][-1] == to_operator


def test_zero_reaches_the_operator_queue_from_every_menu() -> None:
    for menu in menus_in_order(FLOW):
        doc = ET.fromstring(render_choice(FLOW, menu.name, "0", language="en"))
        assert enqueued(doc)[0] == FLOW.operator_queue


def test_hash_is_a_key_like_any_other() -> None:
    gather = ET.fromstring(render_node(FLOW, FLOW.start, language="zh")).find("Gather")
    assert gather is not None
    assert gather.get("finishOnKey") == ""


def test_the_callback_offer_follows_the_callers_ahead() -> None:
    assert FLOW.callback is not None
    queue = overflowing_queue(FLOW).name
    ahead = FLOW.callback.offer_when_waiting

    def offers(position: int | None) -> bool:
        doc = ET.fromstring(render_wait(FLOW, queue, language="zh", position=position))
        return doc.find("Gather") is not None

    assert (offers(None), offers(ahead), offers(ahead + 1)) == (False, False, True)


def test_free_text_tags_survive_the_url() -> None:
    tag = "投诉 a&b=c/d?"
    doc = ET.fromstring(render_enqueue(FLOW, overflowing_queue(FLOW).name, language="zh", tag=tag))
    assert enqueued(doc)[1]["tag"] == tag


def test_unknown_nodes_and_bad_values_are_errors() -> None:
    with pytest.raises(UnknownNodeError):
        render_node(FLOW, "no-such-menu", language="zh")
    with pytest.raises(UnknownNodeError):
        render_wait(FLOW, "no-such-queue", language="zh")
    with pytest.raises(BadValueError):
        render_node(FLOW, FLOW.start, language="fr")
    with pytest.raises(BadValueError):
        render_choice(FLOW, FLOW.start, "1", language="zh", attempt=-1)
    assert issubclass(UnknownNodeError, LookupError)
    assert issubclass(BadValueError, ValueError)


def test_queue_results_twilio_may_add_count_as_errors() -> None:
    assert QueueResult.parse("bridged") is QueueResult.BRIDGED
    assert QueueResult.parse("something-new") is QueueResult.ERROR


def test_the_survey_keeps_only_its_scores() -> None:
    assert [twiml.survey_score(FLOW, d) for d in ("1", "5", "6", "", "55", None)] == [
        "1",
        "5",
        None,
        None,
        None,
        None,
    ]


# -- Twilio's callers into the PBX's queues (HOTLINE_TWILIO_SIP) -----------------------------

PBX = twiml.SipTarget("pbx.example.org", 5070, call_sid="CA0123456789abcdef0123456789abcdef")


def dialled(xml: str) -> tuple[str, dict[str, str]]:
    """The queue and headers of the ``<Dial><Sip>`` a document hands the caller to."""
    doc = ET.fromstring(xml)
    assert doc.find("Enqueue") is None, xml  # never a Twilio queue nobody serves
    sip = doc.find("Dial/Sip")
    assert sip is not None, xml
    assert sip.text, xml
    assert [child.tag for child in doc] == ["Dial", "Hangup"], xml  # nothing after the leg
    uri = urlsplit(sip.text)
    user, _, hostport = uri.path.partition("@")
    assert (uri.scheme, hostport) == ("sip", "pbx.example.org:5070"), sip.text
    return user, dict(parse_qsl(uri.query, strict_parsing=True))


def test_a_queue_choice_dials_the_pbx_with_the_call_sid_and_escaped_headers() -> None:
    menu, option = queue_choice(FLOW)
    xml = render_choice(FLOW, menu.name, option.digit, language="en", sip=PBX)
    queue, headers = dialled(xml)
    assert queue == option.queue
    assert headers == {
        "X-Hotline-CallSid": PBX.call_sid,
        "X-Hotline-Tag": option.tag or option.queue,
        "X-Hotline-Lang": "en",
    }
    # the '&' between the headers is escaped in the document, not a raw XML entity start
    assert "?X-Hotline-CallSid=CA0123456789abcdef0123456789abcdef&amp;X-Hotline-Tag=" in xml


def test_every_route_dials_its_queue_and_free_text_survives_the_headers() -> None:
    for route in routes(FLOW):
        menu, lang = FLOW.start, FLOW.default_language
        for digit in route.digits:
            doc = ET.fromstring(render_choice(FLOW, menu, digit, language=lang, sip=PBX))
            redirect = doc.find("Redirect")
            if redirect is None:
                break  # dialled
            assert redirect.text
            target = urlsplit(redirect.text)
            menu, lang = target.path.split("/")[-1], dict(parse_qsl(target.query))["lang"]
        queue, headers = dialled(ET.tostring(doc, encoding="unicode"))
        assert (queue, headers["X-Hotline-Tag"]) == (route.queue, route.tag or route.queue)
        assert headers["X-Hotline-Lang"] == route.language
    hostile = dataclasses.replace(PBX, call_sid='CA1&X-Evil=1>"<')
    xml = render_enqueue(FLOW, FLOW.operator_queue, language="zh", tag="投诉 &x", sip=hostile)
    queue, headers = dialled(xml)
    assert headers == {
        "X-Hotline-CallSid": 'CA1&X-Evil=1>"<',
        "X-Hotline-Tag": "投诉 &x",
        "X-Hotline-Lang": "zh",
    }
