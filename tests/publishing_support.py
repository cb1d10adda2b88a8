"""Rows and an in-memory platform for the posts, dispatcher and publish-job tests.

``MemoryPlatform`` implements the PublishingPlatform port the way the real clients behave at
the seam: it saves a checkpoint (an upload id) before reading any byte, resumes an upload it
already knows instead of starting a second copy, and raises the platform errors queued in
``failures`` (one per call) before doing anything else.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from viralshorts.errors import PlatformAuthError, ServiceUnavailableError
from viralshorts.integrations.ports import (
    CreatorLimits,
    PlatformProfile,
    PlatformTokens,
    PublishOutcome,
    Services,
)
from viralshorts.models import AccountHealth, Campaign, SocialAccount, Video, VideoStatus

SCOPES = {
    "youtube": ("https://www.googleapis.com/auth/youtube.upload",),
    "tiktok": ("video.publish", "video.upload"),
    "instagram": ("instagram_basic", "instagram_content_publish"),
}
_ids = itertools.count(1)


@dataclass
class MemoryPlatform:
    name: str = "youtube"
    sandbox: bool = True
    scopes: tuple[str, ...] = ()
    failures: list[Exception] = field(default_factory=list)
    creator: CreatorLimits | None = None
    uploads: dict[str, bytes] = field(default_factory=dict)  # upload id -> bytes received
    published: list[str] = field(default_factory=list)
    tokens_seen: list[str] = field(default_factory=list)
    processing_polls: int = 0  # answer done=False this many times before done
    valid_token: str = ""  # when set, any other access token gets a 401

    def __post_init__(self) -> None:
        self.scopes = self.scopes or SCOPES[self.name]

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return f"https://{self.name}.example/authorize?state={state}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> PlatformTokens:
        return PlatformTokens(access_token=f"access-{code}", refresh_token="refresh-1")

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        fresh = f"access-refreshed-{next(_ids)}"
        self.valid_token = fresh
        return PlatformTokens(access_token=fresh, refresh_token=tokens.refresh_token)

    def revoke(self, tokens: PlatformTokens) -> None:
        return None

    def profile(self, tokens: PlatformTokens) -> PlatformProfile:
        return PlatformProfile(external_id="me", display_name="Me")

    def creator_limits(self, tokens: PlatformTokens, profile_extra: dict) -> CreatorLimits:
        return self.creator or CreatorLimits(
            privacy_options=("PUBLIC_TO_EVERYONE", "SELF_ONLY"), max_duration_seconds=600
        )

    def publish(self, tokens, *, profile_extra, source, options, checkpoint, save_checkpoint):
        self.tokens_seen.append(tokens.access_token)
        if self.valid_token and tokens.access_token != self.valid_token:
            raise PlatformAuthError("Invalid Credentials")
        if self.failures:
            raise self.failures.pop(0)
        upload_id = checkpoint.get("upload_id")
        if upload_id is None:
            upload_id = f"up-{next(_ids)}"
            self.uploads[upload_id] = b""
            save_checkpoint({"upload_id": upload_id})
        received = self.uploads[upload_id]
        with source.open_at(len(received)) as stream:
            while chunk := stream.read(64 * 1024):
                received += chunk
        self.uploads[upload_id] = received
        if self.processing_polls:
            self.processing_polls -= 1
            return PublishOutcome(external_id=upload_id, done=False)
        if upload_id not in self.published:
            self.published.append(upload_id)
        return PublishOutcome(external_id=upload_id, url=f"https://{self.name}.example/{upload_id}")

    def stats(self, tokens, profile_extra, external_ids):
        return {}


class RecordingQueue:
    """Counts what is enqueued (thread safe); ``down`` answers like an unreachable Redis."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[int, str]] = []
        self.down = False
        self.dead: set[str] = set()  # jobs whose worker was killed
        self._lock = threading.Lock()

    def enqueue_publish(self, post_id: int, job_id: str) -> str:
        if self.down:
            raise ServiceUnavailableError("queue down")
        with self._lock:
            self.enqueued.append((post_id, job_id))
        return job_id

    def is_alive(self, job_id: str) -> bool:
        return job_id not in self.dead and any(job == job_id for _, job in self.enqueued)

    def cancel(self, job_id: str) -> None:
        return None


def add_account(
    session: Session,
    services: Services,
    *,
    workspace_id: int,
    user_id: int,
    platform: str = "youtube",
    name: str = "",
    scopes: tuple[str, ...] | None = None,
    health: AccountHealth = AccountHealth.OK,
) -> SocialAccount:
    """A connected account with encrypted tokens, as connecting leaves it."""
    cipher = services.token_cipher
    assert cipher is not None
    account = SocialAccount(
        workspace_id=workspace_id,
        user_id=user_id,
        platform=platform,
        external_id=f"{platform}-{next(_ids)}",
        display_name=name or f"My {platform}",
        access_token_enc=cipher.encrypt("access-0"),
        refresh_token_enc=cipher.encrypt("refresh-0"),
        scopes=" ".join(SCOPES[platform] if scopes is None else scopes),
        health=health,
    )
    session.add(account)
    session.commit()
    return account


def add_ready_video(
    session: Session,
    services: Services,
    *,
    workspace_id: int,
    user_id: int,
    tmp_path: Path,
    seconds: float = 20.0,
    size: int = 300_000,
    title: str = "Octopus facts",
) -> Video:
    """A READY video whose file (``size`` patterned bytes) is in storage."""
    campaign = Campaign(workspace_id=workspace_id, user_id=user_id, name="Sea", niche="sea life")
    session.add(campaign)
    session.commit()
    video = Video(
        workspace_id=workspace_id,
        user_id=user_id,
        campaign_id=campaign.id,
        topic=title,
        title=title,
        description="Three hearts, blue blood.",
        hashtags=["octopus", "facts"],
        status=VideoStatus.READY,
        duration_seconds=seconds,
        size_bytes=size,
    )
    session.add(video)
    session.commit()
    key = f"videos/{user_id}/{video.id}/render.mp4"
    source = tmp_path / f"video-{video.id}.mp4"
    source.write_bytes(bytes(range(256)) * (size // 256) + b"\0" * (size % 256))
    services.storage.put_file(key, source, "video/mp4")
    video.video_key = key
    session.add(video)
    session.commit()
    return video


def file_bytes(services: Services, video: Video) -> bytes:
    with services.storage.open_stream(video.video_key, 0) as stream:
        return stream.read()


def options_of(**fields: Any) -> dict[str, Any]:
    return {"title": "Octopus facts", "description": "Three hearts.", **fields}
