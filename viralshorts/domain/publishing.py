"""One publish attempt of a post (the ``publish`` queue's job): stream the video from storage
to the platform, resuming from the post's checkpoint, and record what came of it.

Failures: a 401 refreshes the tokens once and tries again (a refresh that fails means the
account needs reconnecting: the post pauses); 429/quota waits the platform's delay without
burning an attempt; 5xx/network errors back off, ``PUBLISH_MAX_ATTEMPTS`` in all, then FAILED
with the platform's own message; a refusal fails at once. The checkpoint is committed the
moment the platform remembers something, so a retry after a killed worker asks the platform
where that upload stands instead of starting a second copy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from viralshorts.db import session_scope
from viralshorts.domain import connected_accounts, post_outcomes
from viralshorts.domain.post_limits import limits_for
from viralshorts.errors import (
    ConfigurationError,
    IntegrationError,
    PlatformAuthError,
    PlatformRateLimitedError,
    ViralShortsError,
)
from viralshorts.integrations.ports import (
    PlatformTokens,
    PostOptions,
    PublishingPlatform,
    PublishOutcome,
    Services,
    VideoSource,
)
from viralshorts.models import Platform, Post, SocialAccount, Video

PUBLIC_URL_SECONDS = 6 * 3600  # Instagram fetches video_url some time after the container
RECONNECT = "The account needs reconnecting before this post can go out"


class _NeedsReconnectError(Exception):
    """The tokens could not be refreshed; F's connected_accounts marked the account."""


class _LostPostError(Exception):
    """The post is no longer this job's (recovered after a long silence, or cancelled)."""


@dataclass
class _Upload:
    """What one attempt needs, read once at its start."""

    post_id: int
    job_id: str
    account_id: int
    platform: PublishingPlatform
    tokens: PlatformTokens
    profile_extra: dict[str, Any]
    source: VideoSource
    options: PostOptions
    checkpoint: dict[str, Any]


def _options(saved: dict[str, Any]) -> PostOptions:
    known = set(PostOptions.__dataclass_fields__)
    values = {k: v for k, v in saved.items() if k in known}
    values["hashtags"] = tuple(values.get("hashtags") or ())
    return PostOptions(**values)


def _public_url(services: Services, key: str) -> str:
    url = services.storage.signed_url(key, expires_in=PUBLIC_URL_SECONDS)
    return url if url.startswith("http") else services.settings.public_base_url.rstrip("/") + url


def _reachable_from_outside(services: Services, url: str) -> bool:
    """Whether a platform's servers can fetch ``url``: not on this machine or a private
    network (the sandbox's fakes run here, so there everything is reachable)."""
    if services.settings.platform_sandbox:
        return True
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host  # a public name; a bare one ("web") resolves only inside
    return address.is_global


def _fetchable_url(services: Services, key: str) -> str:
    """A signed URL Instagram can fetch the video from, or "" (then it is uploaded)."""
    url = _public_url(services, key)
    return url if _reachable_from_outside(services, url) else ""


def video_source(services: Services, video: Video, platform: str) -> VideoSource:
    """The video's file as a stream from storage (read in chunks, never whole).

    Instagram is given a ``video_url`` to fetch when it can reach one; otherwise the
    client sends the file with Meta's resumable upload.
    """
    storage = services.storage
    needs_url = platform == Platform.INSTAGRAM
    return VideoSource(
        size=storage.size(video.video_key),
        open_at=partial(storage.open_stream, video.video_key),
        duration_seconds=float(video.duration_seconds or 0.0),
        public_url=_fetchable_url(services, video.video_key) if needs_url else "",
    )


