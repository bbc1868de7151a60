"""Several PBXs behind Kamailio: the settings, kamailio.cfg and each PBX's side (pure).

The rendered config is also checked by Kamailio itself (``kamailio -c``) in
tests/integration/test_kamailio.py, which runs it.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from hotline.center.config import load_center
from hotline.host.settings import DEFAULT_CENTER, ConfigError, Settings
from hotline.pbx import PBXError
from hotline.pbx.instance import config_values, read_templates
from hotline.pbx.kamailio import (
    CFG,
    DISPATCHER,
    Proxy,
    entity_id,
    render_kamailio,
    render_pbx_side,
    with_identity,
)
from hotline.pbx.kamailio_run import TEMPLATE
from hotline.pbx.render import render_configs
from hotline.pbx.softphones import qualify_commands, render_softphones

CENTRE = {
    "HOTLINE_KAMAILIO": "127.0.0.1:5990",
    "HOTLINE_KAMAILIO_PBXS": "127.0.0.2:5060, 127.0.0.3:5061",
    "HOTLINE_PBX_NAME": "pbx-a",
}
PROXY = Proxy("127.0.0.1", 5990, (("127.0.0.2", 5060), ("127.0.0.3", 5061)), "/run/k")


def render(proxy: Proxy = PROXY) -> dict[str, str]:
    return render_kamailio(TEMPLATE.read_text(encoding="utf-8"), proxy)


def test_the_settings_of_a_centre_of_two_pbxs() -> None:
    s = Settings.from_env(CENTRE)
    assert s.kamailio == ("127.0.0.1", 5990)
    assert s.kamailio_pbxs == (("127.0.0.2", 5060), ("127.0.0.3", 5061))
    assert (s.pbx_name, s.pbx_named) == ("pbx-a", True)
    assert s.kamailio_dir == s.run_dir / "kamailio"
    # the port defaults to SIP's
    assert Settings.from_env({"HOTLINE_KAMAILIO": "10.0.0.5"}).kamailio == ("10.0.0.5", 5060)
    guarded = Settings.from_env(
        CENTRE | {"HOTLINE_KAMAILIO_CARRIERS": "203.0.113.0/28", "HOTLINE_KAMAILIO_FLOOD": "0"}
    )
    assert (guarded.kamailio_carriers, guarded.kamailio_flood) == (("203.0.113.0/28",), 0)
    alone = Settings.from_env({})
    assert (alone.kamailio_carriers, alone.kamailio_flood) == ((), 100)
    assert (alone.kamailio, alone.kamailio_pbxs, alone.pbx_name, alone.pbx_named) == (
        None,
        (),
        "pbx1",
        False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"HOTLINE_KAMAILIO": "kamailio.local"},
            "HOTLINE_KAMAILIO='kamailio.local' is not an IPv4",
        ),
        ({"HOTLINE_KAMAILIO": "127.0.0.1:"}, "a port after ':'"),
        ({"HOTLINE_KAMAILIO": "127.0.0.1:70000"}, "outside 1..65535"),
        ({"HOTLINE_KAMAILIO_PBXS": "127.0.0.2:5060,pbx-b"}, "HOTLINE_KAMAILIO_PBXS='pbx-b'"),
        ({"HOTLINE_KAMAILIO_PBXS": "127.0.0.2,127.0.0.2:5060"}, "names a PBX twice"),
        ({"HOTLINE_PBX_NAME": "PBX A"}, "HOTLINE_PBX_NAME='PBX A': a PBX name is"),
        ({"HOTLINE_PBX_NAME": "a" * 33}, "HOTLINE_PBX_NAME="),
        ({"HOTLINE_KAMAILIO_CARRIERS": "203.0.113.5/24"}, "HOTLINE_KAMAILIO_CARRIERS: '203"),
        ({"HOTLINE_KAMAILIO_FLOOD": "-5"}, "HOTLINE_KAMAILIO_FLOOD='-5'"),
        ({"HOTLINE_KAMAILIO_FLOOD": "many"}, "HOTLINE_KAMAILIO_FLOOD='many'"),
    ],
)
def test_bad_settings_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Settings.from_env(env)


def test_kamailio_cfg_listens_probes_and_fails_over_as_the_design_says() -> None:
    files = render()
    cfg = files[CFG]
    assert re.search(r"@[A-Z_]+@", cfg) is None  # no placeholder left
    assert "listen=udp:127.0.0.1:5990\n" in cfg
    assert 'modparam("ctl", "binrpc", "unix:/run/k/kamailio.ctl")' in cfg
    assert 'modparam("dispatcher", "list_file", "/run/k/dispatcher.list")' in cfg
    # probing every second, two misses, each miss a local 408 after 2 s: down in < 5 s
    assert 'modparam("dispatcher", "ds_ping_interval", 1)' in cfg
    assert 'modparam("dispatcher", "ds_probing_threshold", 2)' in cfg
    assert 'modparam("tm", "fr_timer", 2000)' in cfg
    # 408 is never taken for a live PBX (the dispatcher documentation's warning)
    assert 'modparam("dispatcher", "ds_ping_reply_codes", "class=2")' in cfg
    # a citizen's INVITE: round robin over set 1, 1.5 s to hear from the PBX, then the next
    assert 'ds_select_dst("1", "4")' in cfg
    assert cfg.count("t_set_fr(0, 1500);") == 2
    assert 't_check_status("408|5[0-9][0-9]")' in cfg
    assert "ds_next_dst()" in cfg
    # a PBX's request goes to the agent's registered phone, one dialog per agent
    to_agent = cfg.split("route[TO_AGENT] {")[1].split("\n}\n")[0]
    assert 'lookup("location")' in to_agent
    assert to_agent.index('lock("$var(agent)")') < to_agent.index("get_profile_size")
    assert to_agent.index("get_profile_size") < to_agent.index('set_dlg_profile("agent"')
    assert 'sl_send_reply("486", "Busy Here")' in to_agent
    assert 'modparam("cfgutils", "lock_set_size", 8)' in cfg  # else lock() is a no-op
    # registrations written through to db_text in the run directory (kept across restarts)
    assert 'modparam("usrloc", "db_url", "text:///run/k/db")' in cfg
    assert 'modparam("usrloc", "db_mode", 1)' in cfg


def test_the_guards_are_open_until_networks_are_named_and_the_flood_guard_spares_carriers() -> None:
    cfg = render()[CFG]
    registrar = cfg.split("route[REGISTRAR] {")[1].split("\n}\n")[0]
    to_pbx = cfg.split("route[TO_PBX] {")[1].split("\n}\n")[0]
    assert 'is_in_subnet("$si", "0.0.0.0/0")' in registrar  # any address may register
    assert 'is_in_subnet("$si", "0.0.0.0/0")' in to_pbx  # and call
    # the ban is checked before the digest, and only wrong digests count
    assert registrar.index("$sht(authfail=>$si) >= 10") < registrar.index("pv_auth_check")
    assert "$shtinc(authfail=>$si)" in registrar
    assert 'modparam("htable", "htable", "authfail=>size=8;autoexpire=300;")' in cfg
    # every source but the PBXs is flood-guarded when no carrier is named
    assert (
        'if (100 > 0 && !ds_is_from_list("1", "3") && !is_in_subnet("$si", "255.255.255.255/32"))'
        in cfg
    )
    assert 'modparam("pike", "reqs_density_per_unit", 100)' in cfg
    named = render(replace(PROXY, agent_nets=("10.1.0.0/16",),
                           carriers=("203.0.113.0/28", "198.51.100.7/32"), flood=0))  # fmt: skip
    cfg = named[CFG]
    assert 'is_in_subnet("$si", "10.1.0.0/16")' in cfg.split("route[REGISTRAR] {")[1]
    assert (
        'is_in_subnet("$si", "203.0.113.0/28,198.51.100.7/32")' in cfg.split("route[TO_PBX] {")[1]
    )
    assert "if (0 > 0 &&" in cfg  # no flood guard
    assert 'modparam("pike", "reqs_density_per_unit", 1)' in cfg  # pike's own minimum


def test_dispatcher_list_names_every_pbx_in_set_1() -> None:
    assert render()[DISPATCHER].splitlines()[2:] == [
        "1 sip:127.0.0.2:5060 0 0 pbx=1",
        "1 sip:127.0.0.3:5061 0 0 pbx=2",
    ]


@pytest.mark.parametrize(
    ("proxy", "message"),
    [
        (replace(PROXY, pbxs=()), "HOTLINE_KAMAILIO_PBXS is not set"),
        (replace(PROXY, pbxs=(("127.0.0.1", 5990),)), "is Kamailio's own address"),
        (replace(PROXY, pbxs=(("127.0.0.1", 5060),)), "is Kamailio's address too"),
        (
            replace(PROXY, pbxs=(("127.0.0.2", 5060), ("127.0.0.2", 5062))),
            "each PBX needs an address of its own",
        ),
        (replace(PROXY, address="0.0.0.0"), "name the address"),
        (replace(PROXY, address="::1"), "not an IPv4 address"),
        (replace(PROXY, run_dir='/tmp/x"y'), "quote or line break"),
        (replace(PROXY, pbx_fr_ms=5000), "timers"),
        (replace(PROXY, ping_threshold=0), "probing"),
        (replace(PROXY, carriers=("10.0.0.1/8",)), "HOTLINE_KAMAILIO_CARRIERS"),
        (replace(PROXY, agent_nets=("lan",)), "HOTLINE_SIP_NETWORKS"),
        (replace(PROXY, flood=-1), "HOTLINE_KAMAILIO_FLOOD"),
        (replace(PROXY, auth_fails=0), "failed digests"),
    ],
)
def test_a_config_kamailio_could_not_work_with_is_refused(proxy: Proxy, message: str) -> None:
    with pytest.raises(PBXError, match=message):
        render(proxy)


def test_each_pbx_knows_kamailio_by_address_and_sends_its_calls_to_the_ivr() -> None:
    conf = render_pbx_side(("127.0.0.1", 5990))
    endpoint = conf.split("[hotline-kamailio]\ntype = endpoint\n")[1].split("\n\n")[0]
    assert "context = hotline-ivr" in endpoint
    assert "deny = 0.0.0.0/0\npermit = 127.0.0.1/32" in endpoint
    assert (
        "[hotline-kamailio]\ntype = identify\nendpoint = hotline-kamailio\nmatch = 127.0.0.1"
        in conf
    )
    assert "[" not in render_pbx_side(None)  # a PBX on its own: comments only
    with pytest.raises(PBXError, match="not an IPv4 address"):
        render_pbx_side(("kamailio", 5060))


def test_agents_are_reached_through_kamailio_and_do_not_register_at_the_pbx() -> None:
    center = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))
    ext = next(iter(center.agents.values())).ext
    alone = render_softphones(center, "s")
    behind = render_softphones(center, "s", proxy=("127.0.0.1", 5990))
    aor = behind.split(f"[{ext}]\ntype = aor\n")[1].split("\n\n")[0]
    assert aor.splitlines() == [
        f"contact = sip:{ext}@127.0.0.1:5990",
        "qualify_2xx_only = yes",  # Kamailio's 404 (not registered) is not reachable
        "qualify_frequency = 30",
    ]
    assert "max_contacts = 1" in alone
    assert "max_contacts" not in behind
    # everything else of the endpoint is as it was
    assert alone.replace("max_contacts = 1\nremove_existing = yes\n", "").count("\n") == (
        behind.count("\n") - 2 * behind.count("contact = sip:")
    )


def test_behind_kamailio_a_started_pbx_qualifies_every_phone_at_once() -> None:
    """Asterisk's first qualify of a static contact comes at a random moment within
    qualify_frequency: a restarted PBX would not ring its agents for up to 30 s."""
    center = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))
    behind = qualify_commands(center, ("127.0.0.1", 5990))
    # one per endpoint whose aor points at Kamailio, agents and supervisors' phones alike
    rendered = render_softphones(center, "s", proxy=("127.0.0.1", 5990))
    aors = re.findall(r"^\[(\w+)\]\ntype = aor\ncontact = sip:", rendered, re.MULTILINE)
    assert behind == [f"pjsip qualify {ext}" for ext in aors]
    assert "pjsip qualify 1001" in behind
    assert len(behind) == len(center.agents) + len(center.supervision.phones)
    # phones that register with the PBX itself are qualified as they register
    assert qualify_commands(center, None) == []


def test_each_pbx_has_its_own_systemname_and_entity_id() -> None:
    conf = "[directories]\nastetcdir => /x\n\n[options]\nverbose = 3\n"
    a, b = with_identity(conf, "pbx-a"), with_identity(conf, "pbx-b")
    assert "[options]\n; HOTLINE_PBX_NAME" in a
    assert "systemname = pbx-a\n" in a
    assert f"entityid = {entity_id('pbx-a')}\n" in a
    assert entity_id("pbx-a") != entity_id("pbx-b")
    assert a != b
    first = int(entity_id("pbx-a").split(":")[0], 16)
    assert first & 0x02
    assert not first & 0x01
    assert with_identity(conf, None) == conf
    with pytest.raises(PBXError, match=r"no \[options\]"):
        with_identity("[directories]\n", "pbx-a")


def test_a_pbx_on_another_loopback_address_binds_its_sip_there() -> None:
    def bind(env: dict[str, str]) -> str:
        settings = Settings.from_env({**env, "HOTLINE_AMI_SECRET": "x"})
        pjsip = render_configs(read_templates(settings.dialplan_dir), config_values(settings))
        return pjsip["pjsip.conf"].split("[transport-udp]")[1].split("bind = ")[1].split("\n")[0]

    assert bind({}) == "127.0.0.1:5060"
    assert (
        bind({"HOTLINE_SIP_ADDRESS": "127.0.0.2", "HOTLINE_SIP_PORT": "5070"}) == "127.0.0.2:5070"
    )
    # an address on the LAN gets its own transports; the loopback one stays on 127.0.0.1
    assert bind({"HOTLINE_SIP_ADDRESS": "192.168.10.5"}) == "127.0.0.1:5060"


def test_only_the_centres_phones_may_register_with_their_derived_passwords() -> None:
    cfg = render(replace(PROXY, agents=(("1001", "ab" * 12), ("1901", "cd" * 12))))[CFG]
    init = cfg.split("event_route[htable:mod-init] {")[1]
    assert '$sht(agents=>1001) = "' + "ab" * 12 + '";' in init
    assert '$sht(agents=>1901) = "' + "cd" * 12 + '";' in init
    registrar = cfg.split("route[REGISTRAR] {")[1].split("\n}\n")[0]
    # an unknown extension is refused before any digest (an empty password never matches)
    assert registrar.index("$sht(agents=>$tU) == $null") < registrar.index("pv_auth_check")
    assert registrar.index("pv_auth_check") < registrar.index('save("location", "0x04")')
    with pytest.raises(PBXError, match="cannot be a SIP user"):
        render(replace(PROXY, agents=(('10"01', "ab" * 12),)))
    with pytest.raises(PBXError, match="not a derived one"):
        render(replace(PROXY, agents=(("1001", 'x";'),)))
