"""YouTube (Data API v3) and Google OAuth 2.0 as a PublishingPlatform, over httpx.

Wire protocol: ``/work/shared/PROTOCOLS.md`` section 1. The consent URL is built with authlib
(state + PKCE S256); tokens, channels, the resumable upload and statistics are plain HTTP.

The upload is resumable: the session URL is checkpointed before the first byte, chunks are read
from ``VideoSource.open_at`` a piece at a time (memory stays bounded whatever the chunk size),
and after a broken chunk or a 5xx the session is asked how much it holds (``bytes */SIZE``) and
the upload goes on from there. A retry with a checkpoint asks the session first and starts a new
upload only when Google says the session is gone (404/410).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from viralshorts.errors import PlatformError
from viralshorts.integrations.platform_http import (
    SourceReader,
    bearer_header,
    call,
    expires_at,
    http_client,
    platform_error,
    seconds_until_pacific_midnight,
)
from viralshorts.integrations.ports import (
    CreatorLimits,
    PlatformProfile,
    PlatformTokens,
    PostOptions,
    PostStats,
    PublishOutcome,
    VideoSource,
)
from viralshorts.settings import Settings

logger = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
UPLOAD_QUANTUM = 256 * 1024  # chunks other than the last must be a multiple of this
DEFAULT_CHUNK_BYTES = 32 * UPLOAD_QUANTUM  # 8 MiB
SHORTS_MAX_SECONDS = 180
STATS_BATCH = 50
CATEGORY_PEOPLE_AND_BLOGS = "22"
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class _SessionGoneError(Exception):
    """The upload session expired or was never known: only now may a new upload start."""


class _InterruptedError(Exception):
    """A chunk or a status query broke (network, 5xx): ask the session and go on."""


def _google_message(response: httpx.Response) -> tuple[str, str]:
    """Google's own message and first error reason (``quotaExceeded``), if it gave them."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # the OAuth endpoints: {"error": "invalid_grant", ...}
        return body.get("error_description") or error, error
    if not isinstance(error, dict):
        return f"HTTP {response.status_code}", ""
    reasons = [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, dict)]
    return error.get("message") or f"HTTP {response.status_code}", (reasons or [""])[0]


def _google_error(response: httpx.Response) -> PlatformError:
    message, reason = _google_message(response)
    status = response.status_code
    if reason == "quotaExceeded":  # the daily quota resets at midnight Pacific Time
        status, delay = 429, seconds_until_pacific_midnight()
    elif reason == "uploadLimitExceeded":  # the channel's daily cap: "try again in 24 hours"
        status, delay = 429, 24 * 3600.0
    elif reason in RATE_LIMIT_REASONS:
        status, delay = 429, 60.0
    else:
        delay = 60.0
    if reason in {"invalid_grant", "invalid_client", "unauthorized_client"}:
        status = 401
    return platform_error("youtube", response, status, message, reason, default_delay=delay)


