"""ProgressPublisher and ProgressFeed on Redis pub/sub: one channel per workspace, JSON payloads.

The worker publishes on ``progress_channel(workspace_id)``, so every member watching sees it;
the pages subscribe through ``RedisProgressFeed``. When a subscription breaks the pages read
the database instead, so a missed message is never lost information.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlparse

import redis
import redis.asyncio as aioredis

from viralshorts.errors import ServiceUnavailableError
from viralshorts.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _redis_db_index(url: str) -> int:
    path = urlparse(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def progress_channel(workspace_id: int, redis_url: str | None = None) -> str:
    """The channel carrying ``{video_id, status, step, percent, message}`` for a workspace.

    Pub/sub channels are server-wide in Redis (not per database index), so the channel carries
    the index of REDIS_URL: two environments sharing one Redis server never see each other's
    progress.
    """
    db_index = _redis_db_index(redis_url or get_settings().redis_url)
    return f"vs:{db_index}:progress:workspace:{workspace_id}"


class RedisProgressPublisher:
    """Publishes progress; a Redis hiccup is logged, never allowed to fail a render."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self._url = settings.redis_url
        self._client = client

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self._url)
        return self._client

    def publish(self, workspace_id: int, payload: dict[str, Any]) -> None:
        """Send ``payload`` to the workspace's channel."""
        try:
            channel = progress_channel(workspace_id, self._url)
            self.client.publish(channel, json.dumps(payload, default=str))
        except redis.RedisError:
            logger.warning("progress publish failed for workspace %s", workspace_id, exc_info=True)


def parse_progress(data: Any) -> dict[str, Any] | None:
    """The progress message in a pub/sub payload, or None if it is not one."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    try:
        update = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(update, dict) or not isinstance(update.get("video_id"), int):
        return None
    return update


def _unavailable(what: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"Live progress is not available ({what}); the page reloads from the database.",
        code="progress_feed_unavailable",
        params={"what": what},
    )


class RedisProgressSubscription:
    """One user's channel on its own async connection (closed with the subscription)."""

    def __init__(self, client: aioredis.Redis, pubsub: aioredis.client.PubSub) -> None:
        self._client = client
        self._pubsub = pubsub

    async def next_update(self, *, timeout: float) -> dict[str, Any] | None:
        """The next progress message, or None after ``timeout`` seconds (or a foreign payload)."""
        try:
            message = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=timeout
            )
        except (aioredis.RedisError, OSError) as exc:
            raise _unavailable("subscription lost") from exc
        return parse_progress(message["data"]) if message else None

    async def close(self) -> None:
        """Unsubscribe and close the connection; a broken connection closes quietly."""
        with contextlib.suppress(aioredis.RedisError, OSError):
            await self._pubsub.aclose()
        with contextlib.suppress(aioredis.RedisError, OSError):
            await self._client.aclose()


class RedisProgressFeed:
    """Subscriptions to the channels ``RedisProgressPublisher`` publishes on."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.redis_url

    async def subscribe(self, workspace_id: int) -> RedisProgressSubscription:
        """Subscribe to the workspace's channel; ServiceUnavailableError when Redis is down."""
        client = aioredis.Redis.from_url(self._url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(progress_channel(workspace_id, self._url))
        except (aioredis.RedisError, OSError) as exc:
            logger.warning("progress: cannot subscribe for workspace %s", workspace_id)
            await RedisProgressSubscription(client, pubsub).close()
            raise _unavailable("cannot subscribe") from exc
        return RedisProgressSubscription(client, pubsub)
