from __future__ import annotations

import pytest

from hotline.host.settings import Settings
from hotline.pbx import PBXError, render_configs
from hotline.pbx.instance import config_values, read_templates
from hotline.pbx.render import PLACEHOLDER


def test_placeholders_are_replaced_and_asterisk_variables_kept() -> None:
    out = render_configs(
        {"manager.conf": "port = @AMI_PORT@\n", "extensions.conf": "same => n,Wait(${WAIT})\n"},
        {"AMI_PORT": "15038"},
    )
    assert out == {"manager.conf": "port = 15038\n", "extensions.conf": "same => n,Wait(${WAIT})\n"}


def test_a_missing_value_names_file_and_placeholder() -> None:
    with pytest.raises(PBXError, match=r"pjsip.conf: no value for @SIP_PORT@"):
        render_configs({"pjsip.conf": "bind = 127.0.0.1:@SIP_PORT@\n"}, {})


@pytest.mark.parametrize("value", ["s3\n[evil]\nwrite=all", "a\rb", "nul\0"])
def test_a_value_cannot_inject_config_lines(value: str) -> None:
    with pytest.raises(PBXError, match="line break or NUL"):
        render_configs({"manager.conf": "secret = @AMI_SECRET@\n"}, {"AMI_SECRET": value})


def test_the_shipped_configuration_renders_completely() -> None:
    settings = Settings.from_env({"HOTLINE_AMI_SECRET": "s3cret", "HOTLINE_AMI_PORT": "15038"})
    rendered = render_configs(read_templates(settings.dialplan_dir), config_values(settings))
    manager = rendered["manager.conf"]
    assert "port = 15038" in manager
    assert "secret = s3cret" in manager
    assert "bindaddr = 127.0.0.1" in manager
    assert "timestampevents = yes" in manager
    assert "command" not in manager.split("write =")[1].splitlines()[0]
    queues = rendered["queues.conf"]
    for line in ("autofill = yes", "servicelevel = 15", "log_membername_as_agent = yes"):
        assert line in queues
    assert "queue_log = yes" in rendered["logger.conf"]
    assert "autoload = no" in rendered["modules.conf"]
    assert "bind = 127.0.0.1:5060" in rendered["pjsip.conf"]
    assert [name for name, text in rendered.items() if PLACEHOLDER.search(text)] == []
