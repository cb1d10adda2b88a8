"""The PublishingPlatform port for Instagram Reels: Facebook Login + the Graph API (PROTOCOLS 3).

Login is the code flow through authlib with ``state`` (no PKCE: the protocol notes do not
document it for Facebook Login); the short-lived user token is traded at once for a long-lived
one (~60 days, no refresh token), and "refresh" trades the long-lived token again. Publishing
makes a REELS container (``video_url`` when the video has a public URL, else a resumable
rupload of the bytes streamed in 1 MiB reads), polls its ``status_code`` a bounded number of
times, checks ``content_publishing_limit`` and calls ``media_publish``. Every id Meta hands back
goes into the checkpoint before the next call, so a retry asks Meta instead of posting twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from viralshorts.errors import PlatformAuthError, PlatformError, PlatformRateLimitedError
from viralshorts.integrations.platform_http import expires_at
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

try:  # authlib 1.7+ talks through httpx2 and raises its errors
    import httpx2

    _NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - older authlib on plain httpx
    _NETWORK_ERRORS = (httpx.TransportError,)

# Publishing needs the first three (PROTOCOLS 3.1); listing pages and reading insights need the
# last two (Meta's permission reference, not re-checked against a stored copy).
SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "pages_read_engagement",
    "pages_show_list",
    "instagram_manage_insights",
)
REELS_MAX_SECONDS = 15 * 60
RATE_LIMIT_CODES = {4, 17, 32, 613}
DAILY_CAP = (9, 2207042)
RETRYABLE_SUBCODES = {2207001, 2207003, 2207032}
DEFAULT_RATE_WAIT_SECONDS = 60.0
DAILY_CAP_WAIT_SECONDS = 3600.0
HTTP_TIMEOUT = 30.0
UPLOAD_READ_BYTES = 1 << 20
INSIGHT_METRICS = ("views", "likes", "comments", "shares", "saved")


def _retry_after(headers: Mapping[str, str]) -> float:
    """Seconds to wait: ``Retry-After``, else Meta's BUC header estimate (minutes), else 60."""
    value = headers.get("retry-after", "")
    if value.strip().isdigit():
        return float(value)
    try:
        usage = json.loads(headers.get("x-business-use-case-usage", "") or "{}")
        minutes = max(
            entry.get("estimated_time_to_regain_access", 0)
            for entries in usage.values()
            for entry in entries
        )
    except (ValueError, TypeError, AttributeError):
        return DEFAULT_RATE_WAIT_SECONDS
    return float(minutes) * 60 or DEFAULT_RATE_WAIT_SECONDS


def graph_error(status: int, body: Any, headers: Mapping[str, str]) -> PlatformError:
    """The platform error for a Graph API failure, carrying Meta's own message."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = error.get("error_user_msg") or error.get("message") or f"Instagram: HTTP {status}"
    params = {"status": status, "code": code, "subcode": subcode}
    if code == 190 or (status == 401 and not error):
        return PlatformAuthError(message, params=params)
    if code in RATE_LIMIT_CODES or status == 429:
        return PlatformRateLimitedError(
            message, retry_after_seconds=_retry_after(headers), params=params
        )
    if (code, subcode) == DAILY_CAP:
        return PlatformRateLimitedError(
            message, retry_after_seconds=DAILY_CAP_WAIT_SECONDS, params=params
        )
    transient = status >= 500 or error.get("is_transient") or subcode in RETRYABLE_SUBCODES
    return PlatformError(message, retryable=bool(transient), params=params)


def _json(response: Any) -> dict[str, Any]:
    """The body of a successful answer; an error answer raises the mapped platform error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        raise graph_error(response.status_code, body, response.headers)
    if not isinstance(body, dict):
        raise PlatformError("Instagram answered something that is not JSON.", retryable=True)
    return body


def _unreachable(exc: Exception) -> PlatformError:
    return PlatformError(
        "Instagram could not be reached.",
        retryable=True,
        code="platform_unreachable",
        params={"reason": type(exc).__name__},
    )


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(UPLOAD_READ_BYTES):
        yield chunk


