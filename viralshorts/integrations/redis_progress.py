"""ProgressPublisher on Redis pub/sub: one channel per user, JSON payloads.

The UI subscribes to ``progress_channel(user_id)``; when it reconnects it reads the database
instead, so a missed message is never lost information.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlparse

import redis

from viralshorts.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _redis_db_index(url: str) -> int:
    path = urlparse(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def progress_channel(user_id: int, redis_url: str | None = None) -> str:
    """The pub/sub channel carrying ``{video_id, status, step, percent, message}`` for a user.

    Pub/sub channels are server-wide in Redis (not per database index), so the channel carries
    the index of REDIS_URL: two environments sharing one Redis server never see each other's
    progress.
    """
    db_index = _redis_db_index(redis_url or get_settings().redis_url)
    return f"vs:{db_index}:progress:user:{user_id}"


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

    def publish(self, user_id: int, payload: dict[str, Any]) -> None:
        """Send ``payload`` to the user's channel."""
        try:
            channel = progress_channel(user_id, self._url)
            self.client.publish(channel, json.dumps(payload, default=str))
        except redis.RedisError:
            logger.warning("progress publish failed for user %s", user_id, exc_info=True)
