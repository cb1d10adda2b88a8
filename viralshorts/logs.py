"""Structured logging: one ``key=value`` line per request and per job, with ids.

``log_event("job.finished", job_id=..., video_id=...)`` is the one way to write such a line.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from viralshorts.settings import get_settings

LOGGER_NAME = "viralshorts"
_configured = False

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def configure_logging() -> None:
    """Send our log lines to stderr once per process, at the configured level."""
    global _configured  # noqa: PLW0603
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(get_settings().log_level.upper())
    logger.propagate = False
    _configured = True


def _format_value(value: object) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' "='):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def log_event(event: str, *, level: int = logging.INFO, **fields: object) -> None:
    """Write ``event`` and its fields as one line (``event=... key=value ...``)."""
    configure_logging()
    parts = [f"event={event}", *(f"{k}={_format_value(v)}" for k, v in fields.items())]
    logging.getLogger(LOGGER_NAME).log(level, " ".join(parts))


def request_logging(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: one line per HTTP request with a request id, status and duration."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_status(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_status)
        finally:
            log_event(
                "http.request",
                request_id=request_id,
                method=scope.get("method", ""),
                path=scope.get("path", ""),
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    return middleware
