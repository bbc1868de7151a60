"""Twilio webhooks for a flow: a small Starlette app serving the TwiML of :mod:`.twiml`.

::

    events = InMemoryCallEvents()
    app = create_twilio_app(flow, auth_token=token, public_url="https://hotline.example.org",
                            events=events, notice=lambda: live.notice())

Point the Twilio number's voice URL at ``{public_url}/twilio/voice`` and its status callback
at ``{public_url}/twilio/status`` (both POST). Every request must carry a valid
``X-Twilio-Signature`` for the URL Twilio requested: behind a proxy or tunnel give
``public_url`` (scheme, host and port as Twilio sees them), else the request's own URL is used.

Answers: 200 with TwiML (``application/xml; charset=utf-8``); 403 for a missing or wrong
signature; 404 for a menu or queue the flow does not have; 400 for a malformed body or
query; 413 past :data:`BODY_LIMIT`; 415 for a body that is not a form.

Steps of a call are recorded as :class:`CallEvent` into a :class:`CallEventSink` (the
history's ``twilio_events``: :class:`HistoryCallEvents`): entry,
each menu choice (``gather``), queue exits (``leave``), callback requests (with the
caller's number), survey scores and status callbacks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypedDict
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from hotline.ivr import twiml
from hotline.ivr.model import Flow
from hotline.stores.twilio_events import TwilioEvent, TwilioEvents

BODY_LIMIT = 64 * 1024
"""Twilio's webhook bodies are a few hundred bytes; anything this big is not Twilio."""
MAX_FIELDS = 256
FORM = "application/x-www-form-urlencoded"
XML = "application/xml; charset=utf-8"
STATUS_FIELDS = (
    "CallStatus",
    "CallDuration",
    "Duration",
    "Timestamp",
    "SequenceNumber",
    "CallbackSource",
    "Direction",
    "From",
    "To",
    "SipResponseCode",
    "AnsweredBy",
    "ParentCallSid",
)
"""The status callback parameters kept in the event (not the account's identifiers)."""

