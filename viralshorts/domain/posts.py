"""Posts: publish a READY video now or at a time, to one or several accounts in one step;
approval, cancel and reschedule.

A post is accepted only after pre-flight (``post_preflight``) passes for every account asked
for, so nothing reaches the queue that the platform is known to refuse. In a workspace that
requires approval an editor's post waits (PENDING_APPROVAL) for an owner or admin. Every
status change is one conditional UPDATE, so two tabs (or a tab and the dispatcher) cannot
both move the same post.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from viralshorts.domain import dispatcher, notifications, post_preflight, quotas
from viralshorts.domain.post_limits import caption_text, limits_for
from viralshorts.domain.post_times import local_text, to_utc, workspace_of
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import NotFoundError, ValidationError, ViralShortsError
from viralshorts.integrations.ports import CreatorLimits, PostOptions, Services
from viralshorts.models import (
    Platform,
    Post,
    PostStatus,
    SocialAccount,
    Video,
    VideoStatus,
    WorkspaceRole,
    utcnow,
)

PAST_SLACK = timedelta(minutes=1)
CHANGEABLE = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL)
CANCELABLE = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL, PostStatus.QUEUED)
POST_NOT_FOUND = "Post not found."


@dataclass(frozen=True)
class PostRequest:
    """One account to post to and the panel's fields for it."""

    social_account_id: int
    fields: dict[str, Any]


def default_fields(video: Video, platform: Platform | str) -> dict[str, Any]:
    """The panel's starting values for ``platform``: the video's own title, text and tags."""
    limits = limits_for(platform)
    return {
        "title": video.title[: limits.title_max] if limits.title_max else "",
        "description": video.description,
        "hashtags": " ".join(f"#{tag}" for tag in video.hashtags),
        "privacy": limits.default_privacy,
        "made_for_kids": False,
        "synthetic_content": True,
        "disable_comment": False,
        "disable_duet": False,
        "disable_stitch": False,
        "share_to_feed": True,
    }


def _ready_video(session: Session, actor: Actor, video_id: int) -> Video:
    video = session.get(Video, video_id)
    if video is None or video.workspace_id != actor.workspace_id:
        raise NotFoundError("Video not found.", code="video_not_found")
    if video.status != VideoStatus.READY or not video.video_key:
        raise ValidationError({"video": "Only a ready video can be published."})
    return video


def workspace_account(session: Session, actor: Actor, account_id: int) -> SocialAccount:
    account = session.get(SocialAccount, account_id)
    if account is None or account.workspace_id != actor.workspace_id:
        raise NotFoundError("Account not found.", code="account_not_found")
    return account


def creator_limits(
    session: Session, services: Services, account: SocialAccount
) -> CreatorLimits | None:
    """TikTok's creator_info for the account now (None elsewhere, or when it cannot be read)."""
    platform = services.platforms.get(account.platform)
    if platform is None or account.platform != Platform.TIKTOK:
        return None
    from viralshorts.domain import connected_accounts

    try:
        tokens = connected_accounts.tokens_for(session, services, account)
        return platform.creator_limits(tokens, dict(account.profile_extra or {}))
    except ViralShortsError as exc:
        return CreatorLimits(
            privacy_options=(),
            max_duration_seconds=0,
            can_post=False,
            message=f"TikTok did not say what this account may post: {exc}",
        )


def preflight(
    session: Session,
    services: Services,
    *,
    account: SocialAccount,
    video: Video,
    options: PostOptions,
    when: datetime,
    adding: int = 1,
) -> dict[str, str]:
    """Every reason ``account``'s platform would refuse this post (empty: it may go)."""
    platform = services.platforms.get(account.platform)
    errors = post_preflight.check_account(account, platform)
    if errors:
        return errors
    limits = limits_for(account.platform)
    creator = creator_limits(session, services, account)
    checks = (
        post_preflight.check_creator(creator, options),
        post_preflight.check_text(limits, options),
        post_preflight.check_privacy(limits, options, creator),
        post_preflight.check_video(limits, post_preflight.video_facts(video), creator),
        post_preflight.check_daily_cap(session, services.settings, account, when, adding=adding),
    )
    for found in checks:
        errors.update(found)
    return errors


def _when(session: Session, actor: Actor, when_local: str) -> datetime:
    now = utcnow()
    if not when_local.strip():
        return now
    when = to_utc(when_local, workspace_of(session, actor).timezone)
    if when < now - PAST_SLACK:
        raise ValidationError({"when": "That time has passed. Pick a time from now on."})
    return when


def _waits_for_approval(session: Session, actor: Actor) -> bool:
    return workspace_of(session, actor).require_approval and actor.role == WorkspaceRole.EDITOR


