"""The carrier trunk: HOTLINE_TRUNK* settings and the PJSIP and dialplan they render."""

from __future__ import annotations

import re

import pytest

from hotline.host.settings import DEFAULT_DIALPLAN_DIR, ConfigError, Settings, Trunk
from hotline.pbx import trunk as t
from hotline.pbx.instance import read_templates

IP = {
    "HOTLINE_TRUNK": "ip",
    "HOTLINE_TRUNK_HOST": "10.20.0.1",
    "HOTLINE_TRUNK_BIND": "10.20.0.2",
    "HOTLINE_TRUNK_DIDS": "02112345, +862112345",
    "HOTLINE_TRUNK_CALLER_ID": "02112345",
}
REGISTER = IP | {
    "HOTLINE_TRUNK": "register",
    "HOTLINE_TRUNK_HOST": "sbc.carrier.example",
    "HOTLINE_TRUNK_PORT": "5080",
    "HOTLINE_TRUNK_BIND": "10.20.0.2:5090",
    "HOTLINE_TRUNK_USER": "+862112345",
    "HOTLINE_TRUNK_SECRET": "pa$$w0rd!",
    "HOTLINE_TRUNK_PREFIX": "0",
    "HOTLINE_TRUNK_PEERS": "203.0.113.0/28, 198.51.100.7",
}
TWILIO = {
    "HOTLINE_TWILIO_AUTH_TOKEN": "token",
    "HOTLINE_TWILIO_SIP": "pbx.centre.example:5071",
    "HOTLINE_TWILIO_PEERS": "54.172.60.0/30,54.244.51.0/30",
}


def sections(text: str) -> list[tuple[str, str]]:
    """(name, type) of every section of a pjsip file."""
    out = []
    for block in re.split(r"^(?=\[)", text, flags=re.MULTILINE):
        head = re.match(r"\[([^\]]+)\]", block)
        kind = re.search(r"^type = (\w+)$", block, re.MULTILINE)
        if head and kind:
            out.append((head.group(1), kind.group(1)))
    return out


def test_no_trunk_by_default_and_nothing_dials_out() -> None:
    s = Settings.from_env({})
    assert s.trunk == Trunk()
    assert not s.trunk.enabled
    files = t.render_trunk(s.trunk)
    assert sections(files[t.PJSIP_FILE]) == []
    ext = files[t.EXTENSIONS_FILE]
    assert "Dial(" not in ext
    assert (
        "exten => _X.,1,UserEvent(HotlineOutbound,Number: ${EXTEN},Status: NOTRUNK,"
        "Task: ${HOTLINE_RECALL})" in ext
    )


def test_ip_mode_identifies_the_carrier_by_address() -> None:
    trunk = Settings.from_env(IP).trunk
    assert (trunk.mode, trunk.host, trunk.port, trunk.bind) == (
        "ip",
        "10.20.0.1",
        5060,
        ("10.20.0.2", 5070),
    )
    assert trunk.dids == ("02112345", "+862112345")
    pjsip = t.render_pjsip(trunk)
    assert sections(pjsip) == [
        ("transport-trunk", "transport"),
        ("hotline-trunk", "endpoint"),
        ("hotline-trunk", "aor"),
        ("hotline-trunk", "identify"),
    ]
    for line in (
        "bind = 10.20.0.2:5070",
        "context = hotline-trunk-in",
        "transport = transport-trunk",
        "match = 10.20.0.1",
        "contact = sip:10.20.0.1:5060",
        "send_pai = yes",
        "from_domain = 10.20.0.1",
    ):
        assert line in pjsip.splitlines(), line
    assert "auth" not in pjsip


def test_register_mode_registers_and_answers_challenges() -> None:
    trunk = Settings.from_env(REGISTER).trunk
    assert trunk.bind == ("10.20.0.2", 5090)
    assert trunk.port == 5080
    assert trunk.prefix == "0"
    assert "pa$$w0rd!" not in repr(trunk)
    pjsip = t.render_pjsip(trunk)
    assert ("hotline-trunk", "registration") in sections(pjsip)
    assert ("hotline-trunk-auth", "auth") in sections(pjsip)
    for line in (
        "server_uri = sip:sbc.carrier.example:5080",
        "client_uri = sip:+862112345@sbc.carrier.example",
        "username = +862112345",
        "password = pa$$w0rd!",
        "outbound_auth = hotline-trunk-auth",
    ):
        assert line in pjsip.splitlines(), line