def caption_of(options: PostOptions) -> str:
    """The Reel's caption: the description, then the hashtags."""
    tags = " ".join(f"#{tag.lstrip('#')}" for tag in options.hashtags if tag.strip("# "))
    return "\n\n".join(part for part in (options.description.strip(), tags) if part)


class InstagramPlatform:
    """Instagram Reels through Facebook Login; base URLs and the Graph version from settings."""

    name = "instagram"
    scopes = SCOPES

    def __init__(
        self,
        settings: Settings,
        *,
        sandbox: bool = False,
        poll_interval: float = 5.0,
        max_polls: int = 6,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        version = settings.instagram_graph_version.strip("/")
        self.sandbox = sandbox
        self._app_id = settings.meta_app_id
        self._app_secret = settings.meta_app_secret.get_secret_value()
        self._graph = f"{settings.instagram_graph_base.rstrip('/')}/{version}"
        self._dialog = f"{settings.facebook_auth_base.rstrip('/')}/{version}/dialog/oauth"
        self._poll_interval, self._max_polls, self._sleep = poll_interval, max_polls, sleep

    # ------------------------------------------------------------ HTTP

    def _request(self, method: str, url: str, token: str = "", **kwargs: Any) -> dict[str, Any]:
        if not url.startswith("http"):
            url = f"{self._graph}/{url}"
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers.setdefault("Authorization", f"Bearer {token}")
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT) as client:
                response = client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise _unreachable(exc) from exc
        return _json(response)

    def _oauth_client(self, redirect_uri: str) -> OAuth2Client:
        client = OAuth2Client(
            self._app_id,
            self._app_secret,
            scope=",".join(self.scopes),
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
            timeout=HTTP_TIMEOUT,
        )
        client.register_compliance_hook("access_token_response", self._token_answer)
        return client

    @staticmethod
    def _token_answer(response: Any) -> Any:
        _json(response)  # raises Meta's error as ours before authlib parses it
        return response

    # ------------------------------------------------------------ login and tokens

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Facebook's login dialog for these scopes (``code_verifier`` unused: no PKCE)."""
        url, _state = self._oauth_client(redirect_uri).create_authorization_url(
            self._dialog, state=state
        )
        return url

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> PlatformTokens:
        """Redeem the code, then trade the short-lived token for a long-lived one."""
        try:
            with self._oauth_client(redirect_uri) as client:
                short = client.fetch_token(
                    f"{self._graph}/oauth/access_token",
                    method="GET",
                    code=code,
                    client_id=self._app_id,
                    client_secret=self._app_secret,
                )
        except _NETWORK_ERRORS as exc:
            raise _unreachable(exc) from exc
        return self._long_lived(short["access_token"])

    def _long_lived(self, token: str) -> PlatformTokens:
        answer = self._request(
            "GET",
            "oauth/access_token",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": self._app_id,
                "client_secret": self._app_secret,
                "fb_exchange_token": token,
            },
        )
        return PlatformTokens(
            access_token=answer["access_token"],
            expires_at=expires_at(answer.get("expires_in") or None),  # 0: not said either
            scopes=self.scopes,
        )

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        """A new long-lived token for the current one (Meta has no refresh token here)."""
        return self._long_lived(tokens.access_token)

    def revoke(self, tokens: PlatformTokens) -> None:
        """Remove the app's permissions; a token that is already invalid is revoked enough."""
        try:
            self._request("DELETE", "me/permissions", tokens.access_token)
        except PlatformAuthError:
            return

    def profile(self, tokens: PlatformTokens) -> PlatformProfile:
        """The Instagram business account linked to the first Facebook page that has one."""
        fields = "id,name,instagram_business_account{id,username,profile_picture_url}"
        pages = self._request(
            "GET", "me/accounts", tokens.access_token, params={"fields": fields}
        ).get("data", [])
        for page in pages:
            account = page.get("instagram_business_account")
            if account and account.get("id"):
                return PlatformProfile(
                    external_id=str(account["id"]),
                    display_name=account.get("username") or page.get("name", ""),
                    avatar_url=account.get("profile_picture_url", ""),
                    extra={"page_id": str(page["id"]), "ig_user_id": str(account["id"])},
                )
        raise PlatformError(
            "None of your Facebook pages has an Instagram business or creator account linked.",
            retryable=False,
            code="instagram_no_business_account",
        )

    def creator_limits(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any]
    ) -> CreatorLimits:
        """Reels' fixed limits (3 s to 15 min); Instagram has no privacy choice."""
        return CreatorLimits(
            privacy_options=(),
            max_duration_seconds=REELS_MAX_SECONDS,
            message="Reels run 3 seconds to 15 minutes, up to 300 MB.",
        )

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
        """Container → upload → status → publish, resuming from ``checkpoint`` (see the port)."""
        token, ig_user = tokens.access_token, str(profile_extra["ig_user_id"])
        progress = dict(checkpoint)
        if progress.get("media_id"):
            return self._outcome(token, progress["media_id"])
        if progress.get("container_id"):
            status = self._status(token, progress["container_id"])
            if status["status_code"] == "PUBLISHED":
                return self._found_published(token, ig_user, caption_of(options), progress)
            if status["status_code"] in ("EXPIRED", "ERROR"):
                progress = {}
        if not progress.get("container_id"):
            progress = self._create_container(token, ig_user, source, options)
            save_checkpoint(dict(progress))
        if progress.get("upload_uri") and not progress.get("uploaded"):
            self._upload(token, progress["upload_uri"], source)
            progress["uploaded"] = True
            save_checkpoint(dict(progress))
        return self._finish(token, ig_user, progress, save_checkpoint)

    def _create_container(
        self, token: str, ig_user: str, source: VideoSource, options: PostOptions
    ) -> dict[str, Any]:
        data = {
            "media_type": "REELS",
            "caption": caption_of(options),
            "share_to_feed": "true" if options.share_to_feed else "false",
        }
        if source.public_url:
            data["video_url"] = source.public_url
        else:
            data["upload_type"] = "resumable"
        answer = self._request("POST", f"{ig_user}/media", token, data=data)
        progress = {"container_id": str(answer["id"])}
        if not source.public_url:
            progress["upload_uri"] = answer["uri"]
        return progress

    def _upload(self, token: str, uri: str, source: VideoSource) -> None:
        """Send the bytes the upload does not have yet, streamed from ``source``."""
        offset = self._received(token, uri)
        if offset >= source.size:
            return
        headers = {
            "Authorization": f"OAuth {token}",
            "offset": str(offset),
            "file_size": str(source.size),
            "Content-Type": "application/octet-stream",
            "Content-Length": str(source.size - offset),
        }
        stream = source.open_at(offset)
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT) as client:
                response = client.post(uri, content=_chunks(stream), headers=headers)
        except httpx.TransportError as exc:
            raise _unreachable(exc) from exc
        finally:
            stream.close()
        self._upload_answer(response)

    def _received(self, token: str, uri: str) -> int:
        """Bytes rupload already holds (0 when it cannot say: sending all again is safe)."""
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT) as client:
                response = client.get(uri, headers={"Authorization": f"OAuth {token}"})
            return int(response.json().get("offset", 0)) if response.status_code == 200 else 0
        except (httpx.TransportError, ValueError, AttributeError):
            return 0

    @staticmethod
    def _upload_answer(response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code < 400 and body.get("success"):
            return
        if "error" in body:
            raise graph_error(response.status_code, body, response.headers)
        info = body.get("debug_info") or {}
        retryable = bool(info.get("retriable", response.status_code >= 500))
        message = f"Instagram refused the upload ({info.get('type') or response.status_code})."
        raise PlatformError(message, retryable=retryable, code="instagram_upload_failed")

    def _status(self, token: str, container_id: str) -> dict[str, Any]:
        params = {"fields": "status_code,status"}
        return self._request("GET", container_id, token, params=params)

    def _poll(self, token: str, container_id: str) -> dict[str, Any]:
        status = self._status(token, container_id)
        for _ in range(self._max_polls - 1):
            if status.get("status_code") != "IN_PROGRESS":
                break
            self._sleep(self._poll_interval)
            status = self._status(token, container_id)
        return status

    def _finish(
        self,
        token: str,
        ig_user: str,
        progress: dict[str, Any],
        save_checkpoint: Callable[[dict[str, Any]], None],
    ) -> PublishOutcome:
        container_id = progress["container_id"]
        status = self._poll(token, container_id)
        code = status.get("status_code")
        if code == "IN_PROGRESS":
            return PublishOutcome(external_id=container_id, done=False)
        if code in ("ERROR", "EXPIRED"):
            save_checkpoint({})  # the next attempt makes a new container
            reason = status.get("status") or code
            raise PlatformError(
                f"Instagram could not process the video: {reason}",
                retryable=code == "EXPIRED",
                code="instagram_container_failed",
            )
        self._check_publishing_limit(token, ig_user)
        answer = self._request(
            "POST", f"{ig_user}/media_publish", token, data={"creation_id": container_id}
        )
        progress["media_id"] = str(answer["id"])
        save_checkpoint(dict(progress))
        return self._outcome(token, progress["media_id"])

    def _check_publishing_limit(self, token: str, ig_user: str) -> None:
        since = int(time.time()) - 86400 + 60
        answer = self._request(
            "GET",
            f"{ig_user}/content_publishing_limit",
            token,
            params={"fields": "quota_usage,config", "since": since},
        )
        entry = (answer.get("data") or [{}])[0]
        total = (entry.get("config") or {}).get("quota_total")
        if total is not None and entry.get("quota_usage", 0) >= total:
            raise PlatformRateLimitedError(
                f"This Instagram account reached its {total} posts per 24 hours.",
                retry_after_seconds=DAILY_CAP_WAIT_SECONDS,
                code="instagram_daily_cap",
                params={"quota_total": total},
            )

    def _outcome(self, token: str, media_id: str) -> PublishOutcome:
        media = self._request("GET", media_id, token, params={"fields": "id,permalink"})
        return PublishOutcome(external_id=media_id, url=media.get("permalink", ""))

    def _found_published(
        self, token: str, ig_user: str, caption: str, progress: dict[str, Any]
    ) -> PublishOutcome:
        """The container was published but the media id was lost: find the Reel by caption."""
        listed = self._request(
            "GET", f"{ig_user}/media", token, params={"fields": "id,caption,permalink,timestamp"}
        )
        for media in listed.get("data", []):
            if media.get("caption", "") == caption:
                return PublishOutcome(external_id=str(media["id"]), url=media.get("permalink", ""))
        raise PlatformError(
            "Instagram says this video was published, but the Reel could not be found.",
            retryable=False,
            code="instagram_published_unknown",
            params={"container_id": progress.get("container_id")},
        )

    # ------------------------------------------------------------ numbers

    def stats(
        self, tokens: PlatformTokens, profile_extra: dict[str, Any], external_ids: Sequence[str]
    ) -> dict[str, PostStats]:
        """Lifetime insights per Reel; one Meta has no numbers for yet is left out."""
        found: dict[str, PostStats] = {}
        for media_id in external_ids:
            try:
                answer = self._request(
                    "GET",
                    f"{media_id}/insights",
                    tokens.access_token,
                    params={"metric": ",".join(INSIGHT_METRICS)},
                )
            except (PlatformAuthError, PlatformRateLimitedError):
                raise
            except PlatformError as exc:
                if exc.retryable:
                    raise
                continue  # not enough viewers yet (code 10), or the Reel was deleted
            found[media_id] = _post_stats(answer)
        return found


def _post_stats(answer: dict[str, Any]) -> PostStats:
    values = {
        item.get("name"): int((item.get("values") or [{}])[0].get("value", 0) or 0)
        for item in answer.get("data", [])
    }
    return PostStats(
        views=values.get("views", 0),
        likes=values.get("likes", 0),
        comments=values.get("comments", 0),
        shares=values.get("shares", 0),
        saves=values.get("saved", 0),
    )
