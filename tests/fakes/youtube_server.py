"""A local fake of Google OAuth 2.0 and the YouTube Data API v3 upload/stats protocol.

PROTOCOLS.md section 1, over real HTTP on 127.0.0.1 (one server, every host's paths):
- ``GET /o/oauth2/v2/auth``: an HTML consent page (an "Allow" button, a "Deny" link) that
  checks client_id, redirect_uri, response_type, the two YouTube scopes and S256; Allow
  redirects to ``redirect_uri?code&state&scope``.
- ``POST /token`` (authorization_code with the PKCE verifier, refresh_token) and
  ``POST /revoke``; unknown or revoked grants get 400 ``invalid_grant``.
- ``GET /youtube/v3/channels?part=snippet&mine=true`` and ``GET /youtube/v3/videos?part=statistics``
  (string counters, views growing with time, at most 50 ids).
- ``POST /upload/youtube/v3/videos`` (or ``/resumable/upload/...``) with
  ``uploadType=resumable``: 200 + ``Location`` of a session; ``PUT <session>`` with
  ``Content-Range: bytes a-b/N`` (contiguous, 256 KiB multiples but the last) → 308 + Range,
  or 200 + the video resource; ``bytes */N`` asks the state.
- ``GET /shorts/<id>`` and ``/watch?v=<id>``: a small page per published video.
- Google sign-in as well (one Google client serves both, as in production): the consent page
  also takes ``openid email profile``, and ``GET /v1/userinfo`` answers the sandbox person
  (``state.person``, a verified email) for a token granted ``email``.
- ``daily_uploads`` (0 = no limit) caps upload sessions, then 403 ``quotaExceeded``.

``rotate_refresh_tokens`` makes a refresh answer with a new refresh token.
Faults are queued per request kind (``fail_next("upload_chunk", "reset")``): ``reset`` (read half
the body, keep a 256 KiB-aligned part of it, reset the connection), ``partial`` (keep half the
chunk, answer 308 with that Range), ``expired`` (401, the access token expires now), ``429``
(with Retry-After), ``quota`` (403 quotaExceeded), ``500``/``503``, ``gone`` (404 session).
Kinds: authorize, token, revoke, channels, videos_list, upload_init, upload_chunk,
upload_status. Run standalone: ``python -m tests.fakes.youtube_server --port 8601``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import secrets
import time
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

CLIENT_ID = "fake-youtube-client-id"
CLIENT_SECRET = "fake-youtube-client-secret"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
QUANTUM = 256 * 1024
UPLOAD_PATHS = ("/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos")
QUOTA_MESSAGE = "The request cannot be completed because you have exceeded your quota."
SIGN_IN_SCOPES = {"openid", "email"}


@dataclass
class Person:
    """Who signs in with Google in the sandbox (OpenID Connect userinfo)."""

    sub: str = "100000000000000000001"
    email: str = "sandbox.creator@example.com"
    name: str = "Sandbox Creator"


@dataclass
class Channel:
    channel_id: str = "UCsandbox0000000000000001"
    title: str = "Sandbox Channel"
    thumbnail: str = ""


@dataclass
class Grant:
    """One consent: its refresh token, its live access tokens (token → expiry)."""

    channel: Channel
    scopes: str
    refresh_token: str
    access_tokens: dict[str, float] = field(default_factory=dict)
    revoked: bool = False


@dataclass
class UploadSession:
    session_id: str
    channel: Channel
    size: int
    resource: dict[str, Any]
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    video_id: str = ""


@dataclass
class PublishedVideo:
    video_id: str
    channel_id: str
    resource: dict[str, Any]
    size: int
    sha256: str
    published_at: float


@dataclass
class YouTubeState(OAuthFakeState[Grant]):
    """What the fake knows; tests queue faults and read ``videos`` and ``requests``."""

    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    channel: Channel = field(default_factory=Channel)
    person: Person = field(default_factory=Person)
    access_token_seconds: int = 3599
    views_per_second: float = 2.0
    rotate_refresh_tokens: bool = False  # a refresh answers with a new refresh token
    daily_uploads: int = 0  # videos.insert calls allowed (the quota bucket); 0 = no limit
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    videos: dict[str, PublishedVideo] = field(default_factory=dict)


def google_error(code: int, message: str, reason: str) -> dict[str, Any]:
    errors = [{"message": message, "domain": "youtube.api", "reason": reason}]
    return {"error": {"code": code, "message": message, "errors": errors}}


class _Handler(FakeHandler):
    state: YouTubeState

    # ------------------------------------------------------------ plumbing

    def _error(self, status: int, message: str, reason: str, **headers: str) -> None:
        self._json(status, google_error(status, message, reason), **headers)

    def _injected(self, kind: str) -> bool:
        """Answer a queued status fault for ``kind``; True when one was answered."""
        fault = self.state.take_fault(kind)
        self.state.requests.append((kind, fault))
        if not fault:
            return False
        self._pending_fault = fault
        if fault in ("reset", "partial", "gone"):
            return False  # the upload handlers act these out
        self._body()
        if fault == "expired":
            self._expire_token()
            self._error(
                401,
                "Request had invalid authentication credentials.",
                "authError",
                WWW_Authenticate='Bearer realm="https://accounts.google.com/"',
            )
        elif fault == "429":
            self._error(429, "Too many requests.", "rateLimitExceeded", Retry_After="2")
        elif fault == "quota":
            self._error(403, QUOTA_MESSAGE, "quotaExceeded")
        else:
            self._error(int(fault), "Backend Error", "backendError")
        return True

    def _expire_token(self) -> None:
        token = self._bearer_token()
        with self.state.lock:
            for grant in self.state.grants:
                if token in grant.access_tokens:
                    grant.access_tokens[token] = 0.0

    def _bearer_token(self) -> str:
        header = self.headers.get("Authorization", "")
        return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""

    def _authorized(self, scope: str) -> Grant | None:
        grant = self.state.grant_of(self._bearer_token())
        if grant is None:
            self._body()
            self._error(
                401,
                "Request had invalid authentication credentials.",
                "authError",
                WWW_Authenticate='Bearer realm="https://accounts.google.com/"',
            )
            return None
        if scope not in grant.scopes.split():
            self._body()
            self._error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
            return None
        return grant

    # ------------------------------------------------------------ routing

    def do_GET(self) -> None:
        self._pending_fault = ""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/o/oauth2/v2/auth":
            self._consent_page(query)
        elif url.path == "/o/oauth2/v2/auth/decide":
            self._decide(query)
        elif url.path == "/v1/userinfo":
            self._userinfo()
        elif url.path == "/youtube/v3/channels":
            self._channels(query)
        elif url.path == "/youtube/v3/videos":
            self._videos_list(query)
        elif url.path.startswith("/shorts/") or url.path == "/watch":
            self._watch_page(query.get("v") or url.path.removeprefix("/shorts/"))
        else:
            self._error(404, "Not Found", "notFound")

    def do_POST(self) -> None:
        self._pending_fault = ""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/token":
            self._token()
        elif url.path == "/revoke":
            self._revoke(query)
        elif url.path in UPLOAD_PATHS:
            self._upload_init(query)
        else:
            self._body()
            self._error(404, "Not Found", "notFound")

    def do_PUT(self) -> None:
        self._pending_fault = ""
        url = urlsplit(self.path)
        upload_id = parse_qs(url.query).get("upload_id", [""])[0]
        if url.path not in UPLOAD_PATHS or not upload_id:
            self._body()
            self._error(404, "Not Found", "notFound")
            return
        self._upload_put(upload_id)

    # ------------------------------------------------------------ OAuth

    def _consent_problem(self, query: dict[str, str]) -> str:
        scopes = set(query.get("scope", "").split())
        if query.get("client_id") != self.state.client_id:
            return "invalid_client: The OAuth client was not found."
        if not query.get("redirect_uri", "").startswith(("http://", "https://")):
            return "redirect_uri_mismatch"
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if not (scopes >= {UPLOAD_SCOPE, READONLY_SCOPE} or scopes >= SIGN_IN_SCOPES):
            return "invalid_scope: youtube.upload and youtube.readonly (or openid email) needed."
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return "invalid_request: code_challenge_method must be S256."
        return ""

    def _consent_page(self, query: dict[str, str]) -> None:
        if self._injected("authorize"):
            return
        problem = self._consent_problem(query)
        if problem:
            self._html(400, f"<!doctype html><title>Error</title><h1>{html.escape(problem)}</h1>")
            return
        hidden = hidden_fields(query)
        deny = html.escape(f"/o/oauth2/v2/auth/decide?{urlencode({**query, 'allow': 'no'})}")
        page = (
            "<!doctype html><html><head><title>Sign in - Google Accounts (sandbox)</title></head>"
            f"<body><h1>YouTube sandbox</h1><p>{self._asked_for(query)}</p>"
            f'<form method="get" action="/o/oauth2/v2/auth/decide">{hidden}'
            '<input type="hidden" name="allow" value="yes">'
            '<button type="submit">Allow</button></form>'
            f'<p><a href="{deny}">Deny</a></p></body></html>'
        )
        self._html(200, page)

    def _asked_for(self, query: dict[str, str]) -> str:
        if UPLOAD_SCOPE in query.get("scope", "").split():
            channel = html.escape(self.state.channel.title)
            return (
                f"Allow access to the channel <strong>{channel}</strong>: upload videos and "
                "read their statistics?"
            )
        email = html.escape(self.state.person.email)
        return f"Sign in as <strong>{email}</strong> and share your name and email address?"

    def _userinfo(self) -> None:
        grant = self._authorized("email")
        if grant is None:
            return
        person = self.state.person
        body = {"sub": person.sub, "email": person.email, "email_verified": True}
        self._json(200, {**body, "name": person.name})

    def _decide(self, query: dict[str, str]) -> None:
        problem = self._consent_problem(query)
        if problem:
            self._html(400, f"<!doctype html><h1>{html.escape(problem)}</h1>")
            return
        if query.get("allow") != "yes":
            params = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = "4/" + secrets.token_urlsafe(24)
            with self.state.lock:
                self.state.codes[code] = dict(query)
            params = {"code": code, "state": query.get("state", ""), "scope": query["scope"]}
        self._redirect_back(query["redirect_uri"], params)

    def _token(self) -> None:
        if self._injected("token"):
            return
        form = self._form()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.state.client_id,
            self.state.client_secret,
        ):
            self._json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        elif form.get("grant_type") == "authorization_code":
            self._redeem_code(form)
        elif form.get("grant_type") == "refresh_token":
            self._refresh(form)
        else:
            self._json(400, {"error": "unsupported_grant_type"})

    def _redeem_code(self, form: dict[str, str]) -> None:
        with self.state.lock:
            asked = self.state.codes.pop(form.get("code", ""), None)
        if asked is None or asked.get("redirect_uri") != form.get("redirect_uri"):
            self._json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            return
        challenge = asked.get("code_challenge", "")
        if challenge and s256(form.get("code_verifier", "")) != challenge:
            self._json(
                400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
            )
            return
        grant = Grant(self.state.channel, asked["scope"], "1//" + secrets.token_urlsafe(32))
        with self.state.lock:
            self.state.grants.append(grant)
        body = self._issue_access_token(grant)
        if asked.get("access_type") == "offline":
            body["refresh_token"] = grant.refresh_token
        self._json(200, body)

    def _refresh(self, form: dict[str, str]) -> None:
        token = form.get("refresh_token", "")
        grant = next((g for g in self.state.grants if g.refresh_token == token), None)
        if grant is None or grant.revoked:
            description = "Token has been expired or revoked."
            self._json(400, {"error": "invalid_grant", "error_description": description})
            return
        body = self._issue_access_token(grant)
        if self.state.rotate_refresh_tokens:  # Google may; the client must keep the new one
            with self.state.lock:
                grant.refresh_token = body["refresh_token"] = "1//" + secrets.token_urlsafe(32)
        self._json(200, body)

    def _issue_access_token(self, grant: Grant) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(32)
        with self.state.lock:
            grant.access_tokens[token] = time.time() + self.state.access_token_seconds
        return {
            "access_token": token,
            "expires_in": self.state.access_token_seconds,
            "scope": grant.scopes,
            "token_type": "Bearer",
        }

    def _revoke(self, query: dict[str, str]) -> None:
        if self._injected("revoke"):
            return
        token = query.get("token") or self._form().get("token", "")
        with self.state.lock:
            grant = next(
                (
                    g
                    for g in self.state.grants
                    if not g.revoked and (g.refresh_token == token or token in g.access_tokens)
                ),
                None,
            )
            if grant is not None:
                grant.revoked = True
        if grant is None:
            self._json(
                400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
            )
        else:
            self._json(200, {})

    # ------------------------------------------------------------ API

    def _channels(self, query: dict[str, str]) -> None:
        if self._injected("channels") or not (grant := self._authorized(READONLY_SCOPE)):
            return
        if query.get("mine") != "true" or "snippet" not in query.get("part", ""):
            self._error(400, "No filter selected.", "missingRequiredParameter")
            return
        channel = grant.channel
        picture = channel.thumbnail or f"{self.base_url}/avatar/{channel.channel_id}.jpg"
        item = {
            "kind": "youtube#channel",
            "id": channel.channel_id,
            "snippet": {"title": channel.title, "thumbnails": {"default": {"url": picture}}},
        }
        self._json(200, {"kind": "youtube#channelListResponse", "items": [item]})

    def _videos_list(self, query: dict[str, str]) -> None:
        if self._injected("videos_list") or not self._authorized(READONLY_SCOPE):
            return
        ids = [i for i in query.get("id", "").split(",") if i]
        if "statistics" not in query.get("part", "").split(",") or not ids or len(ids) > 50:
            self._error(400, "The request specifies an invalid filter parameter.", "invalidFilters")
            return
        items = [self._statistics(self.state.videos[i]) for i in ids if i in self.state.videos]
        info = {"totalResults": len(items), "resultsPerPage": len(items)}
        self._json(200, {"kind": "youtube#videoListResponse", "items": items, "pageInfo": info})

    def _statistics(self, video: PublishedVideo) -> dict[str, Any]:
        views = int((time.time() - video.published_at) * self.state.views_per_second) + 1
        counts = {
            "viewCount": views,
            "likeCount": views // 20,
            "favoriteCount": 0,
            "commentCount": views // 100,
        }
        stats = {name: str(value) for name, value in counts.items()}
        return {"kind": "youtube#video", "id": video.video_id, "statistics": stats}

    def _watch_page(self, video_id: str) -> None:
        video = self.state.videos.get(video_id)
        if video is None:
            self._html(404, "<!doctype html><title>Not found</title><h1>Video unavailable</h1>")
            return
        title = html.escape(video.resource["snippet"]["title"])
        page = f"<!doctype html><title>{title} - YouTube (sandbox)</title><h1>{title}</h1>"
        self._html(200, f"{page}<p>Sandbox video {html.escape(video_id)}</p>")

    # ------------------------------------------------------------ resumable upload

    def _upload_init(self, query: dict[str, str]) -> None:
        if self._injected("upload_init") or not (grant := self._authorized(UPLOAD_SCOPE)):
            return
        try:
            resource = json.loads(self._body() or b"{}")
            size = int(self.headers.get("X-Upload-Content-Length", ""))
        except ValueError:
            self._error(400, "Invalid upload request.", "badRequest")
            return
        if query.get("uploadType") != "resumable" or not query.get("part"):
            self._error(400, "uploadType=resumable and part are required.", "badRequest")
            return
        title = (resource.get("snippet") or {}).get("title", "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            self._error(
                400, "The request metadata specifies an invalid video title.", "invalidTitle"
            )
            return
        privacy = (resource.get("status") or {}).get("privacyStatus")
        if privacy not in ("public", "unlisted", "private"):
            self._error(400, "Invalid privacy status.", "invalidVideoMetadata")
            return
        session = UploadSession(secrets.token_urlsafe(16), grant.channel, size, resource)
        with self.state.lock:
            if 0 < self.state.daily_uploads <= len(self.state.sessions):
                self._error(403, QUOTA_MESSAGE, "quotaExceeded")
                return
            self.state.sessions[session.session_id] = session
        location = (
            f"{self.base_url}{UPLOAD_PATHS[0]}?uploadType=resumable&upload_id="
            f"{session.session_id}&part={query['part']}"
        )
        self._send(200, b"", "text/plain", Location=location)

    def _upload_put(self, upload_id: str) -> None:
        content_range = self.headers.get("Content-Range", "")
        kind = "upload_status" if content_range.startswith("bytes */") else "upload_chunk"
        if self._injected(kind) or not self._authorized(UPLOAD_SCOPE):
            return
        session = self.state.sessions.get(upload_id)
        if session is None or self._pending_fault == "gone":
            self._body()
            self._error(404, "The upload session does not exist or has expired.", "notFound")
        elif kind == "upload_status":
            self._body()
            self._session_answer(session)
        else:
            self._receive_chunk(session, content_range)

    def _session_answer(self, session: UploadSession) -> None:
        if session.video_id:
            self._json(200, self.state.videos[session.video_id].resource)
        elif session.received:
            self._send(308, b"", "text/plain", Range=f"bytes=0-{session.received - 1}")
        else:
            self._send(308, b"", "text/plain")

    def _chunk_problem(self, session: UploadSession, content_range: str, length: int) -> str:
        try:
            first_last, total = content_range.removeprefix("bytes ").split("/")
            first, last = (int(n) for n in first_last.split("-"))
        except ValueError:
            return "Invalid Content-Range."
        if int(total) != session.size or first != session.received:
            return f"Content-Range {content_range} does not continue at byte {session.received}."
        if last - first + 1 != length or last >= session.size:
            return "Content-Length does not match Content-Range."
        if last + 1 < session.size and length % QUANTUM:
            return "Chunks other than the last must be a multiple of 256 KiB."
        return ""

    def _receive_chunk(self, session: UploadSession, content_range: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        problem = self._chunk_problem(session, content_range, length)
        if problem or session.video_id:
            self._body()
            if session.video_id:
                self._session_answer(session)
            else:
                self._error(400, problem, "badRequest")
            return
        start = session.received
        if self._pending_fault == "reset":
            kept = self.rfile.read(length // 2)
            self._keep(session, start, kept[: len(kept) // QUANTUM * QUANTUM])
            reset_connection(self)
            return
        data = self.rfile.read(length)
        if len(data) < length:  # the client went away mid-body: keep what fits, answer nobody
            self._keep(session, start, data[: len(data) // QUANTUM * QUANTUM])
            self.close_connection = True
            return
        if self._pending_fault == "partial":
            data = data[: len(data) // 2 // QUANTUM * QUANTUM]
        # A chunk another request already stored is not stored twice; the answer says where
        # the session stands (the finished video, or the Range to go on from).
        if self._keep(session, start, data) and session.received == session.size:
            self._publish(session)
        self._session_answer(session)

    def _keep(self, session: UploadSession, start: int, data: bytes) -> bool:
        """Store a chunk that began at ``start``, unless another request stored bytes there
        while this body was still arriving (a dead client's request can finish late): the
        session keeps each byte once, as YouTube does."""
        with self.state.lock:
            if session.received != start:
                return False
            session.digest.update(data)
            session.received += len(data)
            return True

    def _publish(self, session: UploadSession) -> None:
        video_id = secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:11]
        resource = {
            "kind": "youtube#video",
            "etag": secrets.token_hex(8),
            "id": video_id,
            "snippet": {
                **session.resource.get("snippet", {}),
                "channelId": session.channel.channel_id,
                "publishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            "status": {**session.resource.get("status", {}), "uploadStatus": "uploaded"},
        }
        video = PublishedVideo(
            video_id,
            session.channel.channel_id,
            resource,
            session.size,
            session.digest.hexdigest(),
            time.time(),
        )
        with self.state.lock:
            self.state.videos[video_id] = video
            session.video_id = video_id


class FakeYouTube(OAuthPlatformFake[YouTubeState]):
    """The YouTube fake on 127.0.0.1 (``with FakeYouTube() as fake``)."""

    handler_class = _Handler

    def __init__(self, port: int = 0, state: YouTubeState | None = None) -> None:
        super().__init__(port, state or YouTubeState())

    def settings_overrides(self) -> dict[str, str]:
        """The settings that point the YouTube client here."""
        return settings_overrides(self.base_url, self.state.client_id, self.state.client_secret)


def settings_overrides(
    base_url: str, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET
) -> dict[str, str]:
    """The settings that point the YouTube client at a fake running at ``base_url``."""
    return {
        "google_client_id": client_id,
        "google_client_secret": client_secret,
        "google_auth_base": base_url,
        "google_token_url": f"{base_url}/token",
        "google_revoke_url": f"{base_url}/revoke",
        "google_userinfo_url": f"{base_url}/v1/userinfo",
        "youtube_api_base": base_url,
        "youtube_upload_base": base_url,
        "youtube_watch_base": base_url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fake of Google OAuth + YouTube uploads")
    parser.add_argument("--port", type=int, default=8601)
    parser.add_argument("--client-id", default=CLIENT_ID)
    parser.add_argument("--client-secret", default=CLIENT_SECRET)
    args = parser.parse_args()
    state = YouTubeState(client_id=args.client_id, client_secret=args.client_secret)
    FakeYouTube(args.port, state).serve_until_interrupted("fake YouTube")


if __name__ == "__main__":
    main()