def _new_post(
    actor: Actor,
    video: Video,
    account: SocialAccount,
    options: PostOptions,
    *,
    when: datetime,
    status: PostStatus,
) -> Post:
    return Post(
        video_id=video.id,
        social_account_id=account.id,
        scheduled_at=when,
        status=status,
        caption=caption_text(options.description, options.hashtags),
        options=dataclasses.asdict(options) | {"hashtags": list(options.hashtags)},
        idempotency_key=uuid.uuid4().hex,
        requested_by_user_id=actor.user_id,
    )


def _accepted(
    session: Session,
    services: Services,
    actor: Actor,
    video: Video,
    *,
    requests: list[PostRequest],
    when: datetime,
) -> list[tuple[SocialAccount, PostOptions]]:
    """Every requested account with its options, once each passes pre-flight."""
    if not requests:
        raise ValidationError({"accounts": "Choose at least one account."})
    accounts = [workspace_account(session, actor, r.social_account_id) for r in requests]
    if len({a.id for a in accounts}) != len(accounts):
        raise ValidationError({"accounts": "Each account can be chosen once."})
    youtube_posts = sum(a.platform == Platform.YOUTUBE for a in accounts)  # one project quota
    errors: dict[str, str] = {}
    accepted = []
    for account, request in zip(accounts, requests, strict=True):
        default_privacy = limits_for(account.platform).default_privacy
        options = post_preflight.parse_options(request.fields, default_privacy)
        adding = youtube_posts if account.platform == Platform.YOUTUBE else 1
        found = preflight(
            session,
            services,
            account=account,
            video=video,
            options=options,
            when=when,
            adding=adding,
        )
        errors.update({f"{account.id}.{name}": text for name, text in found.items()})
        accepted.append((account, options))
    if errors:
        raise ValidationError(errors)
    return accepted


def publish_video(
    session: Session,
    services: Services,
    *,
    actor: Actor,
    video_id: int,
    requests: list[PostRequest],
    when_local: str = "",
) -> list[Post]:
    """Post a READY video to each requested account, now (``when_local`` "") or at a local time.

    Nothing is saved unless every account passes pre-flight. Commits.

    Raises:
        ValidationError: ``{"<account id>.<field>": message}`` for each refusal.
        PermissionDeniedError: the actor's role may not post. QuotaExceededError: the plan's
            scheduled posts are used up. NotFoundError: another workspace's video or account.
    """
    require(actor, Action.MANAGE_POSTS)
    video = _ready_video(session, actor, video_id)
    when = _when(session, actor, when_local)
    accepted = _accepted(session, services, actor, video, requests=requests, when=when)
    waits = _waits_for_approval(session, actor)
    status = PostStatus.PENDING_APPROVAL if waits else PostStatus.SCHEDULED
    posts = [_new_post(actor, video, a, o, when=when, status=status) for a, o in accepted]
    for _ in posts:
        quotas.reserve_post(session, actor.workspace_id)
    session.add_all(posts)
    session.commit()
    if waits:
        _ask_for_approval(session, services, actor, video, posts)
    elif not when_local.strip():  # publish now: on the queue at once, not at the next tick
        dispatcher.dispatch_due(session, services, post_ids=[p.id or 0 for p in posts])
    return posts


def _ask_for_approval(
    session: Session, services: Services, actor: Actor, video: Video, posts: list[Post]
) -> None:
    notifications.notify(
        session,
        services,
        workspace_id=actor.workspace_id,
        kind="approval_requested",
        title=f"A post of “{video.title or video.topic}” waits for your approval",
        body=f"{len(posts)} post(s) planned; approve or reject them on the calendar.",
        link="/app/calendar",
    )
    session.commit()


def _move(
    session: Session,
    post_id: int,
    workspace_id: int,
    from_statuses: tuple[PostStatus, ...],
    values: dict[str, Any],
) -> bool:
    in_workspace = select(Video.id).where(Video.workspace_id == workspace_id)
    result = session.exec(
        sa.update(Post)
        .where(
            col(Post.id) == post_id,
            col(Post.status).in_(from_statuses),
            col(Post.video_id).in_(in_workspace),
        )
        .values(**values, updated_at=utcnow())
    )
    return result.rowcount == 1


def _post_in(session: Session, actor: Actor, post_id: int) -> Post:
    post = session.get(Post, post_id)
    video = session.get(Video, post.video_id) if post else None
    if post is None or video is None or video.workspace_id != actor.workspace_id:
        raise NotFoundError(POST_NOT_FOUND, code="post_not_found")
    session.refresh(post)
    return post


