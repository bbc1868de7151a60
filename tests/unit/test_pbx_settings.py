"""Several PBXs in the settings: the default one needs nothing new, each other one is read
from ``HOTLINE_PBX_<NAME>_*`` and a bad or missing value is a ConfigError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.host.settings import ConfigError, Settings

TWO = {
    "HOTLINE_RUN_DIR": "/srv/a",
    "HOTLINE_AMI_PORT": "5039",
    "HOTLINE_PBXS": "pbx2",
    "HOTLINE_PBX_PBX2_AMI_HOST": "10.0.0.2",
    "HOTLINE_PBX_PBX2_AMI_PORT": "5040",
    "HOTLINE_PBX_PBX2_AMI_SECRET": "s3cret-two",
    "HOTLINE_PBX_PBX2_QUEUE_LOG": "/mnt/pbx2/log/queue_log",
    "HOTLINE_PBX_PBX2_RECORDINGS": "/mnt/pbx2/spool/recordings",
}


def test_one_pbx_needs_no_new_settings_and_is_named_pbx1() -> None:
    s = Settings.from_env({"HOTLINE_RUN_DIR": "/srv/a", "HOTLINE_AMI_SECRET": "x"})
    (only,) = s.pbx_links
    assert only.name == "pbx1"
    assert (only.ami_host, only.ami_port, only.ami_user, only.ami_secret) == (
        "127.0.0.1", 5038, "hotline", "x",
    )  # fmt: skip
    assert only.queue_log == Path("/srv/a/asterisk/log/queue_log")
    assert only.recordings == Path("/srv/a/asterisk/spool/recordings")


def test_the_default_pbx_may_be_renamed() -> None:
    s = Settings.from_env({"HOTLINE_PBX_NAME": "east"})
    assert [p.name for p in s.pbx_links] == ["east"]


def test_a_second_pbx_is_read_from_its_prefix() -> None:
    s = Settings.from_env(TWO)
    first, second = s.pbx_links
    assert (first.name, first.ami_port) == ("pbx1", 5039)
    assert second.name == "pbx2"
    assert (second.ami_host, second.ami_port, second.ami_user) == ("10.0.0.2", 5040, "hotline")
    assert second.ami_secret == "s3cret-two"
    assert second.queue_log == Path("/mnt/pbx2/log/queue_log")
    assert second.recordings == Path("/mnt/pbx2/spool/recordings")
    assert "s3cret-two" not in repr(s)


def test_a_dash_in_a_name_is_an_underscore_in_its_variables() -> None:
    env = {k.replace("PBX2", "WEST_2"): v for k, v in TWO.items()} | {"HOTLINE_PBXS": "west-2"}
    (_, west) = Settings.from_env(env).pbx_links
    assert (west.name, west.ami_host) == ("west-2", "10.0.0.2")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"HOTLINE_PBXS": "PBX2"}, "HOTLINE_PBXS='PBX2': a PBX name is"),
        ({"HOTLINE_PBXS": "2nd"}, "a PBX name is"),
        ({"HOTLINE_PBX_NAME": "a b"}, "HOTLINE_PBX_NAME='a b'"),
        ({"HOTLINE_PBXS": "pbx2,pbx2"}, "'pbx2' is named twice"),
        ({"HOTLINE_PBXS": "pbx1"}, "'pbx1' is named twice (the default PBX is 'pbx1'"),
        ({"HOTLINE_PBX_PBX2_AMI_HOST": ""}, "set HOTLINE_PBX_PBX2_AMI_HOST"),
        ({"HOTLINE_PBX_PBX2_AMI_HOST": "a b"}, "HOTLINE_PBX_PBX2_AMI_HOST='a b' is not"),
        ({"HOTLINE_PBX_PBX2_AMI_SECRET": ""}, "set HOTLINE_PBX_PBX2_AMI_SECRET"),
        ({"HOTLINE_PBX_PBX2_AMI_PORT": "70000"}, "HOTLINE_PBX_PBX2_AMI_PORT='70000' is outside"),
        ({"HOTLINE_PBX_PBX2_QUEUE_LOG": ""}, "set HOTLINE_PBX_PBX2_QUEUE_LOG"),
        ({"HOTLINE_PBX_PBX2_RECORDINGS": ""}, "set HOTLINE_PBX_PBX2_RECORDINGS"),
    ],
)
def test_bad_pbx_settings_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(TWO | change)
    assert message in str(caught.value)


def test_a_pbx_is_lost_after_a_minute_unless_told_otherwise() -> None:
    assert Settings.from_env({"HOTLINE_RUN_DIR": "/srv/a"}).pbx_lost_s == 60.0
    env = {"HOTLINE_RUN_DIR": "/srv/a", "HOTLINE_PBX_LOST_S": "2.5"}
    assert Settings.from_env(env).pbx_lost_s == 2.5


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("soon", "not a number of seconds"),
        ("0", "seconds from 1 to 86400"),
        ("-5", "seconds from 1 to 86400"),
        ("0.5", "seconds from 1 to 86400"),
        ("86401", "seconds from 1 to 86400"),
        ("nan", "seconds from 1 to 86400"),
        ("inf", "seconds from 1 to 86400"),
    ],
)
def test_a_bad_lost_time_is_refused_by_name(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Settings.from_env({"HOTLINE_RUN_DIR": "/srv/a", "HOTLINE_PBX_LOST_S": raw})
    assert "HOTLINE_PBX_LOST_S" in str(caught.value)
