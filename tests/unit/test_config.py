from __future__ import annotations

from pathlib import Path

import pytest

from hotline.host.settings import ConfigError, Settings


def test_defaults_point_at_the_bundled_pbx() -> None:
    s = Settings.from_env({"HOTLINE_RUN_DIR": "/srv/x"})
    assert (s.pbx, s.ami_host, s.ami_port, s.ami_user) == ("bundled", "127.0.0.1", 5038, "hotline")
    assert s.db == Path("/srv/x/hotline.sqlite3")
    assert s.pbx_dir == Path("/srv/x/asterisk")
    assert s.redis_url is None
    assert s.ami_secret is None
    assert (s.dialplan_dir / "manager.conf").is_file()


def test_every_variable_is_read() -> None:
    s = Settings.from_env(
        {
            "HOTLINE_RUN_DIR": "/r",
            "HOTLINE_DB": "/d/h.db",
            "HOTLINE_REDIS_URL": "redis://127.0.0.1:6390/2",
            "HOTLINE_PBX": "external",
            "HOTLINE_ROOTFS": "/rf",
            "HOTLINE_AMI_HOST": "10.0.0.5",
            "HOTLINE_AMI_PORT": "6038",
            "HOTLINE_AMI_USER": "ctl",
            "HOTLINE_AMI_SECRET": "s3",
            "HOTLINE_SIP_PORT": "5070",
            "HOTLINE_RTP_PORTS": "30000-30100",
            "HOTLINE_VOSK_MODEL": "/m",
            "HOTLINE_DIALPLAN_DIR": "/dp",
        }
    )
    assert s.db == Path("/d/h.db")
    assert s.redis_url == "redis://127.0.0.1:6390/2"
    assert (s.ami_host, s.ami_port, s.ami_user, s.ami_secret) == ("10.0.0.5", 6038, "ctl", "s3")
    assert (s.sip_port, s.rtp_ports) == (5070, (30000, 30100))
    assert (s.rootfs, s.vosk_model, s.dialplan_dir) == (Path("/rf"), Path("/m"), Path("/dp"))


def test_the_secret_is_never_printed() -> None:
    s = Settings.from_env({"HOTLINE_AMI_SECRET": "hunter2"})
    assert "hunter2" not in repr(s)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOTLINE_AMI_PORT": "fivethousand"}, "HOTLINE_AMI_PORT='fivethousand' is not a port"),
        ({"HOTLINE_SIP_PORT": "70000"}, "HOTLINE_SIP_PORT='70000' is outside 1..65535"),
        ({"HOTLINE_RTP_PORTS": "20000"}, "HOTLINE_RTP_PORTS='20000' is not a range"),
        ({"HOTLINE_RTP_PORTS": "9-3"}, "HOTLINE_RTP_PORTS='9-3' is not a range"),
        ({"HOTLINE_PBX": "docker"}, "HOTLINE_PBX='docker': use 'bundled' or 'external'"),
        ({"HOTLINE_PBX": "external"}, "HOTLINE_PBX=external needs HOTLINE_AMI_SECRET"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Settings.from_env(env)


def test_speech_to_text_settings() -> None:
    s = Settings.from_env({"HOTLINE_RUN_DIR": "/x", "HOTLINE_CACHE": "/c"})
    # the default engine serves the default language (zh): whisper, not the Korean Vosk model
    assert (s.stt_engine, s.stt_language, s.vosk_model) == ("whisper", "zh", None)
    assert Settings.from_env({"HOTLINE_VOSK_MODEL": "/m/vosk-model-cn-0.22"}).stt_engine == "vosk"
    assert s.whisper_model == Path("/c/whisper-base")
    env = {"HOTLINE_STT_ENGINE": "whisper", "HOTLINE_STT_LANGUAGE": "en",
           "HOTLINE_WHISPER_MODEL": "/m"}  # fmt: skip
    s = Settings.from_env({"HOTLINE_RUN_DIR": "/x", **env})
    assert (s.stt_engine, s.stt_language, s.whisper_model) == ("whisper", "en", Path("/m"))
    with pytest.raises(ConfigError, match="HOTLINE_STT_ENGINE"):
        Settings.from_env({"HOTLINE_STT_ENGINE": "kaldi"})


def test_a_worker_on_another_host_needs_the_centre_and_its_token() -> None:
    s = Settings.from_env({"HOTLINE_RUN_DIR": "/x"})
    assert (s.stt_source, s.stt_url, s.stt_token) == ("local", None, None)
    env = {"HOTLINE_STT_SOURCE": "http", "HOTLINE_STT_URL": "https://centre.example:8080/",
           "HOTLINE_STT_TOKEN": "w0rker-secret-0123456789abcdef"}  # fmt: skip
    s = Settings.from_env(env)
    assert (s.stt_source, s.stt_url, s.stt_token) == ("http", "https://centre.example:8080",
                                                      "w0rker-secret-0123456789abcdef")  # fmt: skip
    assert "w0rker-secret-0123456789abcdef" not in repr(s)
    for bad, message in (
        ({"HOTLINE_STT_SOURCE": "nfs"}, "HOTLINE_STT_SOURCE='nfs': use 'local' or 'http'"),
        ({**env, "HOTLINE_STT_URL": ""}, "needs HOTLINE_STT_URL"),
        ({**env, "HOTLINE_STT_TOKEN": ""}, "needs HOTLINE_STT_TOKEN"),
        ({"HOTLINE_STT_TOKEN": "short-secret"}, "HOTLINE_STT_TOKEN: at least 24 characters"),
        ({**env, "HOTLINE_STT_URL": "ftp://centre"}, "as http\\(s\\)://host"),
        ({**env, "HOTLINE_STT_URL": "centre:8080"}, "as http\\(s\\)://host"),
    ):
        with pytest.raises(ConfigError, match=message):
            Settings.from_env(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/var/lib/hotline/h.sqlite3", Path("/var/lib/hotline/h.sqlite3")),
        ("h.sqlite3", Path("h.sqlite3")),
        ("sqlite:///var/lib/hotline/h.sqlite3", Path("/var/lib/hotline/h.sqlite3")),
        ("sqlite:h.sqlite3", Path("h.sqlite3")),
        ("postgresql://hotline@db1:5432/hotline", "postgresql://hotline@db1:5432/hotline"),
        ("postgres:///hotline?host=/run/pg", "postgres:///hotline?host=/run/pg"),
    ],
)
def test_hotline_db_is_a_sqlite_path_or_a_postgresql_url(value: str, expected: object) -> None:
    assert Settings.from_env({"HOTLINE_DB": value}).db == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql://db/hotline", "not 'mysql'"),
        ("https://db/hotline", "not 'https'"),
        ("postgresql:/db/hotline", "lost its '//'"),
        ("sqlite://relative.db", "sqlite:///absolute/path"),
        ("sqlite:", "no file named"),
    ],
)
def test_a_scheme_hotline_does_not_serve_is_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        Settings.from_env({"HOTLINE_DB": value})
    assert "HOTLINE_DB" in str(raised.value)
