"""A private bundled PBX (and Redis) for a benchmark: its own run directory and free ports,
started and stopped around the run, so `make bench` needs nothing already running."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping

from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.stores import redis_server


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def private_pbx(
    name: str,
    *,
    rtp: str = "31000-31199",
    redis: bool = True,
    extra: Mapping[str, str] | None = None,
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """The settings (and HOTLINE_* environment) of a PBX started for this run only;
    ``extra`` adds HOTLINE_* variables of the benchmark's own (a centre, a dialplan)."""
    with tempfile.TemporaryDirectory(prefix=f"hotline-bench-{name}-") as tmp:
        env = {
            "HOTLINE_RUN_DIR": tmp,
            "HOTLINE_AMI_PORT": str(free_port()),
            "HOTLINE_SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
            "HOTLINE_RTP_PORTS": rtp,
            "HOTLINE_AMI_SECRET": "bench-" + os.urandom(6).hex(),
            **(extra or {}),
        }
        settings = Settings.from_env({**os.environ, **env})
        if redis:
            redis_server.start(settings)
        install.install(settings, settings.flow)
        pbx.start(settings)
        try:
            yield settings, env
        finally:
            pbx.stop(settings)
            if redis:
                redis_server.stop(settings)
