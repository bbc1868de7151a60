"""The private Redis of the test bed (and of `make run` when HOTLINE_REDIS_URL is unset)."""

from __future__ import annotations

import redis

from hotline.host.settings import Settings
from hotline.stores import redis_server


def test_private_redis_answers_on_its_socket_only(
    redis_client: redis.Redis, settings: Settings
) -> None:
    assert redis_client.ping()
    redis_client.set("hotline:test", "值")
    assert redis_client.get("hotline:test") == "值".encode()
    config = redis_client.config_get("port")
    assert config["port"] == "0"  # no TCP listener
    assert redis_server.socket_path(settings).is_socket()


def test_each_test_starts_with_an_empty_database(redis_client: redis.Redis) -> None:
    assert redis_client.dbsize() == 0
    redis_client.set("left-behind", "1")


def test_start_is_idempotent(redis_url: str, settings: Settings) -> None:
    first = redis_server.status(settings)
    again = redis_server.start(settings)
    assert first.running
    assert again.running
    assert again.pid == first.pid
