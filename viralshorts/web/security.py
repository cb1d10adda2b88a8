"""Security headers on every HTTP response, the built frontend's pages included.

``security_headers(static_dir)`` is an ASGI middleware factory for ``rx.App(api_transformer=...)``:
placed last in the list it wraps Reflex's own routes and the static frontend, not only ours.

The Content-Security-Policy fits the Reflex production frontend:
- scripts from our origin, plus the inline bootstrap scripts React Router writes into each built
  page, allowed by their SHA-256 (read once from the build's HTML files); ``'unsafe-eval'``
  because Reflex runs ``rx.call_script`` and event callbacks through ``eval``;
- inline styles (Radix Themes and Emotion write style attributes and tags at run time);
- the websocket and fetches to our origin only; media and images from our origin, ``blob:``,
  ``data:`` and, with S3 storage, the bucket's endpoint (presigned URLs);
- never framed (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viralshorts.settings import Settings, get_settings

HSTS = "max-age=31536000; includeSubDomains"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def inline_script_hashes(html: str) -> set[str]:
    """The CSP source expressions (``'sha256-...'``) of every inline script in ``html``."""
    hashes = set()
    for body in _INLINE_SCRIPT.findall(html):
        if body.strip():
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return hashes


@lru_cache(maxsize=4)
def _build_hashes(static_dir: Path | None) -> tuple[str, ...]:
    if static_dir is None or not static_dir.is_dir():
        return ()
    found: set[str] = set()
    for page in static_dir.rglob("*.html"):
        found |= inline_script_hashes(page.read_text(encoding="utf-8", errors="replace"))
    return tuple(sorted(found))


def content_security_policy(settings: Settings, script_hashes: tuple[str, ...] = ()) -> str:
    """The CSP for these settings; without a built frontend, inline scripts are allowed."""
    inline = " ".join(script_hashes) if script_hashes else "'unsafe-inline'"
    media = " ".join(["'self'", "blob:", "data:", *settings.media_origins])
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-eval' {inline}",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {media}",
        f"media-src {media}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def header_values(settings: Settings, script_hashes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every security header for a response, as ``(name, value)``."""
    headers = [
        ("Content-Security-Policy", content_security_policy(settings, script_hashes)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if settings.served_over_https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def security_headers(
    static_dir: Callable[[], Path | None] | None = None,
) -> Callable[[ASGIApp], ASGIApp]:
    """An ``api_transformer`` adding the security headers to every HTTP response.

    Args:
        static_dir: returns the built frontend's folder (read on the first request, once the
            build exists); None outside the production app.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            hashes = _build_hashes(static_dir() if static_dir else None)
            extra = header_values(get_settings(), hashes)

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for name, value in extra:
                        headers.setdefault(name, value)
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return wrap
