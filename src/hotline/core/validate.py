"""One whitelist for every value that reaches a rendered Asterisk file or an AMI header.

Values from the flow (flows/*.yaml) and the centre file (center.yaml) are pasted
into extensions.conf, queues.conf and pjsip.conf, and sent as AMI headers. Asterisk gives
meaning to a newline (a new line of config, or a new header), ``[`` (a new context or
section), ``${``/``$[`` (evaluated on every pass through the dialplan, SHELL() included),
``,``/``)`` (the end of an application's argument), ``;`` (a comment) and ``|`` (queue_log's
separator). So a value is checked against the pattern of its kind, whole (``fullmatch``:
``re.match(... $)`` lets a trailing newline through), and what does not fit is refused with
a message naming the node, never escaped.

    problem = check(Kind.NAME, value)   # None, or why the value is refused
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["Kind", "check", "shown"]


class Kind(Enum):
    """A kind of value; its pattern allows nothing Asterisk reads as syntax."""

    NAME = "name"  # menus, queues, prompts, tags, announcements: also context names
    CODE = "code"  # pause reason codes, team names
    EXTENSION = "extension"  # an agent's softphone
    DID = "did"  # the number citizens dial
    TIMEZONE = "timezone"  # an IANA zone, as STRFTIME and GotoIfTime take it
    TEXT = "text"  # what people read: labels, an agent's name (comments, caller ID, MemberName)
    INTERFACE = "interface"  # a queue member's device: PJSIP/1001, Local/8001@ctx/n
    ADDRESS = "address"  # an IPv4 address a transport binds or announces (pjsip.conf)
    NETWORK = "network"  # an IPv4 network in CIDR form: an ACL's permit, a local_net


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"

_PATTERNS: dict[Kind, tuple[re.Pattern[str], str]] = {
    Kind.NAME: (
        re.compile(r"[a-z][a-z0-9-]{0,39}"),
        "a name: lower-case letters, digits and '-', starting with a letter, at most 40",
    ),
    Kind.CODE: (
        re.compile(r"[a-z][a-z0-9-]{0,31}"),
        "a code: lower-case letters, digits and '-', starting with a letter, at most 32",
    ),
    Kind.EXTENSION: (re.compile(r"[0-9]{2,8}"), "an extension: 2 to 8 digits (quote it in YAML)"),
    Kind.DID: (re.compile(r"\+?[0-9]{2,20}"), "a number: 2 to 20 digits, '+' first at most"),
    Kind.TIMEZONE: (
        re.compile(r"[A-Za-z]{1,14}(?:/[A-Za-z0-9_+-]{1,30}){0,2}"),
        "a time zone like Asia/Shanghai",
    ),
    Kind.TEXT: (
        # letters and digits of any script, spaces and the punctuation names and labels use;
        # \w is Unicode: 劳动保障 passes, a newline or "${" does not
        re.compile(r"[\w .·・/:&+\-、，。：；（）《》“”]{1,80}"),
        "text of 1 to 80 letters, digits, spaces and ordinary punctuation "
        "(no newline, $, [ ], { }, ( ), ',', ';', '|', quotes or backslash)",
    ),
    Kind.INTERFACE: (
        re.compile(r"(?:PJSIP|SIP|IAX2|Local)/[A-Za-z0-9._@-]{1,60}(?:/n)?"),
        "a device like PJSIP/1001 or Local/8001@context/n",
    ),
    Kind.ADDRESS: (
        re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}"),
        "an IPv4 address like 192.168.1.10",
    ),
    Kind.NETWORK: (
        re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}/(?:3[0-2]|[12]?[0-9])"),
        "an IPv4 network like 192.168.10.0/24",
    ),
}


def shown(value: object, limit: int = 40) -> str:
    """The value as a message quotes it: repr, cut short (a 10 kB value is not echoed)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check(kind: Kind, value: object) -> str | None:
    """None when ``value`` is a ``kind``; else why not, quoting it (shortened)."""
    pattern, what = _PATTERNS[kind]
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return f"{shown(value)} is not {what}"