def _raise_for(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    raise _google_error(response)


def _range_end(response: httpx.Response) -> int:
    """The next byte to send after a 308 (``Range: bytes=0-N`` → N+1; no Range → 0)."""
    value = response.headers.get("Range", "")
    if not value.startswith("bytes=") or "-" not in value:
        return 0
    return int(value.rsplit("-", 1)[1]) + 1


def _description(options: PostOptions) -> str:
    tags = " ".join(f"#{tag.lstrip('#')}" for tag in options.hashtags)
    return "\n\n".join(part for part in (options.description.strip(), tags) if part)


def _video_resource(options: PostOptions) -> dict[str, Any]:
    return {
        "snippet": {
            "title": options.title[:100],
            "description": _description(options),
            "tags": [tag.lstrip("#") for tag in options.hashtags],
            "categoryId": CATEGORY_PEOPLE_AND_BLOGS,
        },
        "status": {
            "privacyStatus": options.privacy or "private",
            "selfDeclaredMadeForKids": options.made_for_kids,
            "containsSyntheticMedia": options.synthetic_content,
        },
    }


class YouTubePlatform:
    """One Google OAuth client publishing to the YouTube channels that granted it access."""

    name = "youtube"
    scopes = SCOPES

    def __init__(
        self,
        settings: Settings,
        *,
        sandbox: bool = False,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        max_interruptions: int = 5,
        retry_delay_seconds: float = 1.0,
    ) -> None:
        if chunk_bytes <= 0 or chunk_bytes % UPLOAD_QUANTUM:
            raise ValueError("chunk_bytes must be a positive multiple of 256 KiB")
        self.sandbox = sandbox
        self._settings = settings
        self._chunk_bytes = chunk_bytes
        self._max_interruptions = max_interruptions
        self._retry_delay = retry_delay_seconds

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Google's consent page, asking for offline access (a refresh token) with PKCE."""
        return prepare_grant_uri(
            f"{self._settings.google_auth_base.rstrip('/')}/o/oauth2/v2/auth",
            self._settings.google_client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(SCOPES),
            state=state,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
        )

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> PlatformTokens:
        """Redeem the authorization code (with the PKCE verifier) for tokens."""
        body = self._token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
        return self._tokens(body, refresh_token="")

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        """A new access token; Google keeps the refresh token unless it sends a new one."""
        body = self._token_request(grant_type="refresh_token", refresh_token=tokens.refresh_token)
        return self._tokens(body, refresh_token=tokens.refresh_token)

    def revoke(self, tokens: PlatformTokens) -> None:
        """Revoke the grant (the refresh token ends every token of it); gone already is fine."""
        token = tokens.refresh_token or tokens.access_token
        with http_client() as http:
            response = call(
                self.name, http.post, self._settings.google_revoke_url, data={"token": token}
            )
        if response.status_code != 400:  # 400 invalid_token: it no longer works anyway
            _raise_for(response)

    def _token_request(self, **fields: str) -> dict[str, Any]:
        secret = self._settings.google_client_secret.get_secret_value()
        form = {"client_id": self._settings.google_client_id, "client_secret": secret, **fields}
        with http_client() as http:
            response = call(self.name, http.post, self._settings.google_token_url, data=form)
        try:
            body = _raise_for(response).json()
        except ValueError as exc:
            raise PlatformError("Google answered the token request with no JSON.") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PlatformError("Google gave no access token.", retryable=False)
        return body

    @staticmethod
    def _tokens(body: dict[str, Any], *, refresh_token: str) -> PlatformTokens:
        return PlatformTokens(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or refresh_token,
            expires_at=expires_at(body.get("expires_in")),
            scopes=tuple(str(body.get("scope", "")).split()),
        )

    # ------------------------------------------------------------ account

    def profile(self, tokens: PlatformTokens) -> PlatformProfile:
        """The channel the tokens belong to (id, title, thumbnail)."""
        params = {"part": "snippet", "mine": "true"}
        body = self._api_get(tokens, "/youtube/v3/channels", params)
        items = body.get("items") or []
        if not items:
            raise PlatformError(
                "This Google account has no YouTube channel.",
                retryable=False,
                code="youtube_no_channel",
            )
        snippet = items[0].get("snippet") or {}
        thumbnails = snippet.get("thumbnails") or {}
        picture = (thumbnails.get("default") or thumbnails.get("medium") or {}).get("url", "")
        return PlatformProfile(items[0]["id"], snippet.get("title") or items[0]["id"], picture)

    def creator_limits(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any]
    ) -> CreatorLimits:
        """Fixed on YouTube: the three privacy settings, and Shorts up to three minutes."""
        return CreatorLimits(("public", "unlisted", "private"), SHORTS_MAX_SECONDS)

    def stats(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any], external_ids: Sequence[str]
    ) -> dict[str, PostStats]:
        """videos.list statistics, 50 ids a call; unknown ids are simply absent."""
        found: dict[str, PostStats] = {}
        ids = list(dict.fromkeys(external_ids))
        for start in range(0, len(ids), STATS_BATCH):
            params = {"part": "statistics", "id": ",".join(ids[start : start + STATS_BATCH])}
            for item in self._api_get(tokens, "/youtube/v3/videos", params).get("items") or []:
                counts = item.get("statistics") or {}
                found[item["id"]] = PostStats(
                    views=int(counts.get("viewCount", 0)),
                    likes=int(counts.get("likeCount", 0)),
                    comments=int(counts.get("commentCount", 0)),
                )
        return found

    def _api_get(self, tokens: PlatformTokens, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self._settings.youtube_api_base.rstrip('/')}{path}"
        with http_client() as http:
            response = call(self.name, http.get, url, params=params, headers=_bearer(tokens))
        return _raise_for(response).json()

    # ------------------------------------------------------------ publishing

    def publish(
        self,
        tokens: PlatformTokens,
        *,
        profile_extra: dict[str, Any],
        source: VideoSource,
        options: PostOptions,
        checkpoint: dict[str, Any],
        save_checkpoint: Callable[[dict[str, Any]], None],
    ) -> PublishOutcome:
        """Resumable upload (see the module docstring); the video is live when this returns."""
        if checkpoint.get("video_id"):
            return self._outcome(checkpoint["video_id"])
        if source.size <= 0:
            raise PlatformError("The video file is empty.", retryable=False)
        session_url = str(checkpoint.get("session_url") or "")
        with http_client() as http:
            video = self._upload(
                http,
                tokens=tokens,
                source=source,
                options=options,
                session_url=session_url,
                save_checkpoint=save_checkpoint,
            )
        return self._outcome(video["id"])

    def _upload(
        self,
        http: httpx.Client,
        *,
        tokens: PlatformTokens,
        source: VideoSource,
        options: PostOptions,
        session_url: str,
        save_checkpoint: Callable[[dict[str, Any]], None],
    ) -> dict[str, Any]:
        offset: int | None = None  # None: ask the session how much it holds
        for _ in range(2):  # a second session only when the first one is gone
            if not session_url:
                session_url = self._start_session(http, tokens, source, options)
                save_checkpoint({"session_url": session_url})
                offset = 0
            try:
                video = self._send(http, tokens, session_url, source, offset)
            except _SessionGoneError:
                logger.info("YouTube upload session gone; starting a new one")
                session_url = ""
                continue
            save_checkpoint({"session_url": session_url, "video_id": video["id"]})
            return video
        raise PlatformError("YouTube lost the upload session twice.", retryable=True)

    def _start_session(
        self, http: httpx.Client, tokens: PlatformTokens, source: VideoSource, options: PostOptions
    ) -> str:
        url = f"{self._settings.youtube_upload_base.rstrip('/')}/upload/youtube/v3/videos"
        headers = {
            **_bearer(tokens),
            "X-Upload-Content-Length": str(source.size),
            "X-Upload-Content-Type": source.content_type,
        }
        params = {"uploadType": "resumable", "part": "snippet,status"}
        response = call(
            self.name, http.post, url, params=params, json=_video_resource(options), headers=headers
        )
        location = _raise_for(response).headers.get("Location")
        if not location:
            raise PlatformError("YouTube did not start an upload session.", retryable=True)
        return location

    def _send(
        self,
        http: httpx.Client,
        tokens: PlatformTokens,
        session_url: str,
        source: VideoSource,
        offset: int | None,
    ) -> dict[str, Any]:
        """Send from ``offset`` to the end; returns the video resource.

        Setbacks (a broken chunk, a 5xx, a chunk the server kept nothing of) are counted until
        the server confirms more bytes than before; too many in a row give up as retryable.
        """
        setbacks, confirmed = 0, offset or 0
        with SourceReader(source) as reader:
            while True:
                try:
                    if offset is None:
                        result = self._session_state(http, tokens, session_url, source.size)
                    else:
                        result = self._put_chunk(http, tokens, session_url, reader, offset)
                        if isinstance(result, int) and result <= confirmed:
                            raise _InterruptedError("YouTube kept none of the chunk.")
                except _InterruptedError as exc:
                    setbacks += 1
                    if setbacks > self._max_interruptions:
                        raise PlatformError(str(exc), retryable=True) from exc
                    time.sleep(self._retry_delay * 2 ** (setbacks - 1))
                    offset = None
                    continue
                if isinstance(result, dict):
                    return result
                if result > confirmed:
                    setbacks, confirmed = 0, result
                offset = result

    def _put_chunk(
        self,
        http: httpx.Client,
        tokens: PlatformTokens,
        session_url: str,
        reader: SourceReader,
        offset: int,
    ) -> dict[str, Any] | int:
        end = min(offset + self._chunk_bytes, reader.size)
        headers = {
            **_bearer(tokens),
            "Content-Length": str(end - offset),
            "Content-Range": f"bytes {offset}-{end - 1}/{reader.size}",
            "Content-Type": reader.content_type,
        }
        return self._session_put(http, session_url, headers, reader.pieces(offset, end))

    def _session_state(
        self, http: httpx.Client, tokens: PlatformTokens, session_url: str, size: int
    ) -> dict[str, Any] | int:
        headers = {**_bearer(tokens), "Content-Length": "0", "Content-Range": f"bytes */{size}"}
        return self._session_put(http, session_url, headers, b"")

    def _session_put(
        self, http: httpx.Client, session_url: str, headers: dict[str, str], content: Any
    ) -> dict[str, Any] | int:
        """The video resource when complete, else the next byte to send (from the 308)."""
        try:
            response = http.put(session_url, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise _InterruptedError(
                f"The upload to YouTube broke off ({type(exc).__name__})."
            ) from exc
        if response.status_code in (200, 201):
            return response.json()
        if response.status_code == 308:
            return _range_end(response)
        if response.status_code in (404, 410):
            raise _SessionGoneError
        if response.status_code >= 500:
            raise _InterruptedError(_google_message(response)[0])
        raise _google_error(response)

    def _outcome(self, video_id: str) -> PublishOutcome:
        watch_base = self._settings.youtube_watch_base.rstrip("/")
        return PublishOutcome(video_id, f"{watch_base}/shorts/{video_id}")


def _bearer(tokens: PlatformTokens) -> dict[str, str]:
    return bearer_header("YouTube", tokens)
