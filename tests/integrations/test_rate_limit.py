"""The Redis adapters for rate limits and one-time values, on a real Redis.

The limiter reads time from an injected clock, so windows are moved by hand, never waited for.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.ports import RateLimitTicket
from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.integrations.redis_tickets import RedisOneTimeStore
from viralshorts.settings import get_settings

EMAIL = ("login:email:a@b.c", 3)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def limiter(use_redis, clock) -> RedisRateLimiter:
    return RedisRateLimiter(get_settings(), clock=clock)


def test_counts_until_the_limit_then_says_how_long_to_wait(limiter, clock) -> None:
    for _ in range(3):
        assert isinstance(limiter.take([EMAIL], window_seconds=60), RateLimitTicket)
        clock.now += 10
    # The first attempt (30 s ago) leaves the 60 s window in 30 s.
    assert limiter.take([EMAIL], window_seconds=60) == 30
    other = limiter.take([("login:email:other@b.c", 3)], window_seconds=60)
    assert isinstance(other, RateLimitTicket)


def test_a_refused_attempt_is_not_counted(limiter, clock) -> None:
    for _ in range(3):
        limiter.take([EMAIL], window_seconds=60)
    for _ in range(5):
        assert limiter.take([EMAIL], window_seconds=60) == 60
    clock.now += 60
    assert isinstance(limiter.take([EMAIL], window_seconds=60), RateLimitTicket)


def test_one_limited_key_counts_in_none(limiter, use_redis) -> None:
    ip = ("login:ip:10.0.0.1", 1)
    limiter.take([ip], window_seconds=60)
    assert limiter.take([EMAIL, ip], window_seconds=60) == 60
    assert use_redis.zcard("vs:ratelimit:login:email:a@b.c") == 0


def test_window_slides(limiter, clock) -> None:
    limiter.take([("k", 2)], window_seconds=1)
    limiter.take([("k", 2)], window_seconds=1)
    assert limiter.take([("k", 2)], window_seconds=1) == 1
    clock.now += 1.0
    assert isinstance(limiter.take([("k", 2)], window_seconds=1), RateLimitTicket)


def test_keys_are_prefixed_and_expire_with_the_window(limiter, use_redis) -> None:
    limiter.take([("login:ip:10.0.0.1", 5)], window_seconds=120)
    ttl = use_redis.ttl("vs:ratelimit:login:ip:10.0.0.1")
    assert 0 < ttl <= 120  # Redis counts the TTL down in real time


def test_give_back_uncounts_one_attempt(limiter) -> None:
    first = limiter.take([("k", 2)], window_seconds=60)
    limiter.take([("k", 2)], window_seconds=60)
    assert limiter.take([("k", 2)], window_seconds=60) == 60
    limiter.give_back(first)
    assert isinstance(limiter.take([("k", 2)], window_seconds=60), RateLimitTicket)


def test_reset_forgets_attempts(limiter, use_redis) -> None:
    limiter.take([("k", 1)], window_seconds=60)
    limiter.reset("k")
    assert isinstance(limiter.take([("k", 1)], window_seconds=60), RateLimitTicket)
    limiter.reset("k")
    assert use_redis.exists("vs:ratelimit:k") == 0


def test_concurrent_takes_never_pass_the_limit(limiter) -> None:
    barrier = threading.Barrier(30)

    def attempt() -> bool:
        barrier.wait()
        return isinstance(limiter.take([("burst", 5)], window_seconds=60), RateLimitTicket)

    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda _: attempt(), range(30)))
    assert results.count(True) == 5


def test_unreachable_redis_is_service_unavailable() -> None:
    settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with pytest.raises(ServiceUnavailableError) as caught:
        RedisRateLimiter(settings).take([EMAIL], window_seconds=60)
    assert caught.value.code == "rate_limiter_unavailable"
    with pytest.raises(ServiceUnavailableError) as caught:
        RedisOneTimeStore(settings).put("k", "v", ttl_seconds=60)
    assert caught.value.code == "ticket_store_unavailable"


def test_one_time_store_gives_a_value_once(use_redis) -> None:
    store = RedisOneTimeStore(get_settings())
    store.put("signin:abc", "42", ttl_seconds=60)
    assert 0 < use_redis.ttl("vs:once:signin:abc") <= 60
    assert store.take("signin:abc") == "42"
    assert store.take("signin:abc") is None
    assert store.take("never-put") is None


def test_one_time_value_expires_with_its_ttl(use_redis) -> None:
    store = RedisOneTimeStore(get_settings())
    store.put("short", "1", ttl_seconds=60)
    assert use_redis.ttl("vs:once:short") > 0  # the TTL is set: Redis removes it on time
    use_redis.delete("vs:once:short")  # what Redis does when the TTL runs out
    assert store.take("short") is None
