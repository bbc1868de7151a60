"""PJSIP endpoints for the agents' softphones, rendered from center.yaml (pure).

Each agent registers as its extension with a password derived from one site secret
(``HOTLINE_SIP_SECRET``): HMAC-SHA256(secret, extension), so no per-agent password has to be
stored anywhere and rotating the site secret rotates them all.
"""

from __future__ import annotations

import hashlib
import hmac

from hotline.center.config import Center


def agent_password(site_secret: str, ext: str) -> str:
    return hmac.new(site_secret.encode(), ext.encode(), hashlib.sha256).hexdigest()[:24]


def render_softphones(center: Center, site_secret: str) -> str:
    """pjsip-agents.conf: an endpoint, auth and aor per agent, context hotline-agents."""
    out = [
        "; Generated from center.yaml by hotline. Do not edit.",
        "; Agents' softphones: register as <ext> with the password hotline derives.",
        "",
    ]
    for agent in center.agents.values():
        ext = agent.ext
        out += [
            f"[{ext}]",
            f"; {agent.name} ({agent.team})",
            "type = endpoint",
            "transport = transport-udp",
            "context = hotline-agents",
            "disallow = all",
            "allow = ulaw,alaw",
            "dtmf_mode = rfc4733",
            "direct_media = no",
            "rtp_symmetric = yes",
            "force_rport = yes",
            "rewrite_contact = yes",
            f'callerid = "{agent.name}" <{ext}>',
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
            "max_contacts = 1",
            "remove_existing = yes",
            "qualify_frequency = 30",
            "",
        ]
    return "\n".join(out)
