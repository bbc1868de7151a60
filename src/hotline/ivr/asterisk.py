"""Render a flow to Asterisk configuration (pure and deterministic).

Two files, included by dialplan/extensions.conf and dialplan/queues.conf:

- ``extensions-hotline.conf``: the entry context (the DID), one context per menu holding
  only that menu's one-digit extensions (a digit beside the DID would wait for more digits:
  ``1`` could start ``12345``), one context per queue, the survey and the callback;
- ``queues-hotline.conf``: one queue per flow queue, from the ``hotline-defaults`` template.

Every step a caller takes is announced with ``UserEvent(HotlineIvr, ...)`` and kept in the
inherited channel variable ``HOTLINE_PATH`` (``language:1>main:2>complaint:3``), so the
controller knows the IVR path of each call. Each call bridged to an agent is recorded per
leg with MixMonitor (two files, no mixed copy), named by the caller channel's ``${UNIQUEID}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hotline.ivr.model import Flow, Hours, Menu, Option, QueueSpec, Visit, WhenEmpty

ENTRY = "hotline-ivr"
STEP = "hotline-step"
NOTICE = "hotline-notice"
SURVEY = "hotline-survey"
VISIT = "hotline-visit"
CALLBACK = "hotline-callback"
HOURS = "hotline-hours"
TWILIO = "hotline-twilio"
"""The context of Twilio's SIP leg (pbx/trunk.py's endpoint ``hotline-twilio``): the
extension is the queue the caller chose in Twilio's IVR (ivr/twiml.py)."""
TWILIO_PATH = "twilio:sip"
"""The IVR path of a call whose menus ran at Twilio (its steps are in Twilio's events)."""
NOTICE_VARIABLE = "HOTLINE_NOTICE"
# the caller's channel recorded while bridged, the caller (rx) and the agent (tx) apart, at
# ${HOTLINE_REC}; no file name: with r() or t() given, app_mixmonitor writes no mixed copy
# (a third file per call that nothing read; hotline mixes on demand)
RECORD_LEGS = "MixMonitor(,br(${HOTLINE_REC}-rx.wav)t(${HOTLINE_REC}-tx.wav))"
"""The global variable a supervisor sets (over AMI) to switch an announcement on."""


def menu_context(name: str) -> str:
    return f"hotline-menu-{name}"


