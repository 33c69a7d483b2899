"""config/kombu_redis_fix.py: a channel whose connection was detached answers with a connection error (which kombu's
ignore_errors swallows, so the worker reconnects) instead of an AttributeError (which made the worker exit)."""

from types import SimpleNamespace

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from config import kombu_redis_fix


def test_the_guard_is_installed_with_the_celery_app():
    import config.celery  # noqa: F401 - installs it

    assert getattr(kombu_redis.Channel._connparams, kombu_redis_fix.PATCHED_MARK, False)
    assert kombu_redis_fix.apply() is True  # idempotent


def test_a_detached_channel_raises_a_connection_error_that_close_ignores():
    kombu_redis_fix.apply()
    detached = SimpleNamespace(connection=SimpleNamespace(client=None))
    with pytest.raises(RedisConnectionError):
        kombu_redis.Channel._connparams(detached)
    transport = Connection("redis://127.0.0.1:1/0").transport
    assert issubclass(RedisConnectionError, tuple(transport.connection_errors))