def _refused(post: Post, doing: str) -> ValidationError:
    return ValidationError(
        {"post": f"This post is {post.status.replace('_', ' ')}; it can no longer be {doing}."}
    )


def decide(
    session: Session,
    services: Services,
    *,
    actor: Actor,
    post_id: int,
    approve: bool,
    note: str = "",
) -> Post:
    """Approve (it is scheduled) or reject a post waiting for approval. Commits.

    Raises:
        PermissionDeniedError: not an owner or admin. ValidationError: it waits no longer.
    """
    require(actor, Action.APPROVE_POSTS)
    post = _post_in(session, actor, post_id)
    target = PostStatus.SCHEDULED if approve else PostStatus.REJECTED
    values = {
        "status": target,
        "decided_by_user_id": actor.user_id,
        "decided_at": utcnow(),
        "decision_note": note.strip()[:500],
    }
    if not _move(session, post_id, actor.workspace_id, (PostStatus.PENDING_APPROVAL,), values):
        session.rollback()
        raise _refused(_post_in(session, actor, post_id), "approved or rejected")
    if not approve:
        quotas.release_post(session, actor.workspace_id)
    session.commit()
    return _post_in(session, actor, post.id or post_id)


def cancel(session: Session, services: Services, *, actor: Actor, post_id: int) -> Post:
    """Cancel a post that has not started uploading (a queued job is taken off). Commits."""
    require(actor, Action.MANAGE_POSTS)
    post = _post_in(session, actor, post_id)
    if not _move(session, post_id, actor.workspace_id, CANCELABLE, {"status": PostStatus.CANCELED}):
        session.rollback()
        raise _refused(_post_in(session, actor, post_id), "cancelled")
    quotas.release_post(session, actor.workspace_id)
    session.commit()
    if post.job_id:
        services.queue.cancel(post.job_id)  # the job also finds the post cancelled and stops
    return _post_in(session, actor, post_id)


def reschedule(
    session: Session, services: Services, *, actor: Actor, post_id: int, when_local: str
) -> Post:
    """Move a scheduled (or waiting) post to another local time, within the daily cap. Commits."""
    require(actor, Action.MANAGE_POSTS)
    post = _post_in(session, actor, post_id)
    if post.status not in CHANGEABLE:
        raise _refused(post, "moved")
    when = _when(session, actor, when_local) if when_local.strip() else None
    if when is None:
        raise ValidationError({"when": "Pick a date and time."})
    account = session.get(SocialAccount, post.social_account_id)
    assert account is not None  # the foreign key cascades
    errors = post_preflight.check_daily_cap(
        session, services.settings, account, when, exclude_post_id=post_id
    )
    if errors:
        raise ValidationError(errors)
    values = {"scheduled_at": when, "next_attempt_at": None}
    if not _move(session, post_id, actor.workspace_id, CHANGEABLE, values):
        session.rollback()
        raise _refused(_post_in(session, actor, post_id), "moved")
    session.commit()
    return _post_in(session, actor, post_id)


def scheduled_local(post: Post, timezone: str) -> str:
    """When the post goes out, as the workspace's wall-clock ``datetime-local`` value."""
    return local_text(post.scheduled_at, timezone)


@dataclass(frozen=True)
class AccountChoice:
    """A connected account as the Publish panel offers it."""

    id: int
    platform: str
    label: str
    name: str
    sandbox: bool
    ready: bool  # healthy and its platform configured
    note: str  # why it cannot be chosen ("" when it can)


def publish_choices(session: Session, services: Services, *, actor: Actor) -> list[AccountChoice]:
    """The workspace's accounts, each with whether it can take a post now."""
    require(actor, Action.VIEW)
    accounts = session.exec(
        select(SocialAccount)
        .where(SocialAccount.workspace_id == actor.workspace_id)
        .order_by(col(SocialAccount.platform), col(SocialAccount.id))
    ).all()
    choices = []
    for account in accounts:
        problem = post_preflight.check_account(account, services.platforms.get(account.platform))
        choices.append(
            AccountChoice(
                id=account.id or 0,
                platform=account.platform,
                label=limits_for(account.platform).label,
                name=account.display_name or account.external_id,
                sandbox=account.sandbox,
                ready=not problem,
                note=problem.get("account", ""),
            )
        )
    return choices


def tiktok_privacy_options(session: Session, services: Services, *, actor: Actor) -> list[str]:
    """What TikTok's creator_info offers the workspace's first TikTok account right now."""
    account = session.exec(
        select(SocialAccount).where(
            SocialAccount.workspace_id == actor.workspace_id,
            SocialAccount.platform == Platform.TIKTOK,
        )
    ).first()
    limits = creator_limits(session, services, account) if account else None
    return list(limits.privacy_options) if limits else []
