"""What the fakes of the publishing platforms share (YouTube, TikTok, Instagram).

A fake runs a real ``ThreadingHTTPServer`` on 127.0.0.1 in a background thread. The YouTube and
TikTok fakes also share their OAuth bookkeeping (grants holding live access tokens), faults queued
per request kind, and the HTTP plumbing of their handlers. What each platform answers, its error
bodies and its paths, stays in its own module: that is the wire protocol the clients are tested
against.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar
from urllib.parse import parse_qs, urlencode


class _Grant(Protocol):
    access_tokens: dict[str, float]  # access token → when it expires (time.time())
    revoked: bool


GrantT = TypeVar("GrantT", bound=_Grant)


@dataclass
class OAuthFakeState(Generic[GrantT]):
    """Grants, faults queued per request kind, and the requests seen (kind, fault)."""

    grants: list[GrantT] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def take_fault(self, kind: str) -> str:
        with self.lock:
            queue = self.faults.get(kind) or []
            return queue.pop(0) if queue else ""

    def grant_of(self, access_token: str) -> GrantT | None:
        for grant in self.grants:
            expiry = grant.access_tokens.get(access_token)
            if expiry and not grant.revoked and expiry > time.time():
                return grant
        return None


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Drop the connection with a TCP reset, as a broken network does mid-body."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def hidden_fields(query: dict[str, str]) -> str:
    """The consent form's hidden inputs carrying the authorize request on to the decision."""
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in query.items()
    )


class FakeHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 plumbing: answers with a length, bodies read exactly, no request log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        return

    @property
    def base_url(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: Any, **headers: str) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=UTF-8", **headers)

    def _html(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/html; charset=utf-8")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict[str, str]:
        pairs = parse_qs(self._body().decode(), keep_blank_values=True)
        return {key: values[0] for key, values in pairs.items()}

    def _redirect_back(self, target: str, params: dict[str, str]) -> None:
        """302 to the client's ``redirect_uri`` with ``params`` added to its query."""
        joiner = "&" if "?" in target else "?"
        self._send(302, b"", "text/plain", Location=f"{target}{joiner}{urlencode(params)}")


StateT = TypeVar("StateT")


class PlatformFake(Generic[StateT]):
    """Runs a fake on 127.0.0.1 in a background thread (``with FakeX() as fake``)."""

    handler_class: type[BaseHTTPRequestHandler]
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer

    def __init__(self, port: int, state: StateT) -> None:
        self.state = state
        handler = type("Handler", (self.handler_class,), {"state": state})
        self._server = self.server_class(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_until_interrupted(self, description: str) -> None:
        """Run in the foreground (``python -m tests.fakes.<module>``) until Ctrl-C; the first
        line printed ends with the base URL, which the sandbox and its test wait for."""
        with self:
            print(f"{description} listening on {self.base_url}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()


OAuthStateT = TypeVar("OAuthStateT", bound=OAuthFakeState[Any])


class OAuthPlatformFake(PlatformFake[OAuthStateT]):
    """A fake whose faults are queued per request kind (see each fake's module docstring)."""

    def fail_next(self, kind: str, *faults: str) -> None:
        """Queue faults for the next requests of ``kind``."""
        with self.state.lock:
            self.state.faults.setdefault(kind, []).extend(faults)

    def requests_of(self, kind: str) -> int:
        return sum(1 for k, _ in self.state.requests if k == kind)
