"""A worker that loses its Redis broker must reconnect, not die (found by `make chaos`, bench/chaos/notices.py).

With Celery 5.7.0 / kombu 5.7.0, when Redis restarts while the worker holds an unacknowledged message, the consumer's
`on_connection_error_after_connected` first runs `connection.collect()` — which detaches the transport from its
connection (`connection.client = None`) — and then `connection.close()`, which restores the unacknowledged messages
and so opens a new Redis client. `Channel._connparams` then reads `self.connection.client.hostname` and raises
AttributeError. `close()` runs under kombu's `ignore_errors`, which swallows connection errors only: the AttributeError
becomes "Unrecoverable error" and the worker exits (3 times out of 3 in the harness).

The fix: when the channel's connection has been detached, `_connparams` raises the transport's own connection error
instead. `ignore_errors` swallows it, the consumer reconnects, and the unacknowledged messages stay in Redis's
unacked set, where kombu restores them after the visibility timeout (and the outbox's sweeper re-queues whatever is
due in any case: a notice is delivered once whichever path reaches it first, see docs/transfers.md).
"""

from __future__ import annotations

from typing import Any

PATCHED_MARK = "_ward_detached_client_guard"


def apply() -> bool:
    """Install the guard once; returns False when kombu's Redis transport is not importable (nothing to fix)."""
    try:  # inside: guards an optional dependency (no cycle); without kombu's Redis transport there is nothing to fix
        from kombu.transport import redis as kombu_redis
        from redis.exceptions import ConnectionError as RedisConnectionError
    except ImportError:  # pragma: no cover - redis is in requirements.txt
        return False
    channel = kombu_redis.Channel
    if getattr(channel._connparams, PATCHED_MARK, False):
        return True
    original = channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
        if getattr(self.connection, "client", None) is None:
            raise RedisConnectionError("the broker connection was closed (detached transport)")
        return original(self, asynchronous=asynchronous)

    setattr(_connparams, PATCHED_MARK, True)
    channel._connparams = _connparams
    return True
