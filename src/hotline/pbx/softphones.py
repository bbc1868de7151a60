"""PJSIP endpoints for the agents' softphones, rendered from center.yaml (pure).

Each agent registers as its extension with a password derived from one site secret
(``HOTLINE_SIP_SECRET``): HMAC-SHA256(secret, extension), so no per-agent password has to be
stored anywhere and rotating the site secret rotates them all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from hotline.center.config import Center
from hotline.pbx.kamailio import agent_contact

LOOPBACK_ONLY = ("transport = transport-udp",)
"""An agent's transport on a loopback-only PBX. On the LAN the endpoint names none: each
request goes out on the transport its phone registered over (UDP, TCP or TLS)."""


def agent_password(site_secret: str, ext: str) -> str:
    return hmac.new(site_secret.encode(), ext.encode(), hashlib.sha256).hexdigest()[:24]


def phone_extensions(center: Center) -> list[str]:
    """Every phone the PBX has an endpoint for: the agents', then the supervisors'."""
    return [
        *(a.ext for a in center.agents.values()),
        *(p.ext for p in center.supervision.phones.values()),
    ]


def qualify_commands(center: Center, proxy: tuple[str, int] | None) -> list[str]:
    """The CLI commands that qualify every phone now, for a PBX behind Kamailio.

    Asterisk qualifies a static contact first at a random moment within its
    ``qualify_frequency`` (30 s), and until then a phone reached through Kamailio is not
    ``Avail``: a PBX that has just (re)started would not ring its agents for up to 30 s
    (measured on the test bed: 19-29 s). Behind no Kamailio the phones register with the
    PBX itself, which qualifies them as they do: nothing to do."""
    if proxy is None:
        return []
    return [f"pjsip qualify {ext}" for ext in phone_extensions(center)]


def render_softphones(
    center: Center,
    site_secret: str,
    security: Sequence[str] = LOOPBACK_ONLY,
    proxy: tuple[str, int] | None = None,
) -> str:
    """pjsip-agents.conf: an endpoint, auth and aor per agent (context hotline-agents) and
    per supervisor's phone (context hotline-supervisors).

    ``security`` are the lines every agent's endpoint gets from the site's SIP settings
    (its transport, SRTP, the ACL: :func:`hotline.pbx.lan.agent_security`)."""
    out = [
        "; Generated from center.yaml by hotline. Do not edit.",
        "; Agents' softphones: register as <ext> with the password hotline derives.",
        "",
    ]
    for agent in center.agents.values():
        out += _endpoint(
            agent.ext, agent.name, f"{agent.name} ({agent.team})", "hotline-agents",
            site_secret, security, proxy,
        )  # fmt: skip
    for phone in center.supervision.phones.values():
        out += _endpoint(
            phone.ext, phone.name, f"{phone.name} (supervisor)", "hotline-supervisors",
            site_secret, security, proxy,
        )  # fmt: skip
    return "\n".join(out)


def _endpoint(
    ext: str,
    name: str,
    comment: str,
    context: str,
    site_secret: str,
    security: Sequence[str],
    proxy: tuple[str, int] | None,
) -> list[str]:
    """An endpoint, its auth and aor; ``context`` runs what the phone dials (nothing: the
    agents' and supervisors' contexts hang up)."""
    return [
        f"[{ext}]",
        f"; {comment}",
        "type = endpoint",
        *security,
        f"context = {context}",
        "disallow = all",
        "allow = ulaw,alaw",
        "dtmf_mode = rfc4733",
        "direct_media = no",
        "rtp_symmetric = yes",
        "force_rport = yes",
        "rewrite_contact = yes",
        f'callerid = "{name}" <{ext}>',
        f"auth = {ext}-auth",
        f"aors = {ext}",
        "",
        f"[{ext}-auth]",
        "type = auth",
        "auth_type = userpass",
        f"username = {ext}",
        f"password = {agent_password(site_secret, ext)}",
        "",
        f"[{ext}]",
        "type = aor",
        *(
            ["max_contacts = 1", "remove_existing = yes"]
            if proxy is None
            # Kamailio answers 404 for a phone that is not registered: only a 2xx (the
            # phone's own answer, relayed) makes the agent reachable
            else [f"contact = {agent_contact(ext, proxy)}", "qualify_2xx_only = yes"]
        ),
        "qualify_frequency = 30",
        "",
    ]
