"""The OneTimeStore port on Redis: SET with a TTL, taken back with an atomic GETDEL."""

from __future__ import annotations

import redis

from viralshorts.errors import ServiceUnavailableError
from viralshorts.settings import Settings

KEY_PREFIX = "vs:once:"


def _unavailable(exc: redis.RedisError) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The service is busy right now. Try again in a moment.",
        code="ticket_store_unavailable",
        params={"reason": type(exc).__name__},
    )


class RedisOneTimeStore:
    """Values that live ``ttl_seconds`` and can be taken exactly once."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self._redis = client or redis.Redis.from_url(settings.redis_url)

    def put(self, key: str, value: str, *, ttl_seconds: int) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds``; ServiceUnavailableError if down."""
        try:
            self._redis.set(KEY_PREFIX + key, value.encode(), ex=ttl_seconds)
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def take(self, key: str) -> str | None:
        """Return and delete the value; None when it is missing, expired or already taken."""
        try:
            raw = self._redis.getdel(KEY_PREFIX + key)
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        return None if raw is None else raw.decode()
