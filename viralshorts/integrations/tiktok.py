"""TikTok (Content Posting API, Direct Post) and TikTok OAuth v2 as a PublishingPlatform.

Wire protocol: ``/work/shared/PROTOCOLS.md`` section 2, over httpx. The consent URL carries
``client_key`` and comma-separated scopes, with state and PKCE S256 (authlib's challenge).
Every refresh rotates the refresh token; the new one is in the result.

Publishing: creator_info → ``video/init`` (FILE_UPLOAD) → checkpoint ``publish_id`` and
``upload_url`` → ordered chunk PUTs → status polling for a bounded time (then ``done=False``:
the caller polls again later by calling ``publish`` with the checkpoint). A call with a
checkpoint asks the status first and uploads only what TikTok does not have yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from viralshorts.errors import PlatformError
from viralshorts.integrations.platform_http import (
    SourceReader,
    bearer_header,
    call,
    expires_at,
    http_client,
    network_error,
    platform_error,
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

# video.list is the Display API scope that video/query (the statistics) needs.
SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")
MB = 1024 * 1024
MIN_CHUNK_BYTES = 5 * MB
MAX_CHUNK_BYTES = 64 * MB
DEFAULT_CHUNK_BYTES = 10 * MB
STATS_BATCH = 20
UPLOADING = "PROCESSING_UPLOAD"
COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"
# creator_info refusals meaning "this creator cannot post right now", not a broken call
CANNOT_POST_NOW = {
    "spam_risk_too_many_posts",
    "spam_risk_too_many_pending_share",
    "spam_risk_user_banned_from_posting",
    "reached_active_user_cap",
}
AUTH_ERRORS = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed"}


class _UploadGoneError(Exception):
    """The upload URL or publish_id is no longer known: a fresh init is safe."""


def chunk_plan(size: int, chunk_bytes: int) -> tuple[int, int]:
    """``(chunk_size, total_chunk_count)`` by TikTok's rules: under 5 MB one chunk; else
    ``floor(size / chunk)`` chunks, the last absorbing the remainder."""
    if size < MIN_CHUNK_BYTES or size <= chunk_bytes:
        return size, 1
    return chunk_bytes, size // chunk_bytes


def _envelope_error(response: httpx.Response) -> PlatformError:
    """The error of a v2 answer (``{"error": {"code", "message"}}``, or the flat OAuth form)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message = str(error.get("code", "")), str(error.get("message") or "")
    else:  # the token endpoint: {"error": "invalid_grant", "error_description": ...}
        code, message = str(error or ""), str(body.get("error_description") or "")
    message = message or code or f"HTTP {response.status_code}"
    status = response.status_code
    if code in AUTH_ERRORS or code in {"invalid_grant", "invalid_client"}:
        status = 401
    elif code == "rate_limit_exceeded":
        status = 429
    elif code == "internal_error":
        status = 500
    elif status < 400:  # an error code inside an HTTP 200
        status = 400
    return platform_error("tiktok", response, status, message, code, default_delay=60.0)