def test_dids_enter_the_ivr_and_the_outbound_context_presents_the_centre() -> None:
    ext = t.render_extensions(Settings.from_env(REGISTER).trunk)
    assert "exten => 02112345,1,Set(__HOTLINE_TRUNK_DID=02112345)" in ext
    assert "exten => +862112345,1,Set(__HOTLINE_TRUNK_DID=+862112345)" in ext
    assert ext.count("Goto(hotline-ivr,trunk,1)") == 2
    assert " same => n,UserEvent(HotlineTrunk,Did: +862112345,Number: ${CALLERID(num)})" in ext
    assert "Set(CALLERID(all)=02112345 <02112345>)" in ext
    assert "Dial(PJSIP/0${EXTEN}@hotline-trunk," in ext
    # no catch-all inbound: an unknown DID has no extension (PJSIP answers 404)
    inbound = ext.split("[hotline-trunk-in]")[1].split("[hotline-outbound]")[0]
    assert "exten => _" not in inbound
    assert "exten => i," not in inbound


def test_only_the_outbound_context_reaches_the_trunk() -> None:
    """The agents' and the IVR's contexts never include or jump to hotline-outbound."""
    templates = read_templates(DEFAULT_DIALPLAN_DIR)
    ext = templates["extensions.conf"] + t.render_extensions(Settings.from_env(IP).trunk)
    dials = [line for line in ext.splitlines() if "@hotline-trunk" in line]
    assert len(dials) == 2  # _X. and _+X. of hotline-outbound
    assert "include => hotline-outbound" not in ext
    assert not re.search(r"Goto\(hotline-outbound", ext)
    agents = ext.split("[hotline-agents]")[1].split("[")[0]
    assert "Dial" not in agents
    assert "Goto" not in agents
    assert "context = hotline-outbound" not in t.render_pjsip(Settings.from_env(IP).trunk)


def test_the_shipped_templates_include_the_trunk_files() -> None:
    templates = read_templates(DEFAULT_DIALPLAN_DIR)
    assert "#tryinclude pjsip-trunk.conf" in templates["pjsip.conf"]
    assert "#tryinclude extensions-trunk.conf" in templates["extensions.conf"]
    assert "load => res_pjsip_outbound_registration.so" in templates["modules.conf"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOTLINE_TRUNK": "sip"}, "HOTLINE_TRUNK='sip': use 'none', 'ip' or 'register'"),
        (IP | {"HOTLINE_TRUNK_HOST": ""}, "HOTLINE_TRUNK=ip needs HOTLINE_TRUNK_HOST"),
        (IP | {"HOTLINE_TRUNK_HOST": "a b"}, "HOTLINE_TRUNK_HOST='a b' is not an address"),
        (IP | {"HOTLINE_TRUNK_BIND": "0.0.0.0\n[x]"}, "HOTLINE_TRUNK_BIND"),
        (IP | {"HOTLINE_TRUNK_BIND": "10.0.0.1:99999"}, "outside 1..65535"),
        (IP | {"HOTLINE_TRUNK_DIDS": "12345,${SHELL(id)}"}, "HOTLINE_TRUNK_DIDS: '${SHELL"),
        (IP | {"HOTLINE_TRUNK_DIDS": " , "}, "needs HOTLINE_TRUNK_DIDS"),
        (IP | {"HOTLINE_TRUNK_CALLER_ID": "12345)"}, "HOTLINE_TRUNK_CALLER_ID: '12345)'"),
        (IP | {"HOTLINE_TRUNK_PREFIX": "9,"}, "HOTLINE_TRUNK_PREFIX='9,' is not up to 8 digits"),
        (IP | {"HOTLINE_TRUNK_PORT": "0"}, "HOTLINE_TRUNK_PORT='0' is outside"),
        (REGISTER | {"HOTLINE_TRUNK_USER": ""}, "HOTLINE_TRUNK=register needs HOTLINE_TRUNK_USER"),
        (REGISTER | {"HOTLINE_TRUNK_USER": "a@b"}, "HOTLINE_TRUNK_USER='a@b' is not a SIP user"),
        (REGISTER | {"HOTLINE_TRUNK_SECRET": ""}, "needs HOTLINE_TRUNK_SECRET"),
        (REGISTER | {"HOTLINE_TRUNK_SECRET": "a;b"}, "without spaces, ';' or backslash"),
        (REGISTER | {"HOTLINE_TRUNK_SECRET": "a\nb"}, "without spaces, ';' or backslash"),
        (
            REGISTER | {"HOTLINE_TRUNK_PEERS": ""},
            "HOTLINE_TRUNK_HOST=sbc.carrier.example is a host name: list the carrier's "
            "addresses in HOTLINE_TRUNK_PEERS",
        ),
        (IP | {"HOTLINE_TRUNK_PEERS": "10.0.0.1/8"}, "HOTLINE_TRUNK_PEERS: '10.0.0.1/8' is not"),
        ({"HOTLINE_TWILIO_AUTH_TOKEN": "t"}, "HOTLINE_TWILIO_AUTH_TOKEN needs HOTLINE_TWILIO_SIP"),
        (TWILIO, "HOTLINE_TWILIO_SIP needs HOTLINE_TRUNK_BIND"),
        (
            IP | TWILIO | {"HOTLINE_TWILIO_PEERS": ""},
            "HOTLINE_TWILIO_SIP needs HOTLINE_TWILIO_PEERS",
        ),
        (IP | TWILIO | {"HOTLINE_TWILIO_SIP": "a b"}, "HOTLINE_TWILIO_SIP='a b' is not HOST"),
        (IP | TWILIO | {"HOTLINE_TWILIO_SIP": "pbx:0"}, "HOTLINE_TWILIO_SIP='0' is outside"),
        (
            IP | TWILIO | {"HOTLINE_TWILIO_PEERS": "10.20.0.0/24"},
            "HOTLINE_TRUNK_PEERS (10.20.0.1/32) and HOTLINE_TWILIO_PEERS (10.20.0.0/24) overlap",
        ),
    ],
)
def test_bad_trunk_settings_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(env)


