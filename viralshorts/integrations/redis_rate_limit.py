"""The RateLimiter port on Redis: a sliding window of failures per key (a sorted set of times)."""

from __future__ import annotations

import math
import secrets
import time

import redis

from viralshorts.settings import Settings

KEY_PREFIX = "vs:ratelimit:"


class RedisRateLimiter:
    """Counts hits per key inside a sliding window; keys expire with the window."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self._redis = client or redis.Redis.from_url(settings.redis_url)

    def retry_after(self, key: str, *, limit: int, window_seconds: int) -> int:
        """Seconds until ``key`` may try again (0 when it has fewer than ``limit`` hits).

        Args:
            key: what is being limited, e.g. ``login:email:a@b.c``.
            limit: hits allowed inside the window.
            window_seconds: length of the sliding window.
        """
        now = time.time()
        full_key = KEY_PREFIX + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(full_key, 0, now - window_seconds)
        pipe.zrange(full_key, 0, -1, withscores=True)
        _, hits = pipe.execute()
        if len(hits) < limit:
            return 0
        # The hit that must leave the window before one more is allowed.
        blocking_hit_at = hits[len(hits) - limit][1]
        return max(1, math.ceil(blocking_hit_at + window_seconds - now))

    def hit(self, key: str, *, window_seconds: int) -> None:
        """Record one hit for ``key`` now."""
        now = time.time()
        full_key = KEY_PREFIX + key
        pipe = self._redis.pipeline()
        pipe.zadd(full_key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zremrangebyscore(full_key, 0, now - window_seconds)
        pipe.expire(full_key, window_seconds)
        pipe.execute()

    def reset(self, key: str) -> None:
        """Forget every hit for ``key``."""
        self._redis.delete(KEY_PREFIX + key)
