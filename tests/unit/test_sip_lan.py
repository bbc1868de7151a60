"""Softphones on the LAN: the HOTLINE_SIP_* knobs and what they render (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.center.config import load_center
from hotline.host.settings import DEFAULT_CENTER, ConfigError, Settings
from hotline.pbx import PBXError
from hotline.pbx.instance import lan, read_pem, tls_files
from hotline.pbx.lan import Lan, agent_security, render_lan
from hotline.pbx.softphones import render_softphones

SITE = {
    "HOTLINE_SIP_ADDRESS": "192.168.10.5",
    "HOTLINE_SIP_TLS_CERT": "/etc/hotline/sip.pem",
    "HOTLINE_SIP_TLS_KEY": "/etc/hotline/sip.key",
    "HOTLINE_SIP_NETWORKS": "192.168.10.0/24, 10.20.0.0/16",
    "HOTLINE_SIP_EXTERNAL_ADDRESS": "203.0.113.7",
}


def test_a_site_that_sets_nothing_keeps_sip_on_loopback() -> None:
    settings = Settings.from_env({})
    site = lan(settings)
    assert (site.address, site.tls, site.srtp, site.networks) == ("127.0.0.1", False, "off", ())
    assert "[transport" not in render_lan(site)
    # the agents' endpoints are what they were: UDP on loopback, no SRTP, no ACL
    assert agent_security(site) == ["transport = transport-udp"]
    center = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))
    assert render_softphones(center, "s") == render_softphones(center, "s", agent_security(site))


def test_a_lan_site_gets_udp_tcp_and_tls_with_nat_on_each() -> None:
    settings = Settings.from_env(SITE)
    assert settings.sip_srtp == "optional"  # the default once TLS is on
    assert settings.sip_local_nets == settings.sip_networks  # the default
    conf = render_lan(lan(settings))
    for proto, port in (("udp", 5060), ("tcp", 5060), ("tls", 5061)):
        section = conf.split(f"[transport-lan-{proto}]")[1].split("\n\n")[0]
        assert f"protocol = {proto}\nbind = 192.168.10.5:{port}" in section
        assert "external_media_address = 203.0.113.7" in section
        assert "external_signaling_address = 203.0.113.7" in section
        assert "local_net = 127.0.0.0/8\nlocal_net = 192.168.10.0/24" in section
    assert "cert_file = /srv/hotline/etc/tls/sip.crt" in conf  # the copy the chroot sees
    assert "priv_key_file = /srv/hotline/etc/tls/sip.key" in conf


def test_agents_on_the_lan_get_srtp_and_the_acl_and_no_fixed_transport() -> None:
    lines = agent_security(lan(Settings.from_env(SITE)))
    assert lines == [
        "media_encryption = sdes",
        "media_encryption_optimistic = yes",
        "deny = 0.0.0.0/0",
        "permit = 192.168.10.0/24,10.20.0.0/16",
    ]
    required = agent_security(Lan(address="10.0.0.1", srtp="required"))
    assert required == ["media_encryption = sdes"]  # RTP/SAVP only: no plain RTP fallback


def test_without_tls_or_nat_the_lan_has_udp_and_tcp_only() -> None:
    conf = render_lan(lan(Settings.from_env({"HOTLINE_SIP_ADDRESS": "10.1.2.3"})))
    assert "[transport-lan-udp]" in conf
    assert "[transport-lan-tcp]" in conf
    assert "tls" not in conf
    assert "external" not in conf


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOTLINE_SIP_ADDRESS": "10.0.0.1\n[evil]"}, "HOTLINE_SIP_ADDRESS=.* not an IPv4"),
        ({"HOTLINE_SIP_ADDRESS": "pbx.example"}, "not an IPv4 address"),
        ({"HOTLINE_SIP_EXTERNAL_ADDRESS": "1.2.3"}, "HOTLINE_SIP_EXTERNAL_ADDRESS"),
        ({"HOTLINE_SIP_NETWORKS": "10.0.0.0/8,10.1.2.3/24"}, "'10.1.2.3/24' is not an IPv4 net"),
        ({"HOTLINE_SIP_NETWORKS": "10.0.0.0/8;deny"}, "HOTLINE_SIP_NETWORKS"),
        ({"HOTLINE_SIP_LOCAL_NETS": "any"}, "HOTLINE_SIP_LOCAL_NETS"),
        ({"HOTLINE_SIP_TLS_CERT": "/a.pem"}, "go together"),
        ({"HOTLINE_SIP_SRTP": "yes"}, "use off, optional or required"),
        ({"HOTLINE_SIP_TLS_PORT": "0"}, "HOTLINE_SIP_TLS_PORT"),
    ],
)
def test_a_bad_sip_setting_is_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "bad",
    [
        Lan(address="10.0.0.1\n[x]"),
        Lan(address="0.0.0.0"),
        Lan(address="10.0.0.1", external_address="1.2.3.4", local_nets=("10/8",)),
    ],
)
def test_the_renderer_checks_every_value_by_kind_again(bad: Lan) -> None:
    with pytest.raises(PBXError):
        render_lan(bad)
    with pytest.raises(PBXError):
        agent_security(Lan(address="10.0.0.1", networks=("10.0.0.0/8,0.0.0.0/0",)))


def test_the_certificate_and_key_are_read_as_pem(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----\n")
    settings = Settings.from_env(
        {"HOTLINE_SIP_TLS_CERT": str(cert), "HOTLINE_SIP_TLS_KEY": str(key)}
    )
    assert set(tls_files(settings)) == {"sip.crt", "sip.key"}
    with pytest.raises(PBXError, match="holds no PEM CERTIFICATE"):
        read_pem(key, "HOTLINE_SIP_TLS_CERT", "CERTIFICATE")
    with pytest.raises(PBXError, match=r"HOTLINE_SIP_TLS_KEY .*missing"):
        read_pem(tmp_path / "missing", "HOTLINE_SIP_TLS_KEY", "PRIVATE KEY")
