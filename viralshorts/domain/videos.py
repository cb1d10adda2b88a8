"""Video use cases: estimate, request, list, cancel, retry, edit and re-render, share links.

Requests reserve quota and create QUEUED videos in one transaction; the fair dispatcher in
``render_queue`` decides which of them go on the render queue now; every status change is
``video_lifecycle``'s.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from viralshorts.domain import quotas, render_queue, video_lifecycle
from viralshorts.domain.video_facts import fact_lines
from viralshorts.domain.video_requests import VideoRequest, script_errors, validate_request
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import NotFoundError, ServiceUnavailableError, ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.models import Campaign, Video, VideoStatus, utcnow

__all__ = [
    "CostEstimate",
    "VideoRequest",
    "cancel_video",
    "delete_video",
    "estimate_cost",
    "get_video",
    "list_videos",
    "media_links",
    "request_videos",
    "rerender_cost_note",
    "rerender_with_script",
    "retry_video",
    "update_metadata",
]

MAX_TITLE, MAX_DESCRIPTION, MAX_HASHTAGS = 100, 5000, 15
_TAG = re.compile(r"^[\w]{1,60}$", re.UNICODE)


@dataclass(frozen=True)
class CostEstimate:
    """What a request would cost against this month's quota."""

    videos_needed: int
    remaining_before: int
    remaining_after: int
    allowed: bool
    message: str


def estimate_cost(session: Session, *, actor: Actor, request: VideoRequest) -> CostEstimate:
    """How many videos ``request`` uses and how many the workspace has left before and after."""
    require(actor, Action.VIEW)
    summary = quotas.usage_summary(session, workspace_id=actor.workspace_id)
    before, needed = summary.videos_remaining, max(request.count, 0)
    allowed = needed <= before
    after = before - needed if allowed else before
    videos = "1 video" if needed == 1 else f"{needed} videos"
    if allowed:
        message = f"This uses {videos} of your quota; {after} of {before} left this month after."
    else:
        message = f"You have {before} videos left this month on the {summary.plan.label} plan."
    return CostEstimate(needed, before, after, allowed, message)


