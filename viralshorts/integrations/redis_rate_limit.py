"""The RateLimiter port on Redis: sliding windows of attempts per key (sorted sets of times).

``take`` checks every key and counts the attempt in one Lua script, so concurrent attempts are
counted one after another and never more than the limit get through. Times come from the
injected ``clock`` (tests move it by hand); each key also expires with its window.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Sequence

import redis

from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import RateLimitTicket
from viralshorts.settings import Settings

KEY_PREFIX = "vs:ratelimit:"

# KEYS: the limited keys. ARGV: now, window, member, then one limit per key.
# Returns 0 (counted in every key) or the seconds until the blocking attempt leaves a window.
_TAKE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('EXPIRE', key, math.ceil(window))
end
return '0'
"""


def _unavailable(exc: redis.RedisError) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The service is busy right now. Try again in a moment.",
        code="rate_limiter_unavailable",
        params={"reason": type(exc).__name__},
    )


class RedisRateLimiter:
    """Counts attempts per key inside a sliding window; keys expire with the window."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client or redis.Redis.from_url(settings.redis_url)
        self._clock = clock
        self._take = self._redis.register_script(_TAKE)

    def take(
        self, limits: Sequence[tuple[str, int]], *, window_seconds: int
    ) -> RateLimitTicket | int:
        """Count one attempt against every ``(key, limit)``, or say how long to wait.

        Args:
            limits: what is limited and how many attempts each allows, e.g.
                ``[("login:email:a@b.c", 5), ("login:ip:10.0.0.1", 20)]``.
            window_seconds: length of the sliding window.

        Returns:
            A ticket for ``give_back`` when the attempt was counted everywhere; else the
            seconds to wait (nothing is counted then).

        Raises:
            ServiceUnavailableError: Redis does not answer.
        """
        member = f"{self._clock():.6f}:{secrets.token_hex(6)}"
        keys = [KEY_PREFIX + key for key, _ in limits]
        args = [self._clock(), window_seconds, member, *(limit for _, limit in limits)]
        try:
            wait = float(self._take(keys=keys, args=args))
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        if wait > 0:
            return max(1, math.ceil(wait))
        return RateLimitTicket(keys=tuple(key for key, _ in limits), member=member)

    def give_back(self, ticket: RateLimitTicket) -> None:
        """Uncount an attempt that turned out fine (a correct password, a new account)."""
        try:
            pipe = self._redis.pipeline()
            for key in ticket.keys:
                pipe.zrem(KEY_PREFIX + key, ticket.member)
            pipe.execute()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def reset(self, key: str) -> None:
        """Forget every attempt for ``key``."""
        try:
            self._redis.delete(KEY_PREFIX + key)
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
