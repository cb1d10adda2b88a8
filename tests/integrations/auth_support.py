"""A Services bundle with only what sign-in needs (real Redis adapters); other ports are absent."""

from __future__ import annotations

from viralshorts.integrations.ports import Services
from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.integrations.redis_tickets import RedisOneTimeStore
from viralshorts.settings import Settings


def auth_services(settings: Settings) -> Services:
    """Sign-in routes and pages touch only the rate limiter and the ticket store."""
    return Services(
        settings=settings,
        storage=None,  # type: ignore[arg-type]
        script_writer=None,  # type: ignore[arg-type]
        speech={},
        transcriber=None,
        stock=None,
        rate_limiter=RedisRateLimiter(settings),
        progress=None,  # type: ignore[arg-type]
        queue=None,  # type: ignore[arg-type]
        prober=None,  # type: ignore[arg-type]
        renderer=None,  # type: ignore[arg-type]
        tickets=RedisOneTimeStore(settings),
    )