def _workspace_campaign(session: Session, *, actor: Actor, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != actor.workspace_id:
        raise NotFoundError("Campaign not found.")
    return campaign


def _new_video(
    request: VideoRequest,
    *,
    campaign: Campaign,
    user_id: int,
    batch_id: str,
    seed: int,
    period: str,
) -> Video:
    facts = fact_lines(request.facts)
    spoken = request.custom_script.strip() or "\n".join(facts)
    topic = request.topic.strip() or spoken.splitlines()[0][:300]
    return Video(
        workspace_id=campaign.workspace_id,
        user_id=user_id,
        campaign_id=request.campaign_id,
        batch_id=batch_id,
        topic=topic,
        custom_script=request.custom_script.strip(),
        facts=facts,
        language=request.language,
        voice=request.voice,
        voice_speed=request.voice_speed,
        caption_style=request.caption_style,
        background_source=request.background_source,
        music=request.music,
        target_seconds=request.target_seconds,
        seed=seed,
        status_message=video_lifecycle.WAITING_MESSAGE,
        quota_reserved=True,
        quota_period=period,
    )


def request_videos(
    session: Session, services: Services, *, actor: Actor, request: VideoRequest
) -> list[Video]:
    """Validate, reserve quota, create ``request.count`` QUEUED videos and dispatch them.

    Raises:
        PermissionDeniedError: the actor's role may not make videos.
        ValidationError: a field breaks a rule (``field_errors`` says which).
        NotFoundError: the campaign is not the workspace's.
        QuotaExceededError: the plan has too few videos left this month.
        ServiceUnavailableError: the render queue did not answer; the videos are saved with
            their reservation and wait for the periodic tick (``params["video_ids"]``).
    """
    require(actor, Action.MANAGE_VIDEOS)
    workspace_id = actor.workspace_id
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    validate_request(session, services, workspace_id=workspace_id, request=request, plan=plan)
    campaign = _workspace_campaign(session, actor=actor, campaign_id=request.campaign_id)
    period = quotas.reserve_videos(
        session, workspace_id=workspace_id, user_id=actor.user_id, count=request.count
    )
    batch_id, first_seed = uuid.uuid4().hex, secrets.randbelow(2**31 - 100)
    videos = [
        _new_video(
            request,
            campaign=campaign,
            user_id=actor.user_id,
            batch_id=batch_id,
            seed=first_seed + i,
            period=period,
        )
        for i in range(request.count)
    ]
    session.add_all(videos)
    session.commit()
    _dispatch(session, services, workspace_id=workspace_id, video_ids=[v.id or 0 for v in videos])
    for video in videos:
        session.refresh(video)
    return videos


def list_videos(
    session: Session,
    *,
    actor: Actor,
    campaign_id: int | None = None,
    status: VideoStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Video]:
    """The workspace's videos, newest first, optionally of one campaign or status."""
    require(actor, Action.VIEW)
    query = select(Video).where(Video.workspace_id == actor.workspace_id)
    if campaign_id is not None:
        query = query.where(Video.campaign_id == campaign_id)
    if status is not None:
        query = query.where(Video.status == status)
    query = query.order_by(col(Video.created_at).desc(), col(Video.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def get_video(session: Session, *, actor: Actor, video_id: int) -> Video:
    """One of the workspace's videos, freshly read; NotFoundError for another's."""
    require(actor, Action.VIEW)
    return _find(session, actor.workspace_id, video_id)


def _find(session: Session, workspace_id: int, video_id: int) -> Video:
    video = session.get(Video, video_id, populate_existing=True)
    if video is None or video.workspace_id != workspace_id:
        raise NotFoundError("Video not found.")
    return video


def _changeable(session: Session, actor: Actor, video_id: int) -> Video:
    """The workspace's video, once the actor's role may change videos."""
    require(actor, Action.MANAGE_VIDEOS)
    return _find(session, actor.workspace_id, video_id)


def cancel_video(session: Session, services: Services, *, actor: Actor, video_id: int) -> Video:
    """Cancel a queued video now, or ask a rendering one to stop (the worker stops ffmpeg).

    Raises:
        PermissionDeniedError: the actor's role may not change videos.
        NotFoundError: not the workspace's video.
        ValidationError: the video is already finished.
    """
    video = _changeable(session, actor, video_id)
    if video_lifecycle.end(
        session,
        video_id=video_id,
        job_id=None,
        status=VideoStatus.CANCELED,
        message="Canceled",
        from_statuses=(VideoStatus.QUEUED,),
    ):
        session.commit()
        # With the queue unreachable the job stays queued, but it no longer owns the video, so
        # a worker skips it; the tick promotes the next video once the queue answers.
        with contextlib.suppress(ServiceUnavailableError):
            if video.job_id:
                services.queue.cancel(video.job_id)
            render_queue.promote_waiting(session, services, workspace_id=actor.workspace_id)
    elif video_lifecycle.request_cancel(session, video_id=video_id):
        session.commit()
    else:
        raise ValidationError(
            {"status": "This video is not queued or rendering any more."},
            field_codes={"status": "video_finished"},
        )
    return _find(session, actor.workspace_id, video_id)


def queue_unavailable(video_ids: list[int]) -> ServiceUnavailableError:
    """The error for saved videos that wait because the render queue does not answer."""
    count = len(video_ids)
    saved = "Your video is saved" if count == 1 else f"Your {count} videos are saved"
    return ServiceUnavailableError(
        f"The render service is busy right now. {saved} and will start automatically as soon "
        "as it answers.",
        code="render_queue_unavailable",
        params={"saved": count, "video_ids": list(video_ids)},
    )


def _dispatch(
    session: Session, services: Services, *, workspace_id: int, video_ids: list[int]
) -> None:
    """Promote the workspace's waiting videos; the saved ``video_ids`` wait if the queue is down.

    Raises:
        ServiceUnavailableError: the queue did not answer (everything is committed).
    """
    try:
        render_queue.promote_waiting(session, services, workspace_id=workspace_id)
    except ServiceUnavailableError as exc:
        raise queue_unavailable(video_ids) from exc


def _requeue(
    session: Session,
    services: Services,
    video: Video,
    from_statuses: tuple[VideoStatus, ...],
    **values: Any,
) -> Video:
    """Reserve quota again and put a finished video back in line."""
    if not video_lifecycle.requeue(session, video=video, from_statuses=from_statuses, **values):
        session.rollback()
        raise ValidationError(
            {"status": "This video changed in the meantime; reload it."},
            field_codes={"status": "video_changed"},
        )
    session.commit()
    _dispatch(session, services, workspace_id=video.workspace_id, video_ids=[video.id or 0])
    return _find(session, video.workspace_id, video.id or 0)


def retry_video(session: Session, services: Services, *, actor: Actor, video_id: int) -> Video:
    """Render a FAILED or CANCELED video again (it needs quota again)."""
    video = _changeable(session, actor, video_id)
    if video.status not in (VideoStatus.FAILED, VideoStatus.CANCELED):
        raise ValidationError(
            {"status": "Only failed or canceled videos can be retried."},
            field_codes={"status": "video_not_retryable"},
        )
    return _requeue(session, services, video, (VideoStatus.FAILED, VideoStatus.CANCELED))


def rerender_with_script(
    session: Session, services: Services, *, actor: Actor, video_id: int, script: dict[str, Any]
) -> Video:
    """Store an edited script and render the video again from it."""
    video = _changeable(session, actor, video_id)
    if video.status in video_lifecycle.ACTIVE:
        raise ValidationError(
            {"status": "Wait for this video to finish before editing it."},
            field_codes={"status": "video_active"},
        )
    plan = quotas.plan_for(session, workspace_id=actor.workspace_id)
    cleaned, errors = script_errors(script, plan=plan, voice_speed=video.voice_speed)
    if errors:
        raise ValidationError(errors)
    finished = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)
    return _requeue(session, services, video, finished, script=cleaned)


def rerender_cost_note(session: Session, *, actor: Actor) -> str:
    """What a re-render costs: one video of this month's quota (said before the creator asks)."""
    require(actor, Action.VIEW)
    summary = quotas.usage_summary(session, workspace_id=actor.workspace_id)
    left = summary.videos_remaining
    if left <= 0:
        return (
            f"Re-rendering uses 1 video of your quota, and you have none left this month on "
            f"the {summary.plan.label} plan."
        )
    return f"Re-rendering uses 1 video of your quota ({left - 1} left this month)."


def delete_video(session: Session, services: Services, *, actor: Actor, video_id: int) -> None:
    """Delete a finished video and its stored files (video, thumbnail, captions).

    Raises:
        PermissionDeniedError: the actor's role may not change videos.
        NotFoundError: not the workspace's video.
        ValidationError: the video is queued or rendering (cancel it first).
    """
    video = _changeable(session, actor, video_id)
    stored = (video.video_key, video.thumbnail_key, video.wide_thumbnail_key, video.captions_key)
    keys = [key for key in stored if key]
    if not video_lifecycle.delete_finished(session, video_id=video_id):
        session.rollback()
        raise ValidationError(
            {"status": "Cancel this video before deleting it."},
            field_codes={"status": "video_active"},
        )
    session.commit()
    for key in keys:
        services.storage.delete(key)


def normalise_hashtags(tags: list[str]) -> list[str]:
    """``["Cats", "#fun facts"]`` → ``["#cats", "#funfacts"]``: deduplicated, order kept."""
    cleaned = ["".join(tag.strip().lstrip("#").split()).lower() for tag in tags]
    return list(dict.fromkeys(f"#{tag}" for tag in cleaned if tag))


def update_metadata(
    session: Session,
    *,
    actor: Actor,
    video_id: int,
    title: str,
    description: str,
    hashtags: list[str],
) -> Video:
    """Edit what is published with the video (title, description, hashtags)."""
    video = _changeable(session, actor, video_id)
    tags = normalise_hashtags(hashtags)
    errors = {}
    if not title.strip() or len(title.strip()) > MAX_TITLE:
        errors["title"] = f"Give a title of 1 to {MAX_TITLE} characters."
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION} characters."
    if len(tags) > MAX_HASHTAGS or not all(_TAG.match(tag[1:]) for tag in tags):
        errors["hashtags"] = f"Use up to {MAX_HASHTAGS} hashtags of letters, digits and _."
    if errors:
        raise ValidationError(errors)
    video.title, video.description, video.hashtags = title.strip(), description.strip(), tags
    video.updated_at = utcnow()
    session.add(video)
    session.commit()
    return video


def _download_name(video: Video, suffix: str = ".mp4") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (video.title or video.topic).lower()).strip("-")
    return f"{slug[:60] or 'video'}-{video.id}{suffix}"


def media_links(services: Services, video: Video) -> dict[str, str]:
    """Signed URLs for the player (mp4, inline) and the MP4, thumbnails and captions downloads.

    The thumbnail is signed as a download: it is also the player's poster, and an image
    element ignores ``Content-Disposition``, so one URL serves both.
    """
    ttl, storage = services.settings.signed_url_ttl_seconds, services.storage
    links = {}
    if video.video_key:
        links["mp4"] = storage.signed_url(video.video_key, expires_in=ttl)
        links["download"] = storage.signed_url(
            video.video_key, expires_in=ttl, download_name=_download_name(video)
        )
    if video.thumbnail_key:
        links["thumbnail"] = storage.signed_url(
            video.thumbnail_key, expires_in=ttl, download_name=_download_name(video, ".jpg")
        )
    if video.wide_thumbnail_key:
        links["wide_thumbnail"] = storage.signed_url(
            video.wide_thumbnail_key,
            expires_in=ttl,
            download_name=_download_name(video, ".wide.jpg"),
        )
    if video.captions_key:
        links["srt"] = storage.signed_url(
            video.captions_key, expires_in=ttl, download_name=_download_name(video, ".srt")
        )
    return links
