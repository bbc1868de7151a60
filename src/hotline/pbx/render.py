"""Render the Asterisk configuration of one PBX instance (pure).

The files in ``dialplan/`` are Asterisk configuration with ``@NAME@`` placeholders for what
differs per instance (ports, the AMI user and secret). Asterisk's own ``${VAR}`` syntax is
left alone, which is why the placeholders use another form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hotline.pbx.errors import PBXError

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
FORBIDDEN_IN_VALUES = ("\n", "\r", "\0")


def render_configs(templates: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """Return ``templates`` with every ``@NAME@`` replaced by ``values[NAME]``.

    Raises :class:`PBXError` for a placeholder without a value, or a value that would
    break out of its line (a newline could smuggle in a config section).
    """
    for name, value in values.items():
        if any(c in value for c in FORBIDDEN_IN_VALUES):
            raise PBXError(f"value of @{name}@ contains a line break or NUL")
    rendered: dict[str, str] = {}
    for filename, text in templates.items():
        missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
        if missing:
            names = ", ".join(f"@{m}@" for m in missing)
            raise PBXError(f"{filename}: no value for {names}")
        rendered[filename] = PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    return rendered
