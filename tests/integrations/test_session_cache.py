"""The session cache on a real Redis, and the check that uses it when Redis is down.

Nothing waits for a TTL: the entries' lifetimes are read from Redis (PTTL) instead.
"""

from __future__ import annotations

import pytest

from viralshorts.domain import session_checks
from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.redis_sessions import RedisSessionCache
from viralshorts.settings import get_settings

TOKEN = "raw-session-token"


class Loader:
    """Stands in for the database lookup; counts how often it was asked."""

    def __init__(self, found: tuple[int, str] | None) -> None:
        self.found = found
        self.calls = 0

    def __call__(self, token: str) -> tuple[int, str] | None:
        self.calls += 1
        return self.found


@pytest.fixture()
def cache(use_redis) -> RedisSessionCache:
    return RedisSessionCache(get_settings())


@pytest.fixture()
def dead_cache() -> RedisSessionCache:
    # Port 1 refuses connections: every call is a Redis error.
    return RedisSessionCache(
        get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    )


def test_a_found_session_is_remembered_for_at_most_a_second(cache, use_redis) -> None:
    load = Loader((7, "seven"))
    assert session_checks.checked(cache, TOKEN, load) == "seven"
    assert session_checks.checked(cache, TOKEN, load) == "seven"
    assert load.calls == 1
    keys = [k.decode() for k in use_redis.keys("vs:session:token:*")]
    assert len(keys) == 1 and TOKEN not in keys[0]  # only the token's hash is stored
    assert 0 < use_redis.pttl(keys[0]) <= session_checks.CACHE_MS


def test_an_unknown_session_is_never_remembered(cache) -> None:
    load = Loader(None)
    assert session_checks.checked(cache, TOKEN, load) is None
    assert session_checks.checked(cache, TOKEN, load) is None
    assert load.calls == 2
    assert session_checks.checked(cache, "", load) is None and load.calls == 2


def test_ending_a_users_sessions_drops_them_and_holds_off_stale_writes(cache, use_redis) -> None:
    load = Loader((7, "seven"))
    session_checks.checked(cache, TOKEN, load)
    session_checks.checked(cache, "other-tab", load)
    session_checks.checked(cache, "someone-else", Loader((8, "eight")))
    session_checks.sessions_ended(cache, 7)
    assert cache.get(session_checks._key(TOKEN)) is None
    assert cache.get(session_checks._key("other-tab")) is None
    assert cache.get(session_checks._key("someone-else")) == "eight"
    # A lookup that read the database just before the end writes after it: not remembered.
    cache.put(session_checks._key(TOKEN), 7, "seven", ttl_ms=session_checks.CACHE_MS)
    assert cache.get(session_checks._key(TOKEN)) is None
    assert 0 < use_redis.pttl("vs:session:ended:7") <= session_checks.HOLD_MS


def test_redis_down_asks_the_database_and_never_signs_anyone_in(dead_cache) -> None:
    with pytest.raises(ServiceUnavailableError):
        dead_cache.get("x")
    assert session_checks.checked(dead_cache, TOKEN, Loader(None)) is None
    load = Loader((7, "seven"))
    assert session_checks.checked(dead_cache, TOKEN, load) == "seven"
    assert session_checks.checked(dead_cache, TOKEN, load) == "seven"
    assert load.calls == 2
    session_checks.sessions_ended(dead_cache, 7)  # logged, not raised