def _data(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` of a successful v2 answer; the mapped error otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success or not isinstance(body, dict):
        raise _envelope_error(response)
    error = body.get("error")
    if isinstance(error, str) or (
        isinstance(error, dict) and error.get("code") not in (None, "ok")
    ):
        raise _envelope_error(response)
    return body.get("data") if "data" in body else body


def _caption(options: PostOptions) -> str:
    tags = " ".join(f"#{tag.lstrip('#')}" for tag in options.hashtags)
    text = options.description.strip() or options.title.strip()
    return " ".join(part for part in (text, tags) if part)[:2200]


class TikTokPlatform:
    """One TikTok app (client key) posting directly to the creators who connected it."""

    name = "tiktok"
    scopes = SCOPES

    def __init__(
        self,
        settings: Settings,
        *,
        sandbox: bool = False,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        poll_interval_seconds: float = 3.0,
        max_wait_seconds: float = 60.0,
        max_chunk_retries: int = 3,
        retry_delay_seconds: float = 1.0,
    ) -> None:
        if not MIN_CHUNK_BYTES <= chunk_bytes <= MAX_CHUNK_BYTES:
            raise ValueError("TikTok chunks are 5 MB to 64 MB")
        self.sandbox = sandbox
        self._settings = settings
        self._chunk_bytes = chunk_bytes
        self._poll_interval = poll_interval_seconds
        self._max_wait = max_wait_seconds
        self._max_chunk_retries = max_chunk_retries
        self._retry_delay = retry_delay_seconds

    # ------------------------------------------------------------ OAuth

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        """TikTok's consent page (``client_key``, comma-separated scopes, state, PKCE S256)."""
        params = [
            ("client_key", self._settings.tiktok_client_key),
            ("scope", ",".join(SCOPES)),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("code_challenge", create_s256_code_challenge(code_verifier)),
            ("code_challenge_method", "S256"),
        ]
        return add_params_to_uri(f"{self._auth_base}/v2/auth/authorize/", params)

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> PlatformTokens:
        """Redeem the code (exact redirect_uri, the PKCE verifier) for tokens."""
        return self._token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        """New tokens; the refresh token in the result replaces the old one, which stops working."""
        return self._token_request(grant_type="refresh_token", refresh_token=tokens.refresh_token)

    def revoke(self, tokens: PlatformTokens) -> None:
        """End the app's access to the account."""
        self._post_form("/v2/oauth/revoke/", {**self._client_form(), "token": tokens.access_token})

    def _token_request(self, **fields: str) -> PlatformTokens:
        body = self._post_form("/v2/oauth/token/", {**self._client_form(), **fields})
        if not body.get("access_token"):
            raise PlatformError("TikTok gave no access token.", retryable=False)
        return PlatformTokens(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", ""),
            expires_at=expires_at(body.get("expires_in")),
            refresh_expires_at=expires_at(body.get("refresh_expires_in")),
            scopes=tuple(s for s in str(body.get("scope", "")).split(",") if s),
        )

    def _client_form(self) -> dict[str, str]:
        secret = self._settings.tiktok_client_secret.get_secret_value()
        return {"client_key": self._settings.tiktok_client_key, "client_secret": secret}

    def _post_form(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        with http_client() as http:
            response = call(self.name, http.post, f"{self._api_base}{path}", data=form)
        return _data(response)

    # ------------------------------------------------------------ account

    def profile(self, tokens: PlatformTokens) -> PlatformProfile:
        """The creator (open_id, display name, avatar)."""
        with http_client() as http:
            data = self._api(
                http,
                tokens,
                "GET",
                "/v2/user/info/",
                params={"fields": "open_id,avatar_url,display_name"},
            )
        user = data.get("user") or {}
        return PlatformProfile(
            user["open_id"], user.get("display_name") or "", user.get("avatar_url") or ""
        )

    def creator_limits(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any]
    ) -> CreatorLimits:
        """creator_info: privacy options, max duration, the creator's disabled interactions;
        ``can_post`` False with TikTok's message when the creator may not post now."""
        try:
            with http_client() as http:
                info = self._creator_info(http, tokens)
        except PlatformError as exc:
            if exc.params.get("reason") not in CANNOT_POST_NOW:
                raise
            return CreatorLimits((), 0, can_post=False, message=exc.message)
        return CreatorLimits(
            privacy_options=tuple(info.get("privacy_level_options") or ()),
            max_duration_seconds=int(info.get("max_video_post_duration_sec") or 0),
            comment_disabled=bool(info.get("comment_disabled")),
            duet_disabled=bool(info.get("duet_disabled")),
            stitch_disabled=bool(info.get("stitch_disabled")),
        )

    def stats(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any], external_ids: Sequence[str]
    ) -> dict[str, PostStats]:
        """video/query counters, 20 ids a call; ids that are not post ids are skipped."""
        ids = [i for i in dict.fromkeys(external_ids) if i.isdigit()]
        fields = "id,view_count,like_count,comment_count,share_count"
        found: dict[str, PostStats] = {}
        with http_client() as http:
            for start in range(0, len(ids), STATS_BATCH):
                body = {"filters": {"video_ids": ids[start : start + STATS_BATCH]}}
                data = self._api(
                    http, tokens, "POST", "/v2/video/query/", params={"fields": fields}, json=body
                )
                for video in data.get("videos") or []:
                    found[str(video["id"])] = PostStats(
                        views=int(video.get("view_count") or 0),
                        likes=int(video.get("like_count") or 0),
                        comments=int(video.get("comment_count") or 0),
                        shares=int(video.get("share_count") or 0),
                    )
        return found

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
        """Direct Post by FILE_UPLOAD (see the module docstring)."""
        if source.size <= 0:
            raise PlatformError("The video file is empty.", retryable=False)
        with http_client() as http:
            saved = dict(checkpoint)
            if saved.get("publish_id"):
                try:
                    return self._resume(http, tokens, source, saved)
                except _UploadGoneError:
                    logger.info("TikTok no longer knows the earlier upload; starting again")
            saved = self._init(http, tokens, source, options)
            save_checkpoint(saved)
            self._send_chunks(http, saved, source, first_chunk=0)
            return self._wait(http, tokens, saved)

    def _resume(
        self, http: httpx.Client, tokens: PlatformTokens, source: VideoSource, saved: dict[str, Any]
    ) -> PublishOutcome:
        status = self._status(http, tokens, saved["publish_id"])
        uploaded = int(status.get("uploaded_bytes") or 0)
        if uploaded >= source.size or status.get("status") not in (UPLOADING, FAILED):
            return self._wait(http, tokens, saved, status)
        if status.get("status") == FAILED or not saved.get("upload_url"):
            raise _UploadGoneError  # the earlier upload never finished: nothing is on TikTok
        chunk_size = int(saved.get("chunk_size") or source.size)
        self._send_chunks(http, saved, source, first_chunk=uploaded // chunk_size)
        return self._wait(http, tokens, saved)

    def _init(
        self, http: httpx.Client, tokens: PlatformTokens, source: VideoSource, options: PostOptions
    ) -> dict[str, Any]:
        info = self._creator_info(http, tokens)
        longest = int(info.get("max_video_post_duration_sec") or 0)
        if longest and source.duration_seconds > longest:
            raise PlatformError(
                f"TikTok takes videos up to {longest} s from this account.",
                retryable=False,
                code="platform_video_too_long",
                params={"platform": "tiktok", "max_seconds": longest},
            )
        chunk_size, chunk_count = chunk_plan(source.size, self._chunk_bytes)
        post_info = {
            "title": _caption(options),
            "privacy_level": options.privacy or "SELF_ONLY",
            "disable_comment": options.disable_comment or bool(info.get("comment_disabled")),
            "disable_duet": options.disable_duet or bool(info.get("duet_disabled")),
            "disable_stitch": options.disable_stitch or bool(info.get("stitch_disabled")),
            "is_aigc": options.synthetic_content,
        }
        source_info = {
            "source": "FILE_UPLOAD",
            "video_size": source.size,
            "chunk_size": chunk_size,
            "total_chunk_count": chunk_count,
        }
        body = {"post_info": post_info, "source_info": source_info}
        data = self._api(http, tokens, "POST", "/v2/post/publish/video/init/", json=body)
        return {
            "publish_id": data["publish_id"],
            "upload_url": data["upload_url"],
            "chunk_size": chunk_size,
            "username": info.get("creator_username") or "",
        }

    def _send_chunks(
        self, http: httpx.Client, saved: dict[str, Any], source: VideoSource, *, first_chunk: int
    ) -> None:
        chunk_size = int(saved["chunk_size"])
        count = max(1, source.size // chunk_size)
        with SourceReader(source) as reader:
            for index in range(first_chunk, count):
                start = index * chunk_size
                end = source.size if index == count - 1 else start + chunk_size
                self._put_chunk(http, saved["upload_url"], reader, start, end)

    def _put_chunk(
        self, http: httpx.Client, upload_url: str, reader: SourceReader, start: int, end: int
    ) -> None:
        """One chunk, sent again after a broken connection or a 5xx (TikTok wants them in order)."""
        headers = {
            "Content-Type": reader.content_type,
            "Content-Length": str(end - start),
            "Content-Range": f"bytes {start}-{end - 1}/{reader.size}",
        }
        for attempt in range(self._max_chunk_retries + 1):
            last_try = attempt == self._max_chunk_retries
            try:
                response = http.put(upload_url, content=reader.pieces(start, end), headers=headers)
            except httpx.TransportError as exc:
                if last_try:
                    raise network_error("tiktok", exc) from exc
            else:
                if response.status_code in (404, 410):
                    raise _UploadGoneError
                if response.is_success:
                    return
                if response.status_code < 500 or last_try:
                    raise _envelope_error(response)
            time.sleep(self._retry_delay * 2**attempt)

    def _wait(
        self,
        http: httpx.Client,
        tokens: PlatformTokens,
        saved: dict[str, Any],
        status: dict[str, Any] | None = None,
    ) -> PublishOutcome:
        """Poll the status until complete, failed, or the bounded wait is over."""
        deadline = time.monotonic() + self._max_wait
        while True:
            status = status or self._status(http, tokens, saved["publish_id"])
            if status.get("status") == COMPLETE:
                return self._outcome(saved, status)
            if status.get("status") == FAILED:
                reason = str(status.get("fail_reason") or "unknown")
                raise PlatformError(
                    f"TikTok could not publish the video: {reason}.",
                    retryable=False,
                    params={"platform": "tiktok", "reason": reason},
                )
            if time.monotonic() + self._poll_interval > deadline:
                return PublishOutcome(saved["publish_id"], done=False)
            time.sleep(self._poll_interval)
            status = None

    def _outcome(self, saved: dict[str, Any], status: dict[str, Any]) -> PublishOutcome:
        post_ids = status.get("publicaly_available_post_id") or []  # sic: TikTok's spelling
        if not post_ids:  # private posts never reveal their id
            return PublishOutcome(saved["publish_id"])
        post_id = str(post_ids[0])
        username = saved.get("username") or ""
        return PublishOutcome(post_id, f"{self._auth_base}/@{username}/video/{post_id}")

    def _status(
        self, http: httpx.Client, tokens: PlatformTokens, publish_id: str
    ) -> dict[str, Any]:
        try:
            return self._api(
                http,
                tokens,
                "POST",
                "/v2/post/publish/status/fetch/",
                json={"publish_id": publish_id},
            )
        except PlatformError as exc:
            if exc.params.get("reason") in ("invalid_params", "invalid_param"):
                raise _UploadGoneError from exc  # TikTok does not know this publish_id
            raise

    def _creator_info(self, http: httpx.Client, tokens: PlatformTokens) -> dict[str, Any]:
        return self._api(http, tokens, "POST", "/v2/post/publish/creator_info/query/")

    # ------------------------------------------------------------ HTTP

    @property
    def _api_base(self) -> str:
        return self._settings.tiktok_api_base.rstrip("/")

    @property
    def _auth_base(self) -> str:
        return self._settings.tiktok_auth_base.rstrip("/")

    def _api(
        self, http: httpx.Client, tokens: PlatformTokens, method: str, path: str, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {
            **bearer_header("TikTok", tokens),
            "Content-Type": "application/json; charset=UTF-8",
        }
        response = call(
            self.name, http.request, method, f"{self._api_base}{path}", headers=headers, **kwargs
        )
        return _data(response)
