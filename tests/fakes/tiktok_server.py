"""A local fake of TikTok OAuth v2 and the Content Posting API (Direct Post, FILE_UPLOAD).

PROTOCOLS.md section 2, over real HTTP on 127.0.0.1 (one server for the web, API and upload
hosts). Every API answer is the v2 envelope ``{"data", "error": {"code", "message", "log_id"}}``.
- ``GET /v2/auth/authorize/``: an HTML consent page ("Allow" button, "Deny" link) checking
  ``client_key``, comma-separated scopes, redirect_uri and S256; Allow redirects back with
  ``code``, ``state`` and ``scopes``.
- ``POST /v2/oauth/token/`` (authorization_code with the exact redirect_uri and the PKCE
  verifier; refresh_token, which rotates: the old refresh token stops working) and
  ``POST /v2/oauth/revoke/``. Token errors are flat: ``{"error": "invalid_grant", ...}``.
- ``GET /v2/user/info/``, ``POST /v2/post/publish/creator_info/query/`` (20/min per token),
  ``POST /v2/post/publish/video/init/`` (6/min; privacy must be one of the creator's options;
  chunk arithmetic checked), ``PUT /upload/?upload_id&upload_token`` (sequential Content-Range,
  206 then 201), ``POST /v2/post/publish/status/fetch/`` (30/min; PROCESSING_UPLOAD until the
  file is complete and ``processing_seconds`` have passed, then PUBLISH_COMPLETE with
  ``publicaly_available_post_id``), ``POST /v2/video/query/`` (counters growing with time).
- ``GET /@<user>/video/<id>``: a small page per published video.

Faults per kind (``fail_next("upload_chunk", "reset")``): ``reset`` (read half the chunk, reset
the connection; the chunk is not stored), ``expired`` (401 access_token_invalid, the token
expires now), ``429`` (rate_limit_exceeded with Retry-After), ``500``, ``failed`` (the publish
ends FAILED), ``gone`` (404 on the upload URL). Kinds: authorize, token, revoke, user_info,
creator_info, init, upload_chunk, status, video_query.
Run standalone: ``python -m tests.fakes.tiktok_server --port 8602``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.platform_fake import (
    FakeHandler,
    OAuthFakeState,
    OAuthPlatformFake,
    hidden_fields,
    reset_connection,
    s256,
)

CLIENT_KEY = "fakesandboxclientkey"
CLIENT_SECRET = "fake-tiktok-client-secret"
REQUIRED_SCOPES = {"user.info.basic", "video.publish", "video.upload"}
MB = 1024 * 1024
RATE_LIMITS = {"creator_info": 20, "init": 6, "status": 30}  # per access token per minute
PRIVACY_OPTIONS = [
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
]


@dataclass
class Creator:
    open_id: str = "sandbox-open-id-0001"
    username: str = "sandbox.creator"
    display_name: str = "Sandbox Creator"
    privacy_options: list[str] = field(default_factory=lambda: list(PRIVACY_OPTIONS))
    max_duration_seconds: int = 600
    comment_disabled: bool = False


@dataclass
class Grant:
    creator: Creator
    scopes: str
    refresh_token: str
    access_tokens: dict[str, float] = field(default_factory=dict)
    revoked: bool = False


@dataclass
class Upload:
    publish_id: str
    upload_id: str
    creator: Creator
    post_info: dict[str, Any]
    size: int
    chunk_size: int
    chunk_count: int
    received: int = 0
    chunks: int = 0
    completed_at: float = 0.0
    fail_reason: str = ""
    post_id: str = ""
    digest: Any = None


@dataclass
class TikTokState(OAuthFakeState[Grant]):
    """What the fake knows; tests queue faults and read ``uploads``, ``posts`` and ``requests``."""

    client_key: str = CLIENT_KEY
    client_secret: str = CLIENT_SECRET
    creator: Creator = field(default_factory=Creator)
    access_token_seconds: int = 86400
    refresh_token_seconds: int = 31536000
    rotate_refresh_tokens: bool = True
    processing_seconds: float = 0.2
    views_per_second: float = 3.0
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)  # by publish_id
    posts: dict[str, Upload] = field(default_factory=dict)  # published, by post id
    calls: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def over_limit(self, kind: str, token: str) -> bool:
        """Sliding one-minute window per access token (PROTOCOLS 2.8)."""
        if kind not in RATE_LIMITS:
            return False
        now = time.time()
        with self.lock:
            window = self.calls.setdefault((kind, token), deque())
            while window and window[0] < now - 60:
                window.popleft()
            if len(window) >= RATE_LIMITS[kind]:
                return True
            window.append(now)
            return False


def _envelope(data: Any, code: str = "ok", message: str = "") -> dict[str, Any]:
    log_id = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()
    return {"data": data, "error": {"code": code, "message": message, "log_id": log_id}}


class _Handler(FakeHandler):
    state: TikTokState

    # ------------------------------------------------------------ plumbing

    def _ok(self, data: Any, status: int = 200) -> None:
        self._json(status, _envelope(data))

    def _fail(self, status: int, code: str, message: str, **headers: str) -> None:
        self._json(status, _envelope({}, code, message), **headers)

    def _json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self._body() or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _token(self) -> str:
        header = self.headers.get("Authorization", "")
        return header.removeprefix("Bearer ").strip()

    def _injected(self, kind: str) -> bool:
        fault = self.state.take_fault(kind)
        self.state.requests.append((kind, fault))
        self._fault = fault
        if fault in ("", "reset", "failed", "gone"):
            return False  # the handlers act these out
        self._body()
        if fault == "spam":
            self._fail(403, "spam_risk_too_many_posts", "The user has reached today's post limit.")
        elif fault == "expired":
            self._expire_token()
            self._fail(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        elif fault == "429":
            self._fail(429, "rate_limit_exceeded", "API rate limit exceeded.", Retry_After="3")
        else:
            self._fail(
                int(fault), "internal_error", "Something went wrong. Please try again later."
            )
        return True

    def _expire_token(self) -> None:
        with self.state.lock:
            for grant in self.state.grants:
                if self._token() in grant.access_tokens:
                    grant.access_tokens[self._token()] = 0.0

    def _authorized(self, kind: str, scope: str) -> Grant | None:
        grant = self.state.grant_of(self._token())
        if grant is None:
            self._body()
            self._fail(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
            return None
        if scope not in grant.scopes.split(","):
            self._body()
            self._fail(
                401, "scope_not_authorized", f"The user did not authorize the scope {scope}."
            )
            return None
        if self.state.over_limit(kind, self._token()):
            self._body()
            self._fail(429, "rate_limit_exceeded", "API rate limit exceeded.", Retry_After="60")
            return None
        return grant

    # ------------------------------------------------------------ routing

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/v2/auth/authorize/":
            self._consent_page(query)
        elif url.path == "/v2/auth/authorize/decide/":
            self._decide(query)
        elif url.path == "/v2/user/info/":
            self._user_info(query)
        elif url.path.startswith("/@") and "/video/" in url.path:
            self._video_page(url.path.rsplit("/", 1)[1])
        else:
            self._fail(404, "not_found", "Not found.")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        routes = {
            "/v2/oauth/token/": self._token_endpoint,
            "/v2/oauth/revoke/": self._revoke,
            "/v2/post/publish/creator_info/query/": self._creator_info,
            "/v2/post/publish/video/init/": self._init,
            "/v2/post/publish/status/fetch/": self._status,
        }
        if url.path == "/v2/video/query/":
            self._video_query(query)
        elif url.path in routes:
            routes[url.path]()
        else:
            self._body()
            self._fail(404, "not_found", "Not found.")

    def do_PUT(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/upload/":
            self._body()
            self._fail(404, "not_found", "Not found.")
            return
        self._upload_chunk(query)

    # ------------------------------------------------------------ OAuth

    def _consent_problem(self, query: dict[str, str]) -> str:
        scopes = set(query.get("scope", "").split(","))
        if query.get("client_key") != self.state.client_key:
            return "client_key: the app is not registered."
        if not query.get("redirect_uri", "").startswith(("http://", "https://")):
            return "redirect_uri"
        if query.get("response_type") != "code":
            return "response_type"
        if not scopes >= REQUIRED_SCOPES:
            return "scope: user.info.basic, video.publish and video.upload are required."
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256."
        return ""

    def _consent_page(self, query: dict[str, str]) -> None:
        if self._injected("authorize"):
            return
        problem = self._consent_problem(query)
        if problem:
            self._html(400, f"<!doctype html><title>Error</title><h1>{html.escape(problem)}</h1>")
            return
        hidden = hidden_fields(query)
        deny = html.escape(f"/v2/auth/authorize/decide/?{urlencode({**query, 'allow': 'no'})}")
        name = html.escape(self.state.creator.display_name)
        page = (
            "<!doctype html><html><head><title>TikTok (sandbox) - Authorize</title></head><body>"
            f"<h1>TikTok sandbox</h1><p>Let this app post videos as <strong>{name}</strong> "
            "and read your public videos' numbers?</p>"
            f'<form method="get" action="/v2/auth/authorize/decide/">{hidden}'
            '<input type="hidden" name="allow" value="yes"><button type="submit">Allow</button>'
            f'</form><p><a href="{deny}">Deny</a></p></body></html>'
        )
        self._html(200, page)

    def _decide(self, query: dict[str, str]) -> None:
        problem = self._consent_problem(query)
        if problem:
            self._html(400, f"<!doctype html><h1>{html.escape(problem)}</h1>")
            return
        if query.get("allow") != "yes":
            params = {
                "error": "access_denied",
                "error_description": "The user denied access.",
                "state": query.get("state", ""),
            }
        else:
            code = secrets.token_urlsafe(24)
            with self.state.lock:
                self.state.codes[code] = dict(query)
            params = {"code": code, "scopes": query["scope"], "state": query.get("state", "")}
        self._redirect_back(query["redirect_uri"], params)

    def _oauth_error(self, error: str, description: str, status: int = 400) -> None:
        self._json(
            status,
            {"error": error, "error_description": description, "log_id": secrets.token_hex(8)},
        )

    def _token_endpoint(self) -> None:
        if self._injected("token"):
            return
        form = self._form()
        client = (form.get("client_key"), form.get("client_secret"))
        if client != (self.state.client_key, self.state.client_secret):
            self._oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
        elif form.get("grant_type") == "authorization_code":
            self._redeem(form)
        elif form.get("grant_type") == "refresh_token":
            self._refresh(form)
        else:
            self._oauth_error("unsupported_grant_type", "grant_type is not supported.")

    def _redeem(self, form: dict[str, str]) -> None:
        with self.state.lock:
            asked = self.state.codes.pop(form.get("code", ""), None)
        if asked is None or asked.get("redirect_uri") != form.get("redirect_uri"):
            self._oauth_error("invalid_grant", "Authorization code is expired or invalid.")
            return
        challenge = asked.get("code_challenge", "")
        if challenge and s256(form.get("code_verifier", "")) != challenge:
            self._oauth_error("invalid_grant", "Code verifier is invalid.")
            return
        grant = Grant(self.state.creator, asked["scope"], "rft." + secrets.token_urlsafe(32))
        with self.state.lock:
            self.state.grants.append(grant)
        self._json(200, self._issue(grant))

    def _refresh(self, form: dict[str, str]) -> None:
        token = form.get("refresh_token", "")
        with self.state.lock:
            grant = next((g for g in self.state.grants if g.refresh_token == token), None)
            if grant is None or grant.revoked:
                self._oauth_error("invalid_grant", "Refresh token is invalid or expired.")
                return
            if self.state.rotate_refresh_tokens:
                grant.refresh_token = "rft." + secrets.token_urlsafe(32)
        self._json(200, self._issue(grant))

    def _issue(self, grant: Grant) -> dict[str, Any]:
        token = "act." + secrets.token_urlsafe(32)
        with self.state.lock:
            grant.access_tokens[token] = time.time() + self.state.access_token_seconds
        return {
            "open_id": grant.creator.open_id,
            "scope": grant.scopes,
            "access_token": token,
            "expires_in": self.state.access_token_seconds,
            "refresh_token": grant.refresh_token,
            "refresh_expires_in": self.state.refresh_token_seconds,
            "token_type": "Bearer",
        }

    def _revoke(self) -> None:
        if self._injected("revoke"):
            return
        form = self._form()
        if (form.get("client_key"), form.get("client_secret")) != (
            self.state.client_key,
            self.state.client_secret,
        ):
            self._oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
            return
        grant = self.state.grant_of(form.get("token", ""))
        if grant is None:
            self._fail(401, "access_token_invalid", "The access token is invalid or not found.")
            return
        grant.revoked = True
        self._ok({})

    # ------------------------------------------------------------ API

    def _user_info(self, query: dict[str, str]) -> None:
        if self._injected("user_info") or not (
            grant := self._authorized("user_info", "user.info.basic")
        ):
            return
        creator = grant.creator
        known = {
            "open_id": creator.open_id,
            "display_name": creator.display_name,
            "avatar_url": f"{self.base_url}/avatar/{creator.open_id}.jpg",
        }
        fields = [f for f in query.get("fields", "").split(",") if f]
        if not fields:
            self._fail(400, "invalid_params", "fields is required.")
            return
        self._ok({"user": {name: known[name] for name in fields if name in known}})

    def _creator_info(self) -> None:
        if self._injected("creator_info") or not (
            grant := self._authorized("creator_info", "video.publish")
        ):
            return
        self._body()
        creator = grant.creator
        self._ok(
            {
                "creator_avatar_url": f"{self.base_url}/avatar/{creator.open_id}.jpg",
                "creator_username": creator.username,
                "creator_nickname": creator.display_name,
                "privacy_level_options": creator.privacy_options,
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": False,
                "stitch_disabled": False,
                "max_video_post_duration_sec": creator.max_duration_seconds,
            }
        )

    def _chunk_problem(self, source: dict[str, Any]) -> str:
        try:
            size, chunk, count = (
                int(source[k]) for k in ("video_size", "chunk_size", "total_chunk_count")
            )
        except (KeyError, TypeError, ValueError):
            return "video_size, chunk_size and total_chunk_count are required."
        if source.get("source") != "FILE_UPLOAD" or size <= 0:
            return "source must be FILE_UPLOAD with a video_size."
        if size < 5 * MB:
            return "" if (chunk, count) == (size, 1) else "A video under 5 MB is one chunk."
        if count != size // chunk or not 1 <= count <= 1000:
            return "total_chunk_count must be floor(video_size / chunk_size)."
        last = size - (count - 1) * chunk
        if (count > 1 and not 5 * MB <= chunk <= 64 * MB) or last > 128 * MB:
            return "Chunks must be 5 MB to 64 MB (the last up to 128 MB)."
        return ""

    def _init(self) -> None:
        if self._injected("init") or not (grant := self._authorized("init", "video.publish")):
            return
        body = self._json_body()
        post_info, source = body.get("post_info") or {}, body.get("source_info") or {}
        problem = self._chunk_problem(source)
        if problem:
            self._fail(400, "invalid_params", problem)
            return
        if post_info.get("privacy_level") not in grant.creator.privacy_options:
            self._fail(
                400,
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's options.",
            )
            return
        upload = Upload(
            f"v_pub_file~v2-1.{secrets.randbelow(10**18)}",
            secrets.token_hex(8),
            grant.creator,
            post_info,
            int(source["video_size"]),
            int(source["chunk_size"]),
            int(source["total_chunk_count"]),
        )
        with self.state.lock:
            self.state.uploads[upload.publish_id] = upload
        token = secrets.token_hex(6)
        url = f"{self.base_url}/upload/?upload_id={upload.upload_id}&upload_token={token}"
        self._ok({"publish_id": upload.publish_id, "upload_url": url})

    def _upload_chunk(self, query: dict[str, str]) -> None:
        if self._injected("upload_chunk"):
            return
        upload = next(
            (u for u in self.state.uploads.values() if u.upload_id == query.get("upload_id")), None
        )
        length = int(self.headers.get("Content-Length") or 0)
        if upload is None or self._fault == "gone":
            self._body()
            self._fail(404, "not_found", "The upload URL has expired.")
            return
        problem = self._range_problem(upload, length)
        if problem:
            self._body()
            self._fail(416 if "range" in problem else 400, "invalid_file_upload", problem)
            return
        if self._fault == "reset":
            self.rfile.read(length // 2)
            reset_connection(self)
            return
        index = upload.chunks
        data = self.rfile.read(length)
        if len(data) < length:  # the client went away mid-body: the chunk is not stored
            self.close_connection = True
            return
        if not self._store_chunk(upload, index, data):
            # Another request stored this chunk while this body was arriving (a dead client's
            # request can finish late): each chunk is kept once.
            self._fail(416, "invalid_file_upload", "This chunk was already received.")
            return
        done = upload.chunks == upload.chunk_count
        self._send(201 if done else 206, b"", "text/plain")

    def _range_problem(self, upload: Upload, length: int) -> str:
        expected_start = upload.chunks * upload.chunk_size
        last_chunk = upload.chunks == upload.chunk_count - 1
        expected_end = upload.size if last_chunk else expected_start + upload.chunk_size
        wanted = f"bytes {expected_start}-{expected_end - 1}/{upload.size}"
        if upload.chunks >= upload.chunk_count:
            return "The file is already complete."
        if self.headers.get("Content-Range") != wanted:
            return f"Content-Range must be {wanted} (chunks in order)."
        if length != expected_end - expected_start:
            return "Content-Length does not match the chunk."
        return ""

    def _store_chunk(self, upload: Upload, index: int, data: bytes) -> bool:
        with self.state.lock:
            if upload.chunks != index:
                return False
            upload.digest = upload.digest or hashlib.sha256()
            upload.digest.update(data)
            upload.received += len(data)
            upload.chunks += 1
            if upload.chunks == upload.chunk_count:
                upload.completed_at = time.time()
            return True

    def _status(self) -> None:
        if self._injected("status") or not (grant := self._authorized("status", "video.publish")):
            return
        upload = self.state.uploads.get(str(self._json_body().get("publish_id", "")))
        if upload is None or upload.creator is not grant.creator:
            self._fail(400, "invalid_params", "publish_id is invalid.")
            return
        if self._fault == "failed":
            upload.fail_reason = upload.fail_reason or "file_format_check_failed"
        self._ok(self._status_of(upload))

    def _status_of(self, upload: Upload) -> dict[str, Any]:
        if upload.fail_reason:
            return {
                "status": "FAILED",
                "fail_reason": upload.fail_reason,
                "uploaded_bytes": upload.received,
            }
        ready = (
            upload.completed_at
            and time.time() - upload.completed_at >= self.state.processing_seconds
        )
        if not ready:
            return {"status": "PROCESSING_UPLOAD", "uploaded_bytes": upload.received}
        with self.state.lock:
            if not upload.post_id:
                upload.post_id = str(7_300_000_000_000_000_000 + secrets.randbelow(10**17))
                self.state.posts[upload.post_id] = upload
        return {
            "status": "PUBLISH_COMPLETE",
            "publicaly_available_post_id": [int(upload.post_id)],
            "uploaded_bytes": upload.received,
        }

    def _video_query(self, query: dict[str, str]) -> None:
        if self._injected("video_query") or not self._authorized("video_query", "video.list"):
            return
        ids = ((self._json_body().get("filters") or {}).get("video_ids")) or []
        if not ids or len(ids) > 20:
            self._fail(400, "invalid_params", "filters.video_ids must hold 1 to 20 ids.")
            return
        fields = [f for f in query.get("fields", "").split(",") if f]
        videos = [
            self._counters(self.state.posts[str(i)], fields)
            for i in ids
            if str(i) in self.state.posts
        ]
        self._ok({"videos": videos, "cursor": 0, "has_more": False})

    def _counters(self, upload: Upload, fields: list[str]) -> dict[str, Any]:
        views = int((time.time() - upload.completed_at) * self.state.views_per_second) + 1
        known = {
            "id": upload.post_id,
            "title": upload.post_info.get("title", ""),
            "view_count": views,
            "like_count": views // 15,
            "comment_count": views // 80,
            "share_count": views // 120,
        }
        return {name: known[name] for name in fields if name in known}

    def _video_page(self, post_id: str) -> None:
        upload = self.state.posts.get(post_id)
        if upload is None:
            self._html(
                404, "<!doctype html><title>Not found</title><h1>Video currently unavailable</h1>"
            )
            return
        caption = html.escape(upload.post_info.get("title", ""))
        handle = html.escape(upload.creator.username)
        page = f"<!doctype html><title>{caption} | TikTok (sandbox)</title><h1>@{handle}</h1>"
        self._html(200, f"{page}<p>{caption}</p>")


class FakeTikTok(OAuthPlatformFake[TikTokState]):
    """The TikTok fake on 127.0.0.1 (``with FakeTikTok() as fake``)."""

    handler_class = _Handler

    def __init__(self, port: int = 0, state: TikTokState | None = None) -> None:
        super().__init__(port, state or TikTokState())

    def settings_overrides(self) -> dict[str, str]:
        """The settings that point the TikTok client here."""
        return settings_overrides(self.base_url, self.state.client_key, self.state.client_secret)


def settings_overrides(
    base_url: str, client_key: str = CLIENT_KEY, client_secret: str = CLIENT_SECRET
) -> dict[str, str]:
    """The settings that point the TikTok client at a fake running at ``base_url``."""
    return {
        "tiktok_client_key": client_key,
        "tiktok_client_secret": client_secret,
        "tiktok_auth_base": base_url,
        "tiktok_api_base": base_url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fake of TikTok OAuth + Content Posting")
    parser.add_argument("--port", type=int, default=8602)
    parser.add_argument("--client-key", default=CLIENT_KEY)
    parser.add_argument("--client-secret", default=CLIENT_SECRET)
    args = parser.parse_args()
    state = TikTokState(client_key=args.client_key, client_secret=args.client_secret)
    FakeTikTok(args.port, state).serve_until_interrupted("fake TikTok")


if __name__ == "__main__":
    main()