def queue_context(name: str) -> str:
    return f"hotline-queue-{name}"


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the running Asterisk finds prompts and puts recordings (inside its chroot)."""

    prompts: str = "/srv/hotline/prompts"
    recordings: str = "/srv/hotline/spool/recordings"


class _Context:
    """Lines of one context, with Asterisk's ``same => n`` continuation.

    A step written ``"(label)App(args)"`` gets a priority label.
    """

    def __init__(self, name: str, comment: str = "") -> None:
        self.lines = [f"[{name}]"] + ([f"; {comment}"] if comment else [])

    def exten(self, exten: str, *steps: str) -> None:
        for i, step in enumerate(steps):
            label = ""
            if step.startswith("("):
                label, step = step[1:].split(")", 1)
            priority = ("1" if i == 0 else "n") + (f"({label})" if label else "")
            head = f"exten => {exten}," if i == 0 else " same => "
            self.lines.append(f"{head}{priority},{step}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _prompt(paths: Paths, name: str) -> str:
    return f"{paths.prompts}/${{CHANNEL(language)}}/{name}"


def _step(menu: str, what: str) -> str:
    return f"Gosub({STEP},s,1({menu},{what}))"


def _take(flow: Flow, menu: Menu, option: Option, what: str) -> list[str]:
    steps = [_step(menu.name, what)]
    if option.language is not None:
        steps.append(f"Set(CHANNEL(language)={option.language})")
    if option.queue is not None:
        steps.append(f"Set(__HOTLINE_TAG={option.tag or option.queue})")
        steps.append(f"Goto({queue_context(option.queue)},s,1)")
    else:
        steps.append(f"Goto({menu_context(option.goto or flow.start)},s,1)")
    return steps


def _menu(flow: Flow, menu: Menu, paths: Paths) -> str:
    ctx = _Context(menu_context(menu.name), f"menu '{menu.name}': one-digit extensions only")
    ctx.exten(
        "s",
        "Set(HOTLINE_TRIES=0)",
        f"(ask)Background({_prompt(paths, menu.prompt)})",
        f"WaitExten({menu.timeout})",
        # WaitExten returns on a timeout without going to 't' itself (seen on Asterisk 22)
        "Goto(t,1)",
        # invalid or no input: replay the menu `retries` times, then a human, never a hang-up
        "(retry)Set(HOTLINE_TRIES=$[${HOTLINE_TRIES} + 1])",
        f"GotoIf($[${{HOTLINE_TRIES}} > {menu.retries}]?human)",
        "Goto(ask)",
        f"(human)Playback({_prompt(paths, 'to-operator')})",
        "Set(__HOTLINE_TAG=fallback)",
        f"Goto({queue_context(flow.operator_queue)},s,1)",
    )
    for option in menu.options:
        ctx.exten(option.digit, *_take(flow, menu, option, option.digit))
    if menu.no_input is not None:
        ctx.exten("t", *_take(flow, menu, menu.no_input, "no-input"))
    else:
        ctx.exten(
            "t",
            _step(menu.name, "no-input"),
            f"Playback({_prompt(paths, 'no-input')})",
            "Goto(s,retry)",
        )
    ctx.exten(
        "i",
        _step(menu.name, "invalid"),
        f"Playback({_prompt(paths, 'invalid')})",
        "Goto(s,retry)",
    )
    return ctx.text()


def _on_timeout(flow: Flow, queue: QueueSpec) -> str:
    """Where a caller goes when Queue() times out: overflow, a callback offer, or wait on."""
    if queue.overflow_to is not None:
        return f"{queue_context(queue.overflow_to)},s,1"
    if flow.callback is not None:
        return f"{CALLBACK},offer,1"
    return f"{queue_context(queue.name)},s,enter"


def _on_empty(flow: Flow, queue: QueueSpec) -> str:
    """Where a caller goes when no agent is logged in (the loader rules out loops)."""
    if queue.when_empty is WhenEmpty.OVERFLOW and queue.overflow_to is not None:
        return f"{queue_context(queue.overflow_to)},s,1"
    if queue.when_empty is WhenEmpty.OPERATOR:
        return f"{queue_context(flow.operator_queue)},s,1"
    return f"{CALLBACK},register,1"


def _queue(flow: Flow, queue: QueueSpec, paths: Paths) -> str:
    name = queue.name
    ctx = _Context(queue_context(name), f"queue '{name}': {queue.label}")
    wait = queue.overflow_after if queue.overflow_to else queue.timeout
    steps = [
        f"Set(__HOTLINE_QUEUE={name})",
        f"UserEvent(HotlineQueue,Queue: {name},Path: ${{HOTLINE_PATH}},Tag: ${{HOTLINE_TAG}})",
    ]
    if flow.callback is not None:
        steps.append(
            f"GotoIf($[${{QUEUE_WAITING_COUNT({name})}} >= {flow.callback.offer_when_waiting}]"
            f"?{CALLBACK},offer,1)"
        )
    steps += [
        '(enter)GotoIf($["${HOTLINE_REC}" != ""]?queue)',
        f"Set(__HOTLINE_REC={paths.recordings}/${{STRFTIME(${{EPOCH}},UTC,%Y/%m/%d)}}"
        "/${UNIQUEID})",
        RECORD_LEGS,
        # MixMonitor's own events carry no file name: tell the controller where the legs go
        "UserEvent(HotlineRecording,File: ${HOTLINE_REC})",
        # c: continue here when the agent hangs up, for the survey; t: the agent's side may
        # transfer, which is what lets AMI's Atxfer (hotline transfer --attended) start an
        # attended transfer on the agent's channel: it sends the atxfer feature code as if
        # pressed, and a bridge listens for it only on a channel allowed to transfer
        f"(queue)Queue({name},ct,,,{wait})",
        f'GotoIf($["${{MEMBERINTERFACE}}" != ""]?{SURVEY},s,1)',
        # QueueCallerAbandon fires on a timeout too: this says how the caller left
        f"UserEvent(HotlineQueueExit,Queue: {name},Status: ${{QUEUESTATUS}})",
        "Goto(${QUEUESTATUS},1)",
    ]
    ctx.exten("s", *steps)
    ctx.exten("TIMEOUT", f"Goto({_on_timeout(flow, queue)})")
    for status in ("JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "FULL"):
        ctx.exten(status, f"Goto({_on_empty(flow, queue)})")
    ctx.exten("_[A-Z].", "Hangup()")  # CONTINUE, WITHDRAW: the call is over
    return ctx.text()


def _common(flow: Flow, paths: Paths) -> list[str]:
    step = _Context(STEP, "records each IVR step: UserEvent for the controller, HOTLINE_PATH")
    step.exten(
        "s",
        'Set(__HOTLINE_PATH=${HOTLINE_PATH}${IF($["${HOTLINE_PATH}" = ""]?:>)}${ARG1}:${ARG2})',
        "UserEvent(HotlineIvr,Menu: ${ARG1},Digit: ${ARG2},Path: ${HOTLINE_PATH})",
        "Return()",
    )
    notice = _Context(NOTICE, f"announcements, switched on by the global {NOTICE_VARIABLE}")
    for name, prompt in sorted(flow.announcements.items()):
        notice.exten(
            name,
            f"UserEvent(HotlineNotice,Notice: {name})",
            f"Playback({_prompt(paths, prompt)})",
            "Return()",
        )
    contexts = [step.text(), notice.text()]
    if flow.survey is not None:
        s = flow.survey
        survey = _Context(SURVEY, "after the agent hangs up: a 1-5 rating by DTMF")
        survey.exten(
            "s",
            # the talk is over: MixMonitor (b) would write nothing more, but its audiohook
            # would still wake its thread for every frame of the survey (bench/load.py
            # --breakdown: recording is the dearest part of a call); the legs close now
            "StopMixMonitor()",
            f"Read(HOTLINE_SCORE,{_prompt(paths, s.prompt)},1,,1,{s.timeout})",
            f'GotoIf($["${{HOTLINE_SCORE}}" : "[{s.scores}]$"]?scored)',
            "UserEvent(HotlineSurvey,Score: none,Queue: ${HOTLINE_QUEUE})",
            "Hangup()",
            "(scored)UserEvent(HotlineSurvey,Score: ${HOTLINE_SCORE},Queue: ${HOTLINE_QUEUE})",
            # in queue_log too, so the importer and third parties see it beside the call
            "QueueLog(${HOTLINE_QUEUE},${UNIQUEID},NONE,SURVEY,${HOTLINE_SCORE})",
            f"Playback({_prompt(paths, s.thanks)})",
            "Hangup()",
        )
        contexts.append(survey.text())
    if flow.visit is not None:
        contexts.append(_visit(flow.visit, flow.default_language, paths))
    if flow.callback is not None:
        c = flow.callback
        cb = _Context(CALLBACK, "keeps the caller's number and request as a callback task")
        cb.exten(
            "offer",
            f"Read(HOTLINE_CHOICE,{_prompt(paths, c.prompt)},1,,1,5)",
            f'GotoIf($["${{HOTLINE_CHOICE}}" = "{c.digit}"]?register,1)',
            # declined: back into the queue that made the offer
            f"Goto({queue_context('${HOTLINE_QUEUE}')},s,enter)",
        )
        cb.exten(
            "register",
            "UserEvent(HotlineCallback,Queue: ${HOTLINE_QUEUE},Number: ${CALLERID(num)},"
            "Path: ${HOTLINE_PATH},Tag: ${HOTLINE_TAG})",
            "QueueLog(${HOTLINE_QUEUE},${UNIQUEID},NONE,CALLBACK,${CALLERID(num)})",
            f"Playback({_prompt(paths, c.confirm)})",
            "Hangup()",
        )
        contexts.append(cb.text())
    if not flow.hours.always:
        contexts.append(_hours(flow.hours))
    return contexts


def _visit(v: Visit, language: str, paths: Paths) -> str:
    """The 回访 call, on the citizen's side once they answer (an Originate of
    Local/<number>@hotline-outbound with Context=hotline-visit and HOTLINE_VISIT=<order>):
    resolved (1 yes, 2 no), then a 1-5 rating; whatever was pressed is reported."""
    ctx = _Context(VISIT, "回访: the citizen rates how their work order was handled")
    ctx.exten(
        "s",
        f"Set(CHANNEL(language)={language})",  # an originated channel has no IVR choice
        "Wait(1)",  # the carrier's media settles before the first words
        f"Read(HOTLINE_RESOLVED,{_prompt(paths, v.resolved)},1,,2,{v.timeout})",
        f"Read(HOTLINE_RATING,{_prompt(paths, v.rating)},1,,2,{v.timeout})",
        "UserEvent(HotlineVisit,Order: ${HOTLINE_VISIT},Resolved: ${HOTLINE_RESOLVED},"
        "Rating: ${HOTLINE_RATING})",
        f"Playback({_prompt(paths, v.thanks)})",
        "Hangup()",
    )
    return ctx.text()


def _hours(hours: Hours) -> str:
    ctx = _Context(HOURS, "HOTLINE_OPEN=1 when the line is open now")
    tz = hours.timezone
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    steps = [f"Set(HOTLINE_TODAY=${{STRFTIME(${{EPOCH}},{tz},%F)}})"]
    if hours.holidays:
        days = "|".join(d.isoformat() for d in hours.holidays)
        steps.append(f'GotoIf($["${{HOTLINE_TODAY}}" : "({days})$"]?closed)')
    if hours.workdays:
        days = "|".join(d.isoformat() for d in hours.workdays)
        steps.append(f'GotoIf($["${{HOTLINE_TODAY}}" : "({days})$"]?workday)')
    steps += [
        f"GotoIfTime({start:%H:%M}-{end:%H:%M},{names[day - 1]},*,*,{tz}?open)"
        for day, start, end in hours.weekly
    ]
    steps += ["(closed)Set(HOTLINE_OPEN=0)", "Return()"]
    # a make-up working day (调休) keeps Monday's hours
    monday = [(s, e) for d, s, e in hours.weekly if d == 1]
    steps += [
        f"(workday)GotoIfTime({s:%H:%M}-{e:%H:%M},*,*,*,{tz}?open)"
        if i == 0
        else f"GotoIfTime({s:%H:%M}-{e:%H:%M},*,*,*,{tz}?open)"
        for i, (s, e) in enumerate(monday)
    ] or ["(workday)NoOp(no Monday hours)"]
    steps += ["Goto(closed)", "(open)Set(HOTLINE_OPEN=1)", "Return()"]
    ctx.exten("s", *steps)
    return ctx.text()


def _entry(flow: Flow, paths: Paths) -> str:
    ctx = _Context(ENTRY, f"{flow.name}: calls to {flow.did}")
    steps = [
        f"Set(CHANNEL(language)={flow.default_language})",
        f"Set(__HOTLINE_LINE={flow.did})",
        "Set(__HOTLINE_PATH=)",
        f"UserEvent(HotlineIvr,Menu: entry,Digit: ,Path: ,Line: {flow.did})",
        "Answer()",
    ]
    if not flow.hours.always:
        closed = flow.hours.closed_prompt or "no-input"
        steps += [
            f"Gosub({HOURS},s,1)",
            "GotoIf($[${HOTLINE_OPEN} = 1]?open)",
            "UserEvent(HotlineIvr,Menu: entry,Digit: closed,Path: closed)",
            f"Playback({_prompt(paths, closed)})",
            "Hangup()",
        ]
    # only an announcement that exists in the dialplan can play (the variable is data)
    steps += [
        f"(open)GotoIf($[${{DIALPLAN_EXISTS({NOTICE},${{{NOTICE_VARIABLE}}},1)}}]?:menu)",
        f"Gosub({NOTICE},${{{NOTICE_VARIABLE}}},1)",
        f"(menu)Goto({menu_context(flow.start)},s,1)",
    ]
    ctx.exten(flow.did, *steps)
    # calls from the carrier trunk (pbx/trunk.py) arrive here, whatever DID they were for:
    # the same entry, so they are the same calls, counted the same
    ctx.exten("trunk", f"Goto({flow.did},1)")
    return ctx.text()


def _header(name: str, allowed: str) -> str:
    """The INVITE's header ``name``, only its ``allowed`` characters (the value is data)."""
    return f"${{FILTER({allowed},${{PJSIP_HEADER(read,{name})}})}}"


