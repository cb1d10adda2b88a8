"""A Services bundle with only what sign-in needs (real Redis adapters); other ports are absent."""

from __future__ import annotations

from tests.factories import services_with
from viralshorts.integrations.ports import Services
from viralshorts.integrations.redis_rate_limit import RedisRateLimiter
from viralshorts.integrations.redis_tickets import RedisOneTimeStore
from viralshorts.settings import Settings


def auth_services(settings: Settings) -> Services:
    """Sign-in routes and pages touch only the rate limiter and the ticket store."""
    return services_with(
        settings, rate_limiter=RedisRateLimiter(settings), tickets=RedisOneTimeStore(settings)
    )