def _prepare(services: Services, post_id: int, job_id: str) -> _Upload | str:
    with session_scope() as session:
        post = session.get(Post, post_id)
        if post is None:
            return "missing"
        account = session.get(SocialAccount, post.social_account_id)
        video = session.get(Video, post.video_id)
        platform = services.platforms.get(account.platform) if account else None
        if account is None or video is None:
            return "missing"
        if platform is None:
            label = limits_for(account.platform).label
            raise ConfigurationError(f"{label} is not configured on this server any more.")
        tokens = connected_accounts.tokens_for(session, services, account)
        return _Upload(
            post_id=post_id,
            job_id=job_id,
            account_id=account.id or 0,
            platform=platform,
            tokens=tokens,
            profile_extra=dict(account.profile_extra or {}),
            source=video_source(services, video, account.platform),
            options=_options(post.options),
            checkpoint=dict(post.checkpoint or {}),
        )


def _saver(upload: _Upload) -> Callable[[dict[str, Any]], None]:
    def save(checkpoint: dict[str, Any]) -> None:
        if not post_outcomes.save_checkpoint(upload.post_id, upload.job_id, checkpoint):
            raise _LostPostError
        upload.checkpoint = dict(checkpoint)

    return save


def _call(upload: _Upload) -> PublishOutcome:
    return upload.platform.publish(
        upload.tokens,
        profile_extra=upload.profile_extra,
        source=upload.source,
        options=upload.options,
        checkpoint=upload.checkpoint,
        save_checkpoint=_saver(upload),
    )


def _refresh(services: Services, upload: _Upload) -> None:
    with session_scope() as session:
        account = session.get(SocialAccount, upload.account_id)
        if account is None:
            raise _LostPostError
        try:
            upload.tokens = connected_accounts.refreshed_tokens(session, services, account)
        except PlatformAuthError as exc:
            raise _NeedsReconnectError(str(exc)) from exc


def _publish_refreshing_once(services: Services, upload: _Upload) -> PublishOutcome:
    try:
        return _call(upload)
    except PlatformAuthError:
        _refresh(services, upload)
    return _call(upload)  # a second 401 with fresh tokens is an attempt that failed


def _attempt(services: Services, upload: _Upload) -> str:
    ids = {"post_id": upload.post_id, "job_id": upload.job_id}
    try:
        outcome = _publish_refreshing_once(services, upload)
    except _LostPostError:
        return "lost"
    except _NeedsReconnectError as exc:
        return post_outcomes.pause(**ids, message=f"{RECONNECT}: {exc}")
    except PlatformRateLimitedError as exc:
        return post_outcomes.wait(**ids, seconds=exc.retry_after_seconds, message=str(exc))
    except IntegrationError as exc:
        return post_outcomes.attempt_failed(
            services, **ids, message=str(exc), retryable=exc.retryable
        )
    except ViralShortsError as exc:
        return post_outcomes.attempt_failed(services, **ids, message=str(exc), retryable=False)
    return post_outcomes.published(services, **ids, outcome=outcome)


def _prepared(services: Services, post_id: int, job_id: str) -> _Upload | str:
    ids = {"post_id": post_id, "job_id": job_id}
    try:
        return _prepare(services, post_id, job_id)
    except PlatformAuthError as exc:
        return post_outcomes.pause(**ids, message=f"{RECONNECT}: {exc}")
    except IntegrationError as exc:
        return post_outcomes.attempt_failed(
            services, **ids, message=str(exc), retryable=exc.retryable
        )
    except ViralShortsError as exc:  # the file is gone, the platform is unconfigured
        return post_outcomes.attempt_failed(services, **ids, message=str(exc), retryable=False)


def publish_post(services: Services, *, post_id: int, job_id: str) -> str:
    """Run one publish attempt of the post if ``job_id`` holds it.

    Returns:
        ``published``, ``processing`` (asked again later), ``retrying``, ``rate_limited``,
        ``paused``, ``failed``, ``skipped`` (not this job's), ``missing`` or ``lost``.
    """
    if not post_outcomes.start(post_id, job_id):
        return "skipped"
    upload = _prepared(services, post_id, job_id)
    return upload if isinstance(upload, str) else _attempt(services, upload)
