"""Rows that many tests need, made the same way everywhere; a Services bundle of a few ports and
a mailer that keeps what it sends."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date
from typing import Any

from sqlmodel import Session

from viralshorts.domain.workspaces import create_personal_workspace, personal_workspace_id
from viralshorts.integrations.ports import OutgoingEmail, Services
from viralshorts.models import (
    Campaign,
    Platform,
    Post,
    PostStatus,
    SocialAccount,
    User,
    Video,
    VideoAnalytics,
)
from viralshorts.settings import Settings, get_settings

# The ports a Services must be given; services_with leaves the ones a test does not name absent.
_REQUIRED_PORTS = tuple(
    f.name
    for f in dataclasses.fields(Services)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


def new_user(session: Session, email: str, **fields: Any) -> User:
    """A user with their personal workspace (as sign-up makes it), committed."""
    user = User(email=email, **fields)
    session.add(user)
    create_personal_workspace(session, user)
    session.commit()
    return user


def new_campaign(session: Session, user_id: int, **fields: Any) -> Campaign:
    """A campaign in the user's personal workspace, committed."""
    values: dict[str, Any] = {"name": "Space", "niche": "astronomy facts", **fields}
    campaign = Campaign(
        workspace_id=personal_workspace_id(session, user_id), user_id=user_id, **values
    )
    session.add(campaign)
    session.commit()
    return campaign


def make_creator(session: Session, email: str) -> tuple[int, int]:
    """A user with one campaign; returns their ids."""
    user = new_user(session, email)
    assert user.id is not None
    campaign = new_campaign(session, user.id)
    return user.id, campaign.id


def new_published_post(
    session: Session,
    user_id: int,
    title: str,
    views: int,
    *,
    day: date,
    sandbox: bool = False,
    external_url: str = "",
) -> Post:
    """A published Instagram post of a new video (its own campaign, named after it) in the
    user's personal workspace, with ``views`` on ``day``; committed."""
    workspace_id = personal_workspace_id(session, user_id)
    campaign = new_campaign(session, user_id, name=f"{title} campaign")
    account = SocialAccount(
        workspace_id=workspace_id, user_id=user_id, platform=Platform.INSTAGRAM,
        external_id=secrets.token_hex(4), display_name="reels", sandbox=sandbox,
    )  # fmt: skip
    video = Video(
        workspace_id=workspace_id, user_id=user_id, campaign_id=campaign.id, topic=title,
        title=title,
    )  # fmt: skip
    session.add_all([account, video])
    session.flush()
    post = Post(
        video_id=video.id, social_account_id=account.id, status=PostStatus.PUBLISHED,
        external_id="1789", external_url=external_url, idempotency_key=secrets.token_hex(16),
    )  # fmt: skip
    session.add(post)
    session.flush()
    session.add(VideoAnalytics(video_id=video.id, post_id=post.id, date=day, views=views))
    session.commit()
    return post


def services_with(settings: Settings | None = None, **ports: Any) -> Services:
    """A Services bundle holding only ``ports`` (and no voices): a code path that reaches any
    other port fails on its None instead of quietly using a real adapter."""
    absent: dict[str, Any] = dict.fromkeys(_REQUIRED_PORTS)
    return Services(**{**absent, "speech": {}, "settings": settings or get_settings(), **ports})


class RecordingMailer:
    """An EmailSender that keeps every message instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    def send(self, message: OutgoingEmail) -> None:
        self.sent.append(message)
