"""Fixtures that start the real services. Every test in tests/integration uses them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.stores import redis_server
from tests.conftest import bed_env
from tests.integration import bed
from tests.integration.engines import vosk, whisper, whisper_en  # noqa: F401 (fixtures)
from tests.integration.pgbed import pg_server  # noqa: F401 (fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


OPS_USER = "hotline-ops"


def add_ops_user(settings: Settings) -> str:
    """Give the instance an operator AMI user with 'command' (as a site would, locally)."""
    secret = "ops-" + (settings.ami_secret or "")
    etc = settings.pbx_dir / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "manager-local.conf").write_text(
        f"[{OPS_USER}]\nsecret = {secret}\npermit = 127.0.0.1/255.255.255.255\n"
        "read = all\nwrite = command,system,call,agent,originate\n"
    )
    return secret


@pytest.fixture(scope="session")
def pbx_running(settings: Settings) -> Iterator[Settings]:
    """The bundled Asterisk, started once for the session and stopped at its end."""
    pbx.stop(settings)
    add_ops_user(settings)
    install.install(settings, settings.flow)
    pbx.start(settings)
    yield settings
    pbx.stop(settings)


@pytest.fixture
def other_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a second, independent PBX instance (lifecycle and fault tests)."""
    env = bed_env(tmp_path)
    yield env
    pbx.stop(Settings.from_env(env))


@pytest.fixture(scope="session")
def redis_url(settings: Settings) -> Iterator[str]:
    """A private redis-server on a Unix socket, for the session."""
    status = redis_server.start(settings)
    yield status.url
    redis_server.stop(settings)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest_asyncio.fixture
async def ami(pbx_running: Settings) -> AsyncIterator[AMIClient]:
    """A logged-in client on a PBX reset to a clean state (no calls, empty queues)."""
    client = AMIClient(pbx.endpoint(pbx_running))
    await client.connect()
    await bed.reset(client)
    log = pbx_running.pbx_dir / "log" / "messages.log"
    start = log.stat().st_size
    yield client
    await client.close()
    # whatever a test did, Asterisk must not have logged an ERROR (a module missing from
    # modules.conf, a dialplan function not registered, a broken config line)
    with log.open(errors="replace") as f:
        f.seek(start)
        # an action that arrives while a test stops the PBX is refused with an ERROR line
        errors = [
            line.strip()
            for line in f
            if "ERROR[" in line and "Asterisk is shutting down" not in line
        ]
    assert errors == [], "Asterisk logged errors during the test"


@pytest_asyncio.fixture
async def web(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[object]:
    """The web app on a fresh database and an emptied Redis (a module's own ``web`` with
    more in it overrides this one)."""
    from tests.integration.webapp import close_web, make_web

    app = await make_web(settings, tmp_path / "web.sqlite3", redis_url)
    await app.services.redis.flushdb()
    yield app
    await close_web(app)


@pytest.fixture(scope="session")
def kamailio_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Kamailio and two bundled PBXs behind it, SIPp agents 1001 and 1002 registered
    (tests/integration/multibed.py): started once for the modules that use it
    (test_kamailio, test_kamailio_failover), each of which begins with ``ensure_running``;
    the last one stops it early. Nothing of it may survive (checked here)."""
    from hotline.pbx import kamailio_run
    from tests.integration.multibed import Centre

    bed = Centre(tmp_path_factory.mktemp("centre"))
    try:
        bed.start_kamailio()
        for ext in ("1001", "1002"):
            bed.agent(ext, bed.base / "agents", talk_ms=2500)
        bed.start_pbxs()
        yield bed
    finally:
        bed.stop()
    assert not (bed.kamailio.kamailio_dir / kamailio_run.PIDFILE).exists()
    assert kamailio_run.status(bed.kamailio).state is kamailio_run.KamailioState.STOPPED
    for each in bed.pbxs:
        assert pbx.status(each).state is pbx.PBXState.STOPPED
