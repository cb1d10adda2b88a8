"""The Redis adapters for rate limits and one-time values, on a real Redis."""

from __future__ import annotations

import time

import pytest

from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.integrations.redis_tickets import RedisOneTimeStore
from viralshorts.settings import get_settings


@pytest.fixture()
def limiter(use_redis) -> RedisRateLimiter:
    return RedisRateLimiter(get_settings())


def test_allows_until_the_limit_then_says_how_long_to_wait(limiter, use_redis) -> None:
    for _ in range(3):
        assert limiter.retry_after("login:email:a@b.c", limit=3, window_seconds=60) == 0
        limiter.hit("login:email:a@b.c", window_seconds=60)
    wait = limiter.retry_after("login:email:a@b.c", limit=3, window_seconds=60)
    assert 58 <= wait <= 60
    assert limiter.retry_after("login:email:other@b.c", limit=3, window_seconds=60) == 0


def test_keys_are_prefixed_and_expire_with_the_window(limiter, use_redis) -> None:
    limiter.hit("login:ip:10.0.0.1", window_seconds=120)
    ttl = use_redis.ttl("vs:ratelimit:login:ip:10.0.0.1")
    assert 118 <= ttl <= 120


def test_window_slides(limiter) -> None:
    limiter.hit("k", window_seconds=1)
    limiter.hit("k", window_seconds=1)
    assert limiter.retry_after("k", limit=2, window_seconds=1) == 1
    time.sleep(1.1)
    assert limiter.retry_after("k", limit=2, window_seconds=1) == 0


def test_reset_forgets_hits(limiter, use_redis) -> None:
    limiter.hit("k", window_seconds=60)
    limiter.reset("k")
    assert limiter.retry_after("k", limit=1, window_seconds=60) == 0
    assert use_redis.exists("vs:ratelimit:k") == 0


def test_one_time_store_gives_a_value_once(use_redis) -> None:
    store = RedisOneTimeStore(get_settings())
    store.put("signin:abc", "42", ttl_seconds=60)
    assert 58 <= use_redis.ttl("vs:once:signin:abc") <= 60
    assert store.take("signin:abc") == "42"
    assert store.take("signin:abc") is None
    assert store.take("never-put") is None


def test_one_time_value_expires(use_redis) -> None:
    store = RedisOneTimeStore(get_settings())
    store.put("short", "1", ttl_seconds=1)
    time.sleep(1.1)
    assert store.take("short") is None