def _twilio(flow: Flow) -> str:
    """Twilio's callers, after the menus Twilio played: straight into the queue they chose.

    The same entry event as a PBX caller (the controller's record starts there, on the
    line's DID), then ``HotlineTwilio`` with the Twilio CallSid that ties the record to
    Twilio's own events, then the queue context every caller takes (recording, survey).
    Any other extension does not exist: PJSIP answers 404."""
    ctx = _Context(TWILIO, "Twilio's SIP leg: the extension is the queue chosen at Twilio")
    languages = "|".join(flow.languages)
    word = "-0-9A-Za-z_"  # '-', digits, letters, '_' (a last '-' would be lost)
    for name in flow.queues:
        ctx.exten(
            name,
            f"Set(CHANNEL(language)={flow.default_language})",
            f"Set(HOTLINE_LANG={_header('X-Hotline-Lang', 'a-z')})",
            f'ExecIf($["${{HOTLINE_LANG}}" : "({languages})$"]'
            "?Set(CHANNEL(language)=${HOTLINE_LANG}))",
            f"Set(__HOTLINE_LINE={flow.did})",
            f"Set(__HOTLINE_PATH={TWILIO_PATH})",
            f"Set(__HOTLINE_TWILIO_SID={_header('X-Hotline-CallSid', word)})",
            f"Set(__HOTLINE_TAG={_header('X-Hotline-Tag', word)})",
            f'ExecIf($["${{HOTLINE_TAG}}" = ""]?Set(__HOTLINE_TAG={name}))',
            f"UserEvent(HotlineIvr,Menu: entry,Digit: ,Path: ,Line: {flow.did})",
            f"UserEvent(HotlineTwilio,CallSid: ${{HOTLINE_TWILIO_SID}},Queue: {name})",
            "Answer()",
            f"Goto({queue_context(name)},s,1)",
        )
    return ctx.text()


