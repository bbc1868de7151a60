"""Run the bundled Asterisk (a Debian sid rootfs) with hotline's configuration."""

from hotline.pbx.errors import PBXError
from hotline.pbx.render import render_configs

__all__ = ["PBXError", "render_configs"]