# stable error ids to HTTP status, in one place
HTTP_STATUS: Mapping[str, int] = {
    twiml.UnknownNodeError.error_id: 404,
    twiml.BadValueError.error_id: 400,
    twiml.TwimlError.error_id: 400,
}


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened on a Twilio call, as its webhook told it.

    ``kind``: ``entry``, ``gather``, ``leave``, ``callback``, ``survey`` or ``status``;
    ``fields``: Twilio's parameters under Twilio's names (``CallStatus``, ``From``...) and
    ours in lower case (``node``, ``digit``, ``queue``, ``score``...); ``at``: epoch seconds.
    """

    call_sid: str
    kind: str
    fields: Mapping[str, str] = field(hash=False)
    at: float


class CallEventSink(Protocol):
    """Where the webhooks put call events; called in a worker thread, one event at a time,
    after the handler answered (an event that cannot be saved fails the request: Twilio
    then retries or plays its error, and nothing is lost silently)."""

    def record(self, event: CallEvent) -> None: ...  # in a worker thread


class InMemoryCallEvents:
    """A :class:`CallEventSink` keeping events in a list, for tests.

    :class:`HistoryCallEvents` (the history, SQLite or PostgreSQL) keeps the same
    contract: ``record`` keeps the event, in order.
    """

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def record(self, event: CallEvent) -> None:
        self.events.append(event)

    def of_kind(self, kind: str) -> list[CallEvent]:
        return [e for e in self.events if e.kind == kind]


class HistoryCallEvents:
    """A :class:`CallEventSink` saving each event in the history's ``twilio_events``
    (``hotline calls show`` lists them); called in a worker thread (:func:`_flush`)."""

    def __init__(self, history: TwilioEvents) -> None:
        self.history = history

    def record(self, event: CallEvent) -> None:
        at_ms = round(event.at * 1000)
        self.history.save_twilio_events(
            [TwilioEvent(event.call_sid, event.kind, at_ms, dict(event.fields))]
        )

    def of_call(self, call_sid: str) -> list[CallEvent]:
        return [
            CallEvent(e.call_sid, e.kind, dict(e.fields), e.at_ms / 1000)
            for e in self.history.twilio_events(call_sid)
        ]


class _RejectError(Exception):
    """Answer the request with ``status`` and a short plain-text reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not (length.isascii() and length.isdigit()) or len(length) > 12:
            raise _RejectError(400, "bad Content-Length")
        if int(length) > BODY_LIMIT:
            raise _RejectError(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_LIMIT:  # a chunked body has no Content-Length to check first
            raise _RejectError(413, "body too large")
    return bytes(body)


def _parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    if not body:
        return {}
    if (content_type or "").split(";", 1)[0].strip().lower() != FORM:
        raise _RejectError(415, "expected a form body")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError is one too
        raise _RejectError(400, "malformed form body") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise _RejectError(400, "repeated form field")
    return form


@dataclass(frozen=True, slots=True)
class _Call:
    """One verified webhook request: form, query and path parameters."""

    form: Mapping[str, str]
    query: Mapping[str, str]
    path: Mapping[str, str]
    events: list[CallEvent] = field(default_factory=list)
    """What the handler recorded, saved after it answered (:meth:`_Hooks.endpoint`)."""

    @property
    def sid(self) -> str:
        sid = self.form.get("CallSid", "")
        if not sid:
            raise _RejectError(400, "missing CallSid")
        return sid

    def number(self, source: Mapping[str, str], name: str, default: int) -> int:
        text = source.get(name)
        if text is None or text == "":
            return default
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise _RejectError(400, f"bad {name}")
        return int(text)


class _Style(TypedDict):
    """How the documents are written: the renderers' keyword arguments."""

    base: str
    voices: Mapping[str, twiml.Voice]
    prompt_url: twiml.PromptUrl | None
    sip: twiml.SipTarget | None


def _xml(text: str) -> Response:
    return Response(text, media_type=XML)


class _Hooks:
    def __init__(
        self,
        flow: Flow,
        *,
        auth_token: str,
        public_url: str | None,
        events: CallEventSink,
        clock: Callable[[], float],
        notice: Callable[[], str | None],
        base: str,
        voices: Mapping[str, twiml.Voice],
        prompt_url: twiml.PromptUrl | None,
        sip: twiml.SipTarget | None,
    ) -> None:
        self.flow = flow
        self.sip = sip
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.events = events
        self.clock = clock
        self.notice = notice
        self.base, self.voices, self.prompt_url = base, voices, prompt_url
        # fail at start-up, not on the first call, when the timezone is unknown
        self.tz = dt.UTC if flow.hours.always else ZoneInfo(flow.hours.timezone)

    # -- the common part of every endpoint -------------------------------------------------

    def endpoint(self, handler: Callable[[_Call], str]) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            try:
                form = _parse_form(await _read_body(request), request.headers.get("content-type"))
                self.verify(request, form)
                call = _Call(form, dict(request.query_params), dict(request.path_params))
                answer = _xml(handler(call))
                for event in call.events:
                    # a store write (SQLite's fsync, a PostgreSQL round trip) off the loop
                    await asyncio.to_thread(self.events.record, event)
                return answer
            except _RejectError as reject:
                return PlainTextResponse(reject.reason, status_code=reject.status)
            except twiml.TwimlError as exc:
                return PlainTextResponse(str(exc), status_code=HTTP_STATUS[exc.error_id])

        return serve

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: scheme, host and port as Twilio saw them, path, query."""
        raw = request.scope.get("raw_path")
        path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
        query = request.scope.get("query_string", b"").decode("latin-1")
        origin = self.public_url or f"{request.url.scheme}://{request.url.netloc}"
        return origin + path + (f"?{query}" if query else "")

    def verify(self, request: Request, form: Mapping[str, str]) -> None:
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            raise _RejectError(403, "missing X-Twilio-Signature")
        try:
            valid = bool(self.validator.validate(self.signed_url(request), form, signature))
        except ValueError:  # e.g. a Host header with a port that is not a number
            valid = False
        if not valid:
            raise _RejectError(403, "invalid X-Twilio-Signature")

    def record(self, call: _Call, kind: str, fields: Mapping[str, str]) -> None:
        call.events.append(CallEvent(call.sid, kind, dict(fields), self.clock()))

    def style(self, call: _Call) -> _Style:
        """How this call's documents are written; a queue hands it to the PBX over SIP
        with its CallSid, so the PBX's record of the call names the Twilio call."""
        sip = replace(self.sip, call_sid=call.sid) if self.sip is not None else None
        return _Style(base=self.base, voices=self.voices, prompt_url=self.prompt_url, sip=sip)

    def lang(self, call: _Call) -> str:
        return call.query.get("lang") or self.flow.default_language

    # -- endpoints ---------------------------------------------------------------------------

    def voice(self, call: _Call) -> str:
        now = dt.datetime.fromtimestamp(self.clock(), self.tz)
        notice = self.notice()
        is_open = self.flow.hours.is_open(now)
        played = notice if is_open and notice in self.flow.announcements else None
        self.record(call, "entry", {"open": "1" if is_open else "0", "notice": played or ""})
        return twiml.render_entry(self.flow, now=now, notice=notice, **self.style(call))

    def menu(self, call: _Call) -> str:
        return twiml.render_node(
            self.flow,
            call.path["node"],
            language=self.lang(call),
            attempt=call.number(call.query, "attempt", 0),
            **self.style(call),
        )

    def gather(self, call: _Call) -> str:
        node = call.path["node"]
        attempt = call.number(call.query, "attempt", 0)
        digit = "" if call.query.get("noinput") else call.form.get("Digits", "")
        xml = twiml.render_choice(
            self.flow,
            node,
            digit,
            language=self.lang(call),
            attempt=attempt,
            **self.style(call),
        )
        fields = {"node": node, "digit": digit, "lang": self.lang(call), "attempt": str(attempt)}
        self.record(call, "gather", fields)
        return xml

    def wait(self, call: _Call) -> str:
        return twiml.render_wait(
            self.flow,
            call.path["queue"],
            language=self.lang(call),
            tag=call.query.get("tag", ""),
            queue_time=call.number(call.form, "QueueTime", 0),
            position=call.number(call.form, "QueuePosition", 0) or None,
            **self.style(call),
        )

    def leave(self, call: _Call) -> str:
        queue = call.path["queue"]
        result = twiml.QueueResult.parse(call.form.get("QueueResult", ""))
        xml = twiml.render_leave(
            self.flow,
            queue,
            result,
            language=self.lang(call),
            tag=call.query.get("tag", ""),
            **self.style(call),
        )
        fields = {
            "queue": queue,
            "result": result.value,
            "QueueResult": call.form.get("QueueResult", ""),
            "QueueTime": call.form.get("QueueTime", ""),
            "tag": call.query.get("tag", ""),
        }
        self.record(call, "leave", fields)
        return xml

    def callback(self, call: _Call) -> str:
        queue = call.path["queue"]
        if self.flow.callback is None:
            raise twiml.UnknownNodeError("the flow offers no callback")
        digits = call.form.get("Digits")
        if not twiml.callback_accepted(self.flow, digits):
            # declined while waiting: keep holding, without asking again in this round
            return twiml.render_wait(
                self.flow,
                queue,
                language=self.lang(call),
                tag=call.query.get("tag", ""),
                offer=False,
                **self.style(call),
            )
        xml = twiml.render_callback(
            self.flow,
            queue,
            language=self.lang(call),
            **self.style(call),
        )
        fields = {
            "queue": queue,
            "tag": call.query.get("tag", ""),
            "lang": self.lang(call),
            "From": call.form.get("From", ""),
        }
        self.record(call, "callback", fields)
        return xml

    def survey(self, call: _Call) -> str:
        queue = call.query.get("queue", "")
        if queue and queue not in self.flow.queues:
            raise twiml.BadValueError(f"no queue {queue!r}")
        digits = call.form.get("Digits")
        xml = twiml.render_survey_answer(
            self.flow,
            digits,
            language=self.lang(call),
            **self.style(call),
        )
        score = twiml.survey_score(self.flow, digits)
        self.record(call, "survey", {"score": score or "none", "queue": queue})
        return xml

    def status(self, call: _Call) -> str:
        fields = {name: call.form[name] for name in STATUS_FIELDS if name in call.form}
        self.record(call, "status", fields)
        return twiml.render_empty()


def create_twilio_app(
    flow: Flow,
    *,
    auth_token: str,
    public_url: str | None = None,
    events: CallEventSink,
    clock: Callable[[], float] = time.time,
    notice: Callable[[], str | None] = lambda: None,
    base: str = twiml.BASE,
    mounted_at: str = "",
    voices: Mapping[str, twiml.Voice] = twiml.DEFAULT_VOICES,
    prompt_url: twiml.PromptUrl | None = None,
    sip: twiml.SipTarget | None = None,
) -> Starlette:
    """The webhook app for ``flow``, its routes under ``base`` (POST only).

    ``mounted_at``: the path this app is mounted under in a larger app; the URLs the TwiML
    sends Twilio to (a Gather's action, a Redirect) carry it, or Twilio's next request
    misses the mount and gets a 404 at the first key press.

    ``auth_token`` signs Twilio's requests (from the environment, never the flow);
    ``clock`` gives epoch seconds (opening hours, event times); ``notice`` names the
    announcement switched on now, if any. ``sip``: the PBX's trunk as Twilio dials it
    (``HOTLINE_TWILIO_SIP``): callers reaching a queue are handed to the PBX's queue
    (``<Dial><Sip>``, the Twilio CallSid in ``X-Hotline-CallSid``) instead of a Twilio
    queue.
    """
    hooks = _Hooks(
        flow,
        auth_token=auth_token,
        public_url=public_url,
        events=events,
        clock=clock,
        notice=notice,
        base=mounted_at + base,
        voices=voices,
        prompt_url=prompt_url,
        sip=sip,
    )
    table: list[tuple[str, Callable[[_Call], str]]] = [
        ("/voice", hooks.voice),
        ("/menu/{node}", hooks.menu),
        ("/gather/{node}", hooks.gather),
        ("/wait/{queue}", hooks.wait),
        ("/leave/{queue}", hooks.leave),
        ("/callback/{queue}", hooks.callback),
        ("/survey", hooks.survey),
        ("/status", hooks.status),
    ]
    routes = [Route(base + path, hooks.endpoint(fn), methods=["POST"]) for path, fn in table]
    return Starlette(routes=routes)
