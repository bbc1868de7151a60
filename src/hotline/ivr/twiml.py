"""Render a flow to TwiML, for Twilio as the carrier (pure and deterministic).

The caller hears what the Asterisk dialplan (:mod:`hotline.ivr.asterisk`) plays: menus that
replay on invalid or no input and then hand over to the operator queue, "0" to a human from
every menu, the language choice, announcements, the callback offer and the survey. Twilio
asks for every next step over HTTP, so the flow is cut into documents, one per webhook
(served by :mod:`hotline.web.twilio`; ``base`` is where it is mounted)::

    {base}/voice              render_entry          hours, announcement, the start menu
    {base}/menu/{node}        render_node           a menu: <Gather>, then the no-input step
    {base}/gather/{node}      render_choice         the digit pressed (or none): the next step
    {base}/wait/{queue}       render_wait           while queued: hold prompt, callback offer
    {base}/leave/{queue}      render_leave          after the queue: survey, overflow, human
    {base}/callback/{queue}   render_callback       callback registered, goodbye
    {base}/survey             render_survey_answer  thanks for the score

The call's state travels in the query strings of the URLs written here (``lang``,
``attempt``, ``tag``...), so each document depends on its arguments only::

    flow = load_flow(Path("flows/12345.yaml").read_text())
    xml = render_node(flow, "main", language="en")
    xml = render_choice(flow, "main", "9", language="en", attempt=0)   # invalid: replay

Prompts are ``<Say>`` with the prompt's text in the caller's language (``voices`` picks
Twilio's language and voice per flow language), or ``<Play>`` where ``prompt_url(name,
lang)`` returns a URL (recorded or synthesised audio).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from hotline.ivr.model import Flow, Menu, Option, QueueSpec, WhenEmpty

if TYPE_CHECKING:  # a type only: the clock is read by the caller (pure core)
    from datetime import datetime

BASE = "/twilio"
HOLD_PAUSE = 20
"""Seconds of silence after the hold prompt; Twilio then asks ``waitUrl`` again."""
OFFER_TIMEOUT = 5
"""Seconds to press the callback digit (the dialplan's ``Read`` waits as long)."""
OPERATOR_TAG = "fallback"
"""The tag of a caller sent to a human because the menu did not work for them."""


class TwimlError(Exception):
    """Base of this module's errors; ``error_id`` is stable (the web layer maps it)."""

    error_id = "twiml.error"


class UnknownNodeError(TwimlError, LookupError):
    """The flow has no such menu or queue (a stale or forged URL)."""

    error_id = "twiml.unknown-node"


class BadValueError(TwimlError, ValueError):
    """A language, attempt or score the flow cannot serve."""

    error_id = "twiml.bad-value"


@dataclass(frozen=True, slots=True)
class Voice:
    """How Twilio speaks one flow language: ``<Say language=… voice=…>``."""

    language: str
    voice: str


DEFAULT_VOICES: Mapping[str, Voice] = MappingProxyType(
    {"zh": Voice("cmn-CN", "Polly.Zhiyu"), "en": Voice("en-US", "Polly.Joanna")}
)

PromptUrl = Callable[[str, str], str | None]
"""``prompt_url(name, lang)``: the URL of that prompt's audio, or None to ``<Say>`` it."""


class QueueResult(Enum):
    """Why a call left a Twilio queue: the ``QueueResult`` of the ``<Enqueue>`` action."""

    BRIDGED = "bridged"
    BRIDGING_IN_PROCESS = "bridging-in-process"
    ERROR = "error"
    HANGUP = "hangup"
    LEAVE = "leave"
    QUEUE_FULL = "queue-full"
    REDIRECTED = "redirected"
    REDIRECTED_FROM_BRIDGED = "redirected-from-bridged"
    SYSTEM_ERROR = "system-error"

    @classmethod
    def parse(cls, text: str) -> QueueResult:
        """The result Twilio sent; a value this code does not know counts as an error."""
        try:
            return cls(text)
        except ValueError:
            # an error sends the caller on to a human or a callback: never a dead end
            return cls.ERROR


SIP_HEADERS = ("X-Hotline-CallSid", "X-Hotline-Tag", "X-Hotline-Lang")
"""The headers of Twilio's SIP leg: the Twilio call it belongs to, the caller's choice and
language (the PBX keeps letters, digits, '-' and '_' of each)."""


@dataclass(frozen=True, slots=True)
class SipTarget:
    """The PBX's trunk as Twilio dials it (``HOTLINE_TWILIO_SIP``), for one Twilio call.

    With a target, a caller who reaches a queue is not ``<Enqueue>``d in a Twilio queue
    nobody serves: ``<Dial><Sip>sip:QUEUE@HOST:PORT?X-Hotline-CallSid=…</Sip></Dial>``
    puts them into the same Asterisk queue as the PBX's own callers.
    """

    host: str
    port: int
    call_sid: str = ""

    def uri(self, queue: str, *, tag: str, language: str) -> str:
        values = (self.call_sid, tag, language)
        headers = "&".join(f"{k}={_quote(v)}" for k, v in zip(SIP_HEADERS, values, strict=True))
        return f"sip:{_quote(queue)}@{self.host}:{self.port}?{headers}"


_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _quote(text: str) -> str:
    """Percent-encode a query value (tags are free text in the flow, e.g. Chinese)."""
    return "".join(c if c in _URL_SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


@dataclass(frozen=True, slots=True)
class _Doc:
    """What every document of one call needs: the flow, the caller's language, the style."""

    flow: Flow
    language: str
    base: str
    voices: Mapping[str, Voice]
    prompt_url: PromptUrl | None
    sip: SipTarget | None = None

    def speaking(self, language: str) -> _Doc:
        return _Doc(self.flow, language, self.base, self.voices, self.prompt_url, self.sip)

    def url(self, *path: str, **query: str | int | None) -> str:
        """``{base}/{path}?lang=…&…``; None values are left out, the order is as given."""
        pairs = [("lang", self.language), *((k, v) for k, v in query.items() if v is not None)]
        return (
            "/".join((self.base, *path)) + "?" + "&".join(f"{k}={_quote(str(v))}" for k, v in pairs)
        )

    def prompt(self, parent: Any, name: str) -> None:
        """Add the prompt ``name`` to ``parent`` (the response or a ``<Gather>``)."""
        url = self.prompt_url(name, self.language) if self.prompt_url is not None else None
        if url is not None:
            parent.play(url)
            return
        texts = self.flow.prompts[name]
        text = texts.get(self.language) or texts[self.flow.default_language]
        voice = self.voices.get(self.language)
        if voice is None:
            parent.say(text)
        else:
            parent.say(text, language=voice.language, voice=voice.voice)

    def gather(self, parent: Any, action: str, timeout: int) -> Any:
        # finishOnKey="" so that "#" is a key like any other: an option, or invalid, as in
        # the dialplan (Twilio's default would swallow it as the end of input)
        return parent.gather(
            action=action, finish_on_key="", input="dtmf", num_digits=1, timeout=timeout
        )


def _doc(
    flow: Flow,
    language: str,
    base: str,
    voices: Mapping[str, Voice],
    prompt_url: PromptUrl | None,
    sip: SipTarget | None = None,
) -> _Doc:
    if language not in flow.languages:
        raise BadValueError(f"language {language!r} is not one of {', '.join(flow.languages)}")
    return _Doc(flow, language, base, voices, prompt_url, sip)


def _menu(flow: Flow, node: str) -> Menu:
    menu = flow.menus.get(node)
    if menu is None:
        raise UnknownNodeError(f"no menu {node!r}")
    return menu


def _queue(flow: Flow, queue: str) -> QueueSpec:
    spec = flow.queues.get(queue)
    if spec is None:
        raise UnknownNodeError(f"no queue {queue!r}")
    return spec


def _xml(response: Any) -> str:
    return str(response.to_xml())


def _enqueue(d: _Doc, response: Any, queue: str, tag: str) -> None:
    if d.sip is not None:
        _dial(d, response, queue, tag)
        return
    response.enqueue(
        queue,
        action=d.url("leave", queue, tag=tag),
        wait_url=d.url("wait", queue, tag=tag),
    )


def _dial(d: _Doc, response: Any, queue: str, tag: str) -> None:
    """Hand the caller to the PBX's queue over SIP: ``<Dial><Sip>`` with the headers the
    PBX's ``hotline-twilio`` context reads; the call ends when that leg ends (the survey,
    if any, runs on the PBX)."""
    sip = d.sip
    assert sip is not None
    dial = response.dial(answer_on_bridge=True)
    dial.sip(sip.uri(queue, tag=tag, language=d.language))
    response.hangup()


def _to_operator(d: _Doc, response: Any) -> None:
    d.prompt(response, "to-operator")
    _enqueue(d, response, d.flow.operator_queue, OPERATOR_TAG)


def _take(d: _Doc, response: Any, option: Option) -> None:
    here = d.speaking(option.language or d.language)
    if option.queue is not None:
        _enqueue(here, response, option.queue, option.tag or option.queue)
    else:
        response.redirect(here.url("menu", option.goto or d.flow.start))


def render_empty() -> str:
    """An empty ``<Response />``: the answer to a status callback."""
    return _xml(VoiceResponse())


def render_entry(
    flow: Flow,
    *,
    now: datetime,
    notice: str | None = None,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """The answer to a new call at ``now`` (aware, in the line's timezone).

    Closed: the closed prompt, then hang up. Open: the announcement ``notice`` (when it
    names one of ``flow.announcements``; anything else is ignored, as a supervisor's switch
    is data), then the start menu in the flow's default language.
    """
    d = _doc(flow, flow.default_language, base, voices, prompt_url, sip)
    if not flow.hours.is_open(now):
        response = VoiceResponse()
        d.prompt(response, flow.hours.closed_prompt or "no-input")
        response.hangup()
        return _xml(response)
    return render_node(
        flow,
        flow.start,
        language=flow.default_language,
        base=base,
        voices=voices,
        prompt_url=prompt_url,
        sip=sip,
        notice=notice,
    )


def render_node(
    flow: Flow,
    node: str,
    *,
    language: str,
    attempt: int = 0,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
    notice: str | None = None,
) -> str:
    """The menu ``node`` played for the ``attempt``-th time (0 = first).

    A ``<Gather>`` of one digit posts to ``{base}/gather/{node}``; when the caller presses
    nothing Twilio falls through to a ``<Redirect>`` to the same gather URL with the marker
    ``noinput=1``, and :func:`render_choice` takes the step (the menu's ``no_input`` option,
    or the no-input prompt and the menu again with ``attempt + 1``). Past ``menu.retries``
    the caller goes to the operator queue with the "to-operator" prompt. ``notice`` is an
    announcement played first (see :func:`render_entry`). A menu that chooses the language
    says its prompt in every language of the flow, in the flow's order.
    """
    menu = _menu(flow, node)
    d = _doc(flow, language, base, voices, prompt_url, sip)
    if attempt < 0:
        raise BadValueError(f"attempt {attempt} is negative")
    response = VoiceResponse()
    if notice is not None and notice in flow.announcements:
        d.prompt(response, flow.announcements[notice])
    if attempt > menu.retries:
        _to_operator(d, response)
        return _xml(response)
    gather = d.gather(response, d.url("gather", node, attempt=attempt), menu.timeout)
    if any(o.language for o in menu.options):
        # the caller has not chosen yet: each language's line in its own voice (the
        # dialplan's bilingual prompt file does the same with two espeak voices)
        for lang in flow.languages:
            d.speaking(lang).prompt(gather, menu.prompt)
    else:
        d.prompt(gather, menu.prompt)
    response.redirect(d.url("gather", node, attempt=attempt, noinput=1))
    return _xml(response)


def render_choice(
    flow: Flow,
    node: str,
    digit: str,
    *,
    language: str,
    attempt: int = 0,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """The step after the caller pressed ``digit`` ("" for nothing) in menu ``node``.

    An option: a ``<Redirect>`` to its menu (in the option's language, if it sets one) or an
    ``<Enqueue>`` into its queue. "" with a ``no_input`` option: that option. Otherwise the
    "invalid" (or "no-input") prompt and the menu again, or the operator queue once the
    menu has been played ``retries + 1`` times, as the dialplan does.
    """
    menu = _menu(flow, node)
    d = _doc(flow, language, base, voices, prompt_url, sip)
    if attempt < 0:
        raise BadValueError(f"attempt {attempt} is negative")
    response = VoiceResponse()
    option = menu.no_input if digit == "" else menu.option(digit)
    if option is not None:
        _take(d, response, option)
        return _xml(response)
    d.prompt(response, "no-input" if digit == "" else "invalid")
    if attempt + 1 > menu.retries:
        _to_operator(d, response)
    else:
        response.redirect(d.url("menu", node, attempt=attempt + 1))
    return _xml(response)


def render_enqueue(
    flow: Flow,
    queue: str,
    *,
    language: str,
    tag: str = "",
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """Put the caller into ``queue``: ``<Enqueue waitUrl=… action=…>``.

    Whether to offer a callback cannot be known here (Twilio tells the queue position only
    to ``waitUrl``), so :func:`render_wait` makes the offer.
    """
    _queue(flow, queue)
    d = _doc(flow, language, base, voices, prompt_url, sip)
    response = VoiceResponse()
    _enqueue(d, response, queue, tag or queue)
    return _xml(response)


def _wait_limit(spec: QueueSpec) -> int:
    """Seconds in the queue before the caller moves on (the dialplan's ``Queue`` timeout)."""
    return spec.overflow_after if spec.overflow_to and spec.overflow_after else spec.timeout


def render_wait(
    flow: Flow,
    queue: str,
    *,
    language: str,
    tag: str = "",
    queue_time: int = 0,
    position: int | None = None,
    offer: bool = True,
    hold: int = HOLD_PAUSE,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """What a queued caller hears; Twilio asks again each time the document ends.

    ``queue_time`` and ``position`` are Twilio's ``QueueTime`` and ``QueuePosition`` (1 =
    next). Past the queue's overflow time the caller ``<Leave>``s (and
    :func:`render_leave` sends them to the overflow queue). Otherwise: the "queue-hold"
    prompt; the callback offer as a ``<Gather>`` posting to ``{base}/callback/{queue}``,
    when a callback is configured, ``offer`` is true, and either at least
    ``offer_when_waiting`` callers are ahead or the queue's timeout has passed; then a
    pause of ``hold`` seconds.
    """
    spec = _queue(flow, queue)
    d = _doc(flow, language, base, voices, prompt_url, sip)
    response = VoiceResponse()
    if spec.overflow_to is not None and queue_time >= _wait_limit(spec):
        response.leave()
        return _xml(response)
    d.prompt(response, "queue-hold")
    callback = flow.callback
    if callback is not None and offer:
        # position 1 is next: the callers ahead are position - 1, as the dialplan's
        # QUEUE_WAITING_COUNT before joining
        crowded = position is not None and position - 1 >= callback.offer_when_waiting
        if crowded or queue_time >= spec.timeout:
            action = d.url("callback", queue, tag=tag or queue)
            gather = d.gather(response, action, OFFER_TIMEOUT)
            d.prompt(gather, callback.prompt)
    response.pause(length=hold)
    return _xml(response)


def _on_empty(d: _Doc, response: Any, spec: QueueSpec, tag: str) -> None:
    """Where a caller goes when the queue cannot take them (the dialplan's JOINEMPTY...)."""
    if spec.when_empty is WhenEmpty.OVERFLOW and spec.overflow_to is not None:
        _enqueue(d, response, spec.overflow_to, tag)
    elif spec.when_empty is WhenEmpty.CALLBACK and d.flow.callback is not None:
        # the callback endpoint registers the caller's number (no Digits: no question asked)
        response.redirect(d.url("callback", spec.name, tag=tag))
    elif spec.name != d.flow.operator_queue:
        _enqueue(d, response, d.flow.operator_queue, tag)
    else:  # the loader rules this out; still no dead end for the caller
        d.prompt(response, "to-operator")
        _enqueue(d, response, spec.name, tag)


def render_leave(
    flow: Flow,
    queue: str,
    result: QueueResult,
    *,
    language: str,
    tag: str = "",
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """The step after the caller left ``queue`` (the ``<Enqueue>`` action).

    bridged (the agent hung up): the survey, if the flow has one, else hang up. hangup and
    the bridged variants: nothing (the caller is gone or elsewhere). leave (our wait
    document's ``<Leave>``): the overflow queue. queue-full, redirected and errors: as the
    dialplan's JOINEMPTY: the overflow queue, a callback or the operator.
    """
    spec = _queue(flow, queue)
    d = _doc(flow, language, base, voices, prompt_url, sip)
    tag = tag or queue
    response = VoiceResponse()
    if result is QueueResult.BRIDGED:
        survey = flow.survey
        if survey is None:
            response.hangup()
        else:
            gather = d.gather(response, d.url("survey", queue=queue), survey.timeout)
            d.prompt(gather, survey.prompt)
            # no answer: recorded as such by the survey endpoint, which hangs up
            response.redirect(d.url("survey", queue=queue))
    elif result in (
        QueueResult.HANGUP,
        QueueResult.BRIDGING_IN_PROCESS,
        QueueResult.REDIRECTED_FROM_BRIDGED,
    ):
        pass
    elif result is QueueResult.LEAVE:
        _enqueue(d, response, spec.overflow_to or queue, tag)
    else:
        _on_empty(d, response, spec, tag)
    return _xml(response)


def callback_accepted(flow: Flow, digits: str | None) -> bool:
    """Whether a request to the callback endpoint registers a callback.

    ``None`` (no ``Digits``: the flow itself chose a callback) or the offer's digit: yes.
    """
    if flow.callback is None:
        return False
    return digits is None or digits == flow.callback.digit


def render_callback(
    flow: Flow,
    queue: str,
    *,
    language: str,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """The callback is registered: the confirm prompt, then hang up."""
    _queue(flow, queue)
    if flow.callback is None:
        raise UnknownNodeError("the flow offers no callback")
    d = _doc(flow, language, base, voices, prompt_url, sip)
    response = VoiceResponse()
    d.prompt(response, flow.callback.confirm)
    response.hangup()
    return _xml(response)


def survey_score(flow: Flow, digits: str | None) -> str | None:
    """The score in ``digits`` when it is one of the survey's, else None (no answer)."""
    if flow.survey is None or digits is None or len(digits) != 1:
        return None
    return digits if digits in flow.survey.scores else None


def render_survey_answer(
    flow: Flow,
    digits: str | None,
    *,
    language: str,
    base: str = BASE,
    voices: Mapping[str, Voice] = DEFAULT_VOICES,
    prompt_url: PromptUrl | None = None,
    sip: SipTarget | None = None,
) -> str:
    """After the survey: thanks for a valid score, then hang up (no answer: just hang up)."""
    if flow.survey is None:
        raise UnknownNodeError("the flow has no survey")
    d = _doc(flow, language, base, voices, prompt_url, sip)
    response = VoiceResponse()
    if survey_score(flow, digits) is not None:
        d.prompt(response, flow.survey.thanks)
    response.hangup()
    return _xml(response)