def render_extensions(flow: Flow, source: str, paths: Paths = Paths()) -> str:
    """The dialplan of ``flow``; ``source`` is the flow's text (its hash goes in the header)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    parts = [
        f"; Generated by `hotline ivr render` from the flow '{flow.name}' "
        f"(sha256 {digest}). Do not edit: edit the flow and apply it.\n",
        _entry(flow, paths),
    ]
    parts += [_menu(flow, flow.menus[name], paths) for name in flow.menus]
    parts += [_queue(flow, flow.queues[name], paths) for name in flow.queues]
    parts += _common(flow, paths)
    parts.append(_twilio(flow))
    return "\n".join(parts)


def render_queues(flow: Flow) -> str:
    """queues.conf entries for the flow's queues (template ``hotline-defaults``)."""
    out = [f"; Generated by `hotline ivr render` from the flow '{flow.name}'. Do not edit.\n"]
    for queue in flow.queues.values():
        out.append(
            f"[{queue.name}](hotline-defaults)\n"
            f"; {queue.label}\n"
            f"servicelevel = {queue.servicelevel}\n"
            # refuse (JOINEMPTY) when no agent is logged in or all phones are gone; paused
            # agents do not count as gone: callers wait, and the watchdog sees the harm
            "joinempty = unavailable,invalid\n"
            "leavewhenempty = unavailable,invalid\n"
        )
    return "\n".join(out)
