"""``/_upload`` needs the uploader's own session cookie, not only the tab's state token.

Reflex authorises an upload by the ``reflex-client-token`` header alone and runs the handler
with the state's router data from the websocket, never the upload request's headers. So this
middleware (in ``rx.App(api_transformer=...)``) hands the upload request's session token to the
handler through a single-use, in-process grant keyed by the client token (the request and its
handler run in the same process). The handler (``ui.guards.upload_session_user``) takes it and
acts only when it is the tab's own session and that session is still valid.

A request without a session cookie gets 401 and reaches nothing. While a tab's grant waits for
its handler, a second upload for the same tab gets 409, so one request's handler can never take
another request's grant.
"""

from __future__ import annotations

import threading
import time
from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viralshorts.domain.accounts import SESSION_COOKIE

UPLOAD_PATH = "/_upload"
GRANT_SECONDS = 30.0

_grants: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def _session_token(headers: Headers) -> str:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except CookieError:
        return ""
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


def _grant(client_token: str, session_token: str) -> bool:
    now = time.monotonic()
    with _lock:
        for key in [k for k, (_, deadline) in _grants.items() if deadline <= now]:
            del _grants[key]
        if client_token in _grants:
            return False
        _grants[client_token] = (session_token, now + GRANT_SECONDS)
        return True


def _drop(client_token: str) -> None:
    with _lock:
        _grants.pop(client_token, None)


def take_upload_session(client_token: str) -> str:
    """The session token of the upload request now running for this tab, once; else ``""``.

    Args:
        client_token: The tab's Reflex client token.

    Returns:
        The raw session token the ``/_upload`` request carried, or ``""`` when no upload
        request of this tab is waiting for its handler (or it waited too long).
    """
    with _lock:
        token, deadline = _grants.pop(client_token, ("", 0.0))
    return token if deadline > time.monotonic() else ""


def upload_session_guard(app: ASGIApp) -> ASGIApp:
    """Wrap the app: ``/_upload`` without a session cookie is refused before Reflex sees it."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != UPLOAD_PATH:
            await app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client_token = headers.get("reflex-client-token", "")
        session_token = _session_token(headers)
        if not client_token or not session_token:
            refused = JSONResponse({"detail": "Sign in again to upload."}, status_code=401)
            await refused(scope, receive, send)
            return
        if not _grant(client_token, session_token):
            busy = JSONResponse({"detail": "An upload is already running."}, status_code=409)
            await busy(scope, receive, send)
            return

        async def send_and_watch(message: Message) -> None:
            # Refused by Reflex itself (no handler will run): the grant is not left waiting.
            if message["type"] == "http.response.start" and message["status"] >= 400:
                _drop(client_token)
            await send(message)

        await app(scope, receive, send_and_watch)

    return guarded
