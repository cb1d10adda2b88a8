"""The SessionCache port on Redis: one short-lived key per session, a set of them per user.

Forgetting a user deletes their keys and sets a short "ended" marker; remembering is refused
while the marker lives, so a lookup that read the database just before a session ended (and
writes after the drop) cannot put the ended session back into the cache. Both run as Lua
scripts, so each is atomic.
"""

from __future__ import annotations

import redis

from viralshorts.errors import ServiceUnavailableError
from viralshorts.settings import Settings

KEY_PREFIX = "vs:session:"

_PUT = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

_FORGET = """
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
"""


def _unavailable(exc: redis.RedisError) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The service is busy right now. Try again in a moment.",
        code="session_cache_unavailable",
        params={"reason": type(exc).__name__},
    )


def _entry(token_hash: str) -> str:
    return f"{KEY_PREFIX}token:{token_hash}"


def _user_keys(user_id: int) -> tuple[str, str]:
    return f"{KEY_PREFIX}user:{user_id}", f"{KEY_PREFIX}ended:{user_id}"


class RedisSessionCache:
    """Session lookups kept for milliseconds; ServiceUnavailableError when Redis is down."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self._redis = client or redis.Redis.from_url(
            settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._put = self._redis.register_script(_PUT)
        self._forget = self._redis.register_script(_FORGET)

    def get(self, token_hash: str) -> str | None:
        """The remembered value, or None."""
        try:
            raw = self._redis.get(_entry(token_hash))
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        return None if raw is None else bytes(raw).decode()  # type: ignore[arg-type]

    def put(self, token_hash: str, user_id: int, value: str, *, ttl_ms: int) -> None:
        """Remember ``value`` for ``ttl_ms`` unless the user's sessions just ended."""
        users, ended = _user_keys(user_id)
        try:
            self._put(keys=[_entry(token_hash), users, ended], args=[value, ttl_ms])
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def forget_user(self, user_id: int, *, hold_ms: int) -> None:
        """Drop the user's entries; refuse new ones for ``hold_ms``."""
        try:
            self._forget(keys=list(_user_keys(user_id)), args=[hold_ms])
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
