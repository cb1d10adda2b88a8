"""What the publishing-platform adapters share: HTTP calls, error mapping, delays, the upload.

``platform_error`` turns an HTTP answer into the error classes of ``errors.py`` the way the
ports promise: 401 → PlatformAuthError, 429/quota → PlatformRateLimitedError with the delay,
5xx → retryable PlatformError, any other refusal → PlatformError(retryable=False), always with
the platform's own message. Tokens never appear in a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import httpx

from viralshorts.errors import (
    PlatformAuthError,
    PlatformError,
    PlatformRateLimitedError,
)
from viralshorts.integrations.ports import PlatformTokens, VideoSource

READ_BYTES = 256 * 1024  # what one read from the source holds in memory
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
PACIFIC = ZoneInfo("America/Los_Angeles")


def expires_at(seconds: Any) -> datetime | None:
    """When a token given ``expires_in`` seconds now expires (None when not said)."""
    if seconds in (None, ""):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


def seconds_until_pacific_midnight(now: datetime | None = None) -> float:
    """YouTube's daily quota resets at midnight Pacific Time."""
    local = (now or datetime.now(UTC)).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), PACIFIC)
    return (midnight - local).total_seconds()


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """The ``Retry-After`` header (seconds or an HTTP date), else ``default``."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def platform_error(
    platform: str,
    response: httpx.Response,
    status: int,
    message: str,
    reason: str,
    *,
    default_delay: float,
) -> PlatformError:
    """The error for a refused call; ``status`` is the HTTP status as the platform means it."""
    params = {"platform": platform, "http_status": response.status_code, "reason": reason}
    if status == 401:
        return PlatformAuthError(message, params=params)
    if status == 429:
        delay = retry_after_seconds(response, default_delay)
        return PlatformRateLimitedError(message, retry_after_seconds=delay, params=params)
    return PlatformError(message, retryable=status >= 500, params=params)


def network_error(platform: str, exc: Exception) -> PlatformError:
    """The platform did not answer (connection refused, reset, timeout)."""
    return PlatformError(
        f"Could not reach {platform} ({type(exc).__name__}).",
        retryable=True,
        code="platform_unreachable",
        params={"platform": platform},
    )


def http_client() -> httpx.Client:
    """A client with the timeouts every platform call uses (uploads send for a while)."""
    return httpx.Client(timeout=HTTP_TIMEOUT)


def call(
    platform: str, method: Callable[..., httpx.Response], *args: Any, **kwargs: Any
) -> httpx.Response:
    """``method(*args, **kwargs)``, a connection that fails raising ``network_error``."""
    try:
        return method(*args, **kwargs)
    except httpx.TransportError as exc:
        raise network_error(platform, exc) from exc


def bearer_header(platform_title: str, tokens: PlatformTokens) -> dict[str, str]:
    """The ``Authorization`` header; no access token at all is an auth error, not a call."""
    if not tokens.access_token:
        raise PlatformAuthError(
            f"The {platform_title} account has no access token.", retryable=False
        )
    return {"Authorization": f"Bearer {tokens.access_token}"}


class SourceReader:
    """Reads a VideoSource forward in small pieces, reopening it only where it must.

    A chunk is sent from a generator, so memory stays at ``READ_BYTES`` whatever the chunk size.
    After a broken chunk the stream sits somewhere unknown; the next ``pieces`` call from any
    other offset reopens the source there.
    """

    def __init__(self, source: VideoSource) -> None:
        self.size = source.size
        self.content_type = source.content_type
        self._source = source
        self._stream: BinaryIO | None = None
        self._position = -1

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()

    def pieces(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the source."""
        if self._stream is None or self._position != start:
            self._close()
            self._stream = self._source.open_at(start)
            self._position = start
        stream = self._stream
        while self._position < end:
            piece = stream.read(min(READ_BYTES, end - self._position))
            if not piece:
                raise PlatformError("The video file is shorter than expected.", retryable=False)
            self._position += len(piece)
            yield piece

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._position = -1
