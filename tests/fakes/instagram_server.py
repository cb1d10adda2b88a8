"""A local fake of Facebook Login + the Instagram Graph API for Reels (PROTOCOLS.md section 3).

One real HTTP server on 127.0.0.1 plays every Meta host: the login dialog (``/{v}/dialog/oauth``,
an HTML page whose Allow link redirects with ``code`` and ``state``), the Graph API
(``/{v}/oauth/access_token`` code and ``fb_exchange_token`` grants, ``/{v}/me/accounts``,
``DELETE /{v}/me/permissions``, ``/{v}/{ig-user}/media`` containers by ``video_url`` (which the
fake really GETs) or ``upload_type=resumable``, ``/{v}/{container}`` status,
``/{v}/{ig-user}/media_publish``, ``/{v}/{ig-user}/content_publishing_limit``, ``/{v}/{media}``
and ``/{v}/{media}/insights``) and rupload (``/ig-api-upload/{v}/{container}``, checking
``Authorization: OAuth``, ``offset`` and ``file_size``; ``GET`` answers the bytes received so
far). Permalinks ``/reel/{code}`` are HTML pages. Errors use Graph's
``{"error": {message, type, code, error_subcode, fbtrace_id}}`` body.

Insights grow with time (``views_per_second`` from the media's publish time, on ``clock``).
Faults for the next matching request: ``fault("expired_token" | "rate_limit" | "server_error" |
"reset_upload" | "container_error")``.

Standalone (the product's sandbox mode): ``python -m tests.fakes.instagram_server --port N``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.fakes.platform_fake import PlatformFake, reset_connection

APP_ID = "fake-meta-app"
APP_SECRET = "fake-meta-secret"
LONG_LIVED_SECONDS = 5_183_944
SHORT_LIVED_SECONDS = 3600
RATE_LIMIT_CODES = {"rate_limit": (400, 17, "(#17) User request limit reached")}


@dataclass
class Container:
    container_id: str
    ig_user_id: str
    caption: str
    file_size: int = 0
    received: bytearray = field(default_factory=bytearray)
    status_code: str = "IN_PROGRESS"
    status: str = ""
    video_url: str = ""
    media_id: str = ""
    created: float = 0.0


@dataclass
class Media:
    media_id: str
    ig_user_id: str
    caption: str
    shortcode: str
    published: float
    size: int


@dataclass
class InstagramState:
    ig_user_id: str = "17841400000000001"
    page_id: str = "100000000000001"
    username: str = "sandbox_reels"
    quota_total: int = 100
    views_per_second: float = 5.0
    processing_seconds: float = 0.0  # how long a complete upload stays IN_PROGRESS
    clock: Callable[[], float] = time.time
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (kind, expiry)
    revoked: set[str] = field(default_factory=set)
    containers: dict[str, Container] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    publish_times: list[float] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 18000000000000000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def take_fault(self, *kinds: str) -> str | None:
        with self.lock:
            for kind in kinds:
                if kind in self.faults:
                    self.faults.remove(kind)
                    return kind
        return None

    def issue_token(self, kind: str, lifetime: float) -> str:
        token = f"{kind}-{secrets.token_urlsafe(12)}"
        self.tokens[token] = (kind, self.clock() + lifetime)
        return token

    def token_ok(self, token: str) -> bool:
        kind_expiry = self.tokens.get(token)
        return kind_expiry is not None and kind_expiry[1] > self.clock()


def _graph_error(
    message: str, code: int, subcode: int | None = None, kind: str = "OAuthException"
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "Afake"}
    if subcode is not None:
        body["error_subcode"] = subcode
    return {"error": body}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a connection the fake reset on purpose is not an error worth printing


class _Handler(BaseHTTPRequestHandler):
    state: InstagramState
    base_url: str
    version: str = "v24.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # ------------------------------------------------------------ plumbing

    def _params(self) -> dict[str, str]:
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        kind = self.headers.get("Content-Type", "")
        if self.command == "POST" and not url.path.startswith("/ig-api-upload/"):
            raw = self._read_body()
            if "json" in kind and raw:
                params.update({k: str(v) for k, v in json.loads(raw).items()})
            elif raw:
                params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        return params

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _token(self, params: dict[str, str]) -> str:
        header = self.headers.get("Authorization", "")
        for prefix in ("Bearer ", "OAuth "):
            if header.startswith(prefix):
                return header[len(prefix) :]
        return params.get("access_token", "")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: dict[str, Any], **extra: str) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", extra)

    def _html(self, status: int, html: str, **extra: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8", extra)

    def _record(self) -> None:
        with self.state.lock:
            self.state.requests.append((self.command, urlparse(self.path).path))

    def _injected(self) -> bool:
        fault = self.state.take_fault("expired_token", "rate_limit", "server_error")
        if fault == "expired_token":
            self._json(401, _graph_error("Error validating access token: expired", 190, 463))
        elif fault == "rate_limit":
            status, code, message = RATE_LIMIT_CODES["rate_limit"]
            self._json(status, _graph_error(message, code))
        elif fault == "server_error":
            self._json(500, _graph_error("An unexpected error has occurred.", 2, kind="Api"))
        return fault is not None

    def _authorised(self, params: dict[str, str]) -> bool:
        token = self._token(params)
        if self.state.token_ok(token) and token not in self.state.revoked:
            return True
        self._json(401, _graph_error("Error validating access token.", 190, 460))
        return False

    # ------------------------------------------------------------ verbs

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def _route(self) -> None:
        self._record()
        parts = [p for p in urlparse(self.path).path.split("/") if p]
        if parts[:1] == ["ig-api-upload"] and len(parts) == 3:
            self._rupload(parts[2])
            return
        if parts[:1] == ["reel"] and len(parts) == 2:
            self._permalink_page(parts[1])
            return
        if len(parts) < 2 or not parts[0].startswith("v"):
            self._json(404, _graph_error("Unknown path", 803))
            return
        self.version = parts[0]
        self._graph(parts[1:], self._params())

    def _graph(self, parts: list[str], params: dict[str, str]) -> None:
        if parts == ["dialog", "oauth"]:
            self._dialog(params)
            return
        if parts == ["oauth", "access_token"]:
            self._access_token(params)
            return
        if self._injected() or not self._authorised(params):
            return
        self._api(parts, params)

    def _api(self, parts: list[str], params: dict[str, str]) -> None:
        head, rest = parts[0], parts[1:]
        routes: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", "accounts"): self._accounts,
            ("DELETE", "permissions"): lambda: self._revoke(params),
            ("POST", "media"): lambda: self._create_container(head, params),
            ("GET", "media"): lambda: self._list_media(head),
            ("POST", "media_publish"): lambda: self._publish(head, params),
            ("GET", "content_publishing_limit"): self._publishing_limit,
            ("GET", "insights"): lambda: self._insights(head, params),
        }
        if not rest and self.command == "GET":
            self._node(head)
            return
        handler = routes.get((self.command, rest[0] if rest else ""))
        if handler is None:
            self._json(400, _graph_error("Unsupported request", 100))
            return
        handler()

    # ------------------------------------------------------------ login

    def _dialog(self, params: dict[str, str]) -> None:
        if params.get("client_id") != APP_ID or not params.get("redirect_uri"):
            self._html(400, "<p role='alert'>Invalid app id or redirect_uri.</p>")
            return
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = params["redirect_uri"]
        target = params["redirect_uri"] + "?" + urlencode({"code": code, "state": params["state"]})
        self._html(
            200,
            "<!doctype html><title>Log in with Facebook (sandbox)</title>"
            f"<h1>Allow access to {self.state.username}?</h1>"
            f"<p>Scopes: {params.get('scope', '')}</p>"
            f"<a href='{target}#_' id='allow'>Allow</a>",
        )

    def _access_token(self, params: dict[str, str]) -> None:
        if params.get("client_id") != APP_ID or params.get("client_secret") != APP_SECRET:
            self._json(400, _graph_error("Error validating client secret.", 1))
            return
        if params.get("grant_type") == "fb_exchange_token":
            self._long_lived(params.get("fb_exchange_token", ""))
            return
        redirect_uri = self.state.codes.pop(params.get("code", ""), None)
        if redirect_uri is None or redirect_uri != params.get("redirect_uri"):
            self._json(400, _graph_error("This authorization code has been used.", 100, 36009))
            return
        token = self.state.issue_token("short", SHORT_LIVED_SECONDS)
        self._json(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def _long_lived(self, token: str) -> None:
        if not self.state.token_ok(token) or token in self.state.revoked:
            self._json(400, _graph_error("Error validating access token.", 190, 460))
            return
        long_lived = self.state.issue_token("long", LONG_LIVED_SECONDS)
        expires = LONG_LIVED_SECONDS
        self._json(200, {"access_token": long_lived, "token_type": "bearer", "expires_in": expires})

    def _revoke(self, params: dict[str, str]) -> None:
        self.state.revoked.add(self._token(params))
        self._json(200, {"success": True})

    def _accounts(self) -> None:
        account = {
            "id": self.state.ig_user_id,
            "username": self.state.username,
            "profile_picture_url": f"{self.base_url}/avatar.jpg",
        }
        pages = [
            {"id": "100000000000009", "name": "A page without Instagram"},
            {
                "id": self.state.page_id,
                "name": "Sandbox page",
                "instagram_business_account": account,
            },
        ]
        self._json(200, {"data": pages, "paging": {}})

    # ------------------------------------------------------------ publishing

    def _create_container(self, ig_user_id: str, params: dict[str, str]) -> None:
        if ig_user_id != self.state.ig_user_id:
            self._json(400, _graph_error("Unsupported post request.", 100, 33))
            return
        if params.get("media_type") != "REELS":
            self._json(400, _graph_error("The parameter media_type is required.", 100))
            return
        with self.state.lock:
            container = Container(
                self.state.new_id(),
                ig_user_id,
                params.get("caption", ""),
                created=self.state.clock(),
            )
            self.state.containers[container.container_id] = container
        if params.get("upload_type") == "resumable":
            uri = f"{self.base_url}/ig-api-upload/{self.version}/{container.container_id}"
            self._json(200, {"id": container.container_id, "uri": uri})
            return
        container.video_url = params.get("video_url", "")
        threading.Thread(target=self._fetch_video_url, args=(container,), daemon=True).start()
        self._json(200, {"id": container.container_id})

    def _fetch_video_url(self, container: Container) -> None:
        try:
            with urllib.request.urlopen(container.video_url, timeout=10) as response:
                data = response.read()
        except (OSError, ValueError) as exc:
            container.status_code, container.status = "ERROR", f"2207003: download failed {exc}"
            return
        container.received = bytearray(data)
        container.file_size = len(data)
        self._finish_upload(container)

    def _finish_upload(self, container: Container) -> None:
        if self.state.take_fault("container_error"):
            container.status_code, container.status = "ERROR", "2207053: unknown upload error"
            return
        if self.state.processing_seconds <= 0:
            container.status_code = "FINISHED"

    def _rupload(self, container_id: str) -> None:
        container = self.state.containers.get(container_id)
        token = self.headers.get("Authorization", "").removeprefix("OAuth ")
        if container is None:
            self._json(404, {"debug_info": {"retriable": False, "type": "NotFound"}})
            return
        if not self.state.token_ok(token):
            self._json(401, {"debug_info": {"retriable": False, "type": "AuthError"}})
            return
        if self.command == "GET":
            self._json(200, {"offset": len(container.received), "file_size": container.file_size})
            return
        self._receive_bytes(container)

    def _receive_bytes(self, container: Container) -> None:
        offset = int(self.headers.get("offset", "-1"))
        file_size = int(self.headers.get("file_size", "0"))
        length = int(self.headers.get("Content-Length") or 0)
        if offset not in (0, len(container.received)) or offset + length != file_size:
            info = {"retriable": False, "type": "ProcessingFailedError", "offset": offset}
            self._json(400, {"debug_info": info, "received": len(container.received)})
            return
        if offset == 0:
            container.received = bytearray()
        container.file_size = file_size
        if self.state.take_fault("reset_upload"):
            self._reset_mid_body(container, length)
            return
        self._copy_body(container, length)
        self._finish_upload(container)
        self._json(200, {"success": True, "message": "Upload successful."})

    def _copy_body(self, container: Container, length: int) -> None:
        remaining = length
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                raise ConnectionError("client went away")
            container.received += chunk
            remaining -= len(chunk)

    def _reset_mid_body(self, container: Container, length: int) -> None:
        half = length // 2
        container.received += self.rfile.read(half)
        # RST instead of FIN: the client sees "connection reset" while still sending.
        reset_connection(self)

    def _node(self, node_id: str) -> None:
        container = self.state.containers.get(node_id)
        if container is not None:
            self._container_status(container)
            return
        media = self.state.media.get(node_id)
        if media is None:
            self._json(400, _graph_error(f"Object with ID '{node_id}' does not exist", 100, 33))
            return
        self._json(200, self._media_fields(media))

    def _media_fields(self, media: Media) -> dict[str, Any]:
        return {
            "id": media.media_id,
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "caption": media.caption,
            "permalink": f"{self.base_url}/reel/{media.shortcode}/",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(media.published)),
        }

    def _container_status(self, container: Container) -> None:
        state = self.state
        complete = container.file_size and len(container.received) == container.file_size
        ready_at = container.created + state.processing_seconds
        if container.status_code == "IN_PROGRESS" and complete and state.clock() >= ready_at:
            container.status_code = "FINISHED"
        if container.status_code == "FINISHED" and state.clock() - container.created > 86400:
            container.status_code = "EXPIRED"
        body = {"id": container.container_id, "status_code": container.status_code}
        self._json(200, {**body, "status": container.status or container.status_code})

    def _publish(self, ig_user_id: str, params: dict[str, str]) -> None:
        container = self.state.containers.get(params.get("creation_id", ""))
        if container is None or container.ig_user_id != ig_user_id:
            self._json(400, _graph_error("The media could not be found.", 100, 2207006))
            return
        with self.state.lock:
            if container.status_code == "PUBLISHED":
                self._json(400, _graph_error("The media has already been published.", 9, 2207008))
                return
            if container.status_code != "FINISHED":
                self._json(400, _graph_error("Media ID is not available", 9007, 2207027))
                return
            if self._publishes_in_window() >= self.state.quota_total:
                self._json(400, _graph_error("Application request limit reached", 9, 2207042))
                return
            media = self._new_media(container)
        self._json(200, {"id": media.media_id})

    def _new_media(self, container: Container) -> Media:
        state = self.state
        now = state.clock()
        media = Media(
            state.new_id(), container.ig_user_id, container.caption,
            secrets.token_urlsafe(8), now, len(container.received),
        )  # fmt: skip
        state.media[media.media_id] = media
        state.publish_times.append(now)
        container.status_code, container.media_id = "PUBLISHED", media.media_id
        return media

    def _publishes_in_window(self) -> int:
        since = self.state.clock() - 86400
        return sum(1 for t in self.state.publish_times if t > since)

    def _publishing_limit(self) -> None:
        config = {"quota_total": self.state.quota_total, "quota_duration": 86400}
        usage = self._publishes_in_window()
        self._json(200, {"data": [{"quota_usage": usage, "config": config}]})

    def _list_media(self, ig_user_id: str) -> None:
        items = [m for m in self.state.media.values() if m.ig_user_id == ig_user_id]
        items.sort(key=lambda m: m.published, reverse=True)
        self._json(200, {"data": [self._media_fields(m) for m in items[:25]]})

    def _insights(self, media_id: str, params: dict[str, str]) -> None:
        media = self.state.media.get(media_id)
        if media is None:
            self._json(400, _graph_error(f"Object with ID '{media_id}' does not exist", 100, 33))
            return
        views = int((self.state.clock() - media.published) * self.state.views_per_second)
        values = {
            "views": views, "reach": views * 8 // 10, "likes": views // 10,
            "comments": views // 50, "shares": views // 40, "saved": views // 30,
        }  # fmt: skip
        wanted = [m for m in params.get("metric", "").split(",") if m]
        unknown = [m for m in wanted if m not in values]
        if unknown:
            message = f"(#100) metric[0] must be one of the following values: {', '.join(values)}"
            self._json(400, _graph_error(message, 100))
            return
        data = [self._metric(media_id, name, values[name]) for name in wanted]
        self._json(200, {"data": data})

    @staticmethod
    def _metric(media_id: str, name: str, value: int) -> dict[str, Any]:
        return {
            "name": name, "period": "lifetime", "values": [{"value": value}],
            "title": name.title(), "id": f"{media_id}/insights/{name}/lifetime",
        }  # fmt: skip

    def _permalink_page(self, shortcode: str) -> None:
        media = next((m for m in self.state.media.values() if m.shortcode == shortcode), None)
        if media is None:
            self._html(404, "<p>Sorry, this page isn't available.</p>")
            return
        self._html(200, f"<!doctype html><title>Reel</title><p>{media.caption}</p>")


class FakeInstagram(PlatformFake[InstagramState]):
    """The Instagram fake on 127.0.0.1 (``with FakeInstagram() as fake``)."""

    handler_class = _Handler
    server_class = _QuietServer

    def __init__(self, port: int = 0, state: InstagramState | None = None) -> None:
        super().__init__(port, state or InstagramState())
        self._server.RequestHandlerClass.base_url = self.base_url  # permalinks and upload URIs

    def fault(self, *kinds: str) -> None:
        """Inject each fault once, into the next request it applies to."""
        with self.state.lock:
            self.state.faults.extend(kinds)

    def add_reel(self, caption: str = "", *, age_seconds: float = 0.0) -> str:
        """A Reel already on the account (published ``age_seconds`` ago); returns its media id."""
        with self.state.lock:
            media = Media(
                self.state.new_id(), self.state.ig_user_id, caption, secrets.token_urlsafe(8),
                self.state.clock() - age_seconds, 0,
            )  # fmt: skip
            self.state.media[media.media_id] = media
        return media.media_id

    def settings_overrides(self) -> dict[str, str]:
        """The settings that point the Instagram client here."""
        return settings_overrides(self.base_url)

    def long_lived_token(self) -> str:
        """A valid long-lived user token, as the login flow would have given."""
        return self.state.issue_token("long", LONG_LIVED_SECONDS)

    def count(self, method: str, suffix: str) -> int:
        """How many ``method`` requests had a path ending in ``suffix``."""
        return sum(1 for m, p in self.state.requests if m == method and p.endswith(suffix))


def settings_overrides(base_url: str) -> dict[str, str]:
    """The settings that point the Instagram client at a fake running at ``base_url``."""
    return {
        "meta_app_id": APP_ID,
        "meta_app_secret": APP_SECRET,
        "facebook_auth_base": base_url,
        "instagram_graph_base": base_url,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Instagram Graph API fake (sandbox)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    FakeInstagram(port=args.port).serve_until_interrupted(f"instagram fake (app id {APP_ID})")


if __name__ == "__main__":
    main()