def test_a_refused_secret_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(REGISTER | {"HOTLINE_TRUNK_SECRET": "hunter2;x"})
    assert "hunter2" not in str(caught.value)


def test_a_recall_is_recorded_per_leg_and_names_its_task_and_files() -> None:
    ext = t.render_extensions(Settings.from_env(IP).trunk, "/srv/rec")
    outbound = ext.split("[hotline-outbound]")[1]
    lines = [ln for ln in outbound.splitlines() if "MixMonitor" in ln or "GotoIf" in ln]
    # only a recall is recorded; on the agent's channel r() is the agent: the tx leg
    assert lines[0].endswith('GotoIf($["${HOTLINE_RECALL}" = ""]?dial)')
    assert lines[1].endswith("MixMonitor(,br(${HOTLINE_REC}-tx.wav)t(${HOTLINE_REC}-rx.wav))")
    assert "Set(HOTLINE_REC=/srv/rec/${STRFTIME(${EPOCH},UTC,%Y/%m/%d)}/${UNIQUEID})" in outbound
    assert (
        " same => n(dial),UserEvent(HotlineOutbound,Number: ${EXTEN},Status: DIALING,"
        "Task: ${HOTLINE_RECALL},File: ${HOTLINE_REC})" in outbound
    )
    assert "Cause: ${HANGUPCAUSE},Task: ${HOTLINE_RECALL},File: ${HOTLINE_REC})" in outbound


def test_the_trunk_takes_requests_only_from_the_carriers_addresses() -> None:
    ip = Settings.from_env(IP).trunk
    assert ip.peers == ("10.20.0.1/32",)  # the carrier's host, when it is an address
    lines = t.render_pjsip(ip).split("[hotline-trunk]")[1].splitlines()
    assert lines[-3:-1] == ["deny = 0.0.0.0/0", "permit = 10.20.0.1/32"]
    registered = Settings.from_env(REGISTER).trunk
    assert registered.peers == ("203.0.113.0/28", "198.51.100.7/32")
    endpoint = t.render_pjsip(registered).split("[hotline-trunk]")[1]
    assert "permit = 203.0.113.0/28,198.51.100.7/32" in endpoint.splitlines()


def test_twilio_s_sip_leg_has_its_own_endpoint_its_peers_and_no_way_out() -> None:
    trunk = Settings.from_env(IP | TWILIO).trunk
    assert trunk.twilio is not None
    assert (trunk.twilio.host, trunk.twilio.port) == ("pbx.centre.example", 5071)
    pjsip = t.render_pjsip(trunk)
    assert ("hotline-twilio", "endpoint") in sections(pjsip)
    assert ("hotline-twilio", "identify") in sections(pjsip)
    twilio = pjsip.split("[hotline-twilio]")[1].splitlines()
    for line in (
        "context = hotline-twilio",
        "transport = transport-trunk",
        "deny = 0.0.0.0/0",
        "permit = 54.172.60.0/30,54.244.51.0/30",
    ):
        assert line in twilio, line
    assert "match = 54.172.60.0/30,54.244.51.0/30" in pjsip.split("[hotline-twilio]")[2]
    # the port defaults to the transport's
    alone = Settings.from_env(TWILIO | {"HOTLINE_TRUNK_BIND": "10.20.0.2",
                                        "HOTLINE_TWILIO_SIP": "198.51.100.1"}).trunk  # fmt: skip
    assert not alone.enabled
    assert alone.listens
    assert alone.twilio is not None
    assert alone.twilio.port == 5070
    pjsip = t.render_pjsip(alone)
    assert sections(pjsip) == [
        ("transport-trunk", "transport"),
        ("hotline-twilio", "endpoint"),
        ("hotline-twilio", "identify"),
    ]
    assert "Dial(" not in t.render_extensions(alone)  # Twilio's leg is inbound only
