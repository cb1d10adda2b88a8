"""Use cases act only inside the actor's workspace, and only as far as the role allows.

A member of workspace A naming rows of workspace B gets "not found" (never "forbidden"), and a
viewer is refused every change, for each use case that takes an actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.factories import new_user
from viralshorts.domain import campaigns, dashboard, media_library, quotas, videos
from viralshorts.domain.campaigns import CampaignInput
from viralshorts.domain.video_requests import VideoRequest
from viralshorts.domain.workspaces import Actor, personal_actor
from viralshorts.errors import NotFoundError, PermissionDeniedError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import MediaAsset, MediaKind, Membership, Video, VideoStatus, WorkspaceRole
from viralshorts.settings import get_settings


@dataclass
class World:
    """Workspace A (``alice`` owns it, ``victor`` views it) and workspace B with its rows."""

    alice: Actor
    victor: Actor
    bob: Actor
    b_campaign: int
    a_campaign: int
    a_media: int
    b_media: int
    services: Services
    a_video: int = 0
    b_video: int = 0


def _campaign_input(name: str = "Space") -> CampaignInput:
    return CampaignInput(name=name, niche="astronomy facts")


@pytest.fixture()
def world(session: Session) -> World:
    alice = personal_actor(session, new_user(session, "alice@example.com").id)
    bob = personal_actor(session, new_user(session, "bob@example.com").id)
    viewer = new_user(session, "victor@example.com")
    session.add(
        Membership(workspace_id=alice.workspace_id, user_id=viewer.id, role=WorkspaceRole.VIEWER)
    )
    services = build_services(get_settings())
    a_campaign = campaigns.create_campaign(
        session, actor=alice, data=_campaign_input(), services=services
    ).id
    b_campaign = campaigns.create_campaign(
        session, actor=bob, data=_campaign_input(), services=services
    ).id
    session.commit()
    a_media, b_media = (_media(session, actor) for actor in (alice, bob))
    victor = Actor(user_id=viewer.id, workspace_id=alice.workspace_id, role=WorkspaceRole.VIEWER)
    world = World(alice, victor, bob, b_campaign, a_campaign, a_media, b_media, services)
    world.a_video = _video(session, alice, a_campaign)
    world.b_video = _video(session, bob, b_campaign)
    return world


def _video(session: Session, actor: Actor, campaign_id: int) -> int:
    video = Video(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        campaign_id=campaign_id,
        topic="Owls",
        status=VideoStatus.FAILED,
    )
    session.add(video)
    session.commit()
    return video.id


SCRIPT = {"hook": "Owls!", "lines": [{"text": "Owls turn their heads far."}]}
OWL_FACTS = "Owls cannot move their eyes.\nAn owl turns its head 270 degrees."


def _metadata(session: Session, actor: Actor, video_id: int) -> Any:
    return videos.update_metadata(
        session, actor=actor, video_id=video_id, title="Mine", description="", hashtags=[]
    )


def _media(session: Session, actor: Actor) -> int:
    asset = MediaAsset(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        kind=MediaKind.MUSIC,
        filename="a.mp3",
        storage_key=f"media/w{actor.workspace_id}/a.mp3",
        content_type="audio/mpeg",
        size_bytes=1,
        sha256="0" * 64,
    )
    session.add(asset)
    session.commit()
    return asset.id


UseCase = Callable[[Session, Actor, World], Any]

# Each use case aimed at workspace B's rows while acting in workspace A.
ACROSS: dict[str, UseCase] = {
    "get_campaign": lambda s, a, w: campaigns.get_campaign(s, actor=a, campaign_id=w.b_campaign),
    "get_schedule": lambda s, a, w: campaigns.get_schedule(s, actor=a, campaign_id=w.b_campaign),
    "update_campaign": lambda s, a, w: campaigns.update_campaign(
        s, actor=a, campaign_id=w.b_campaign, data=_campaign_input("Stolen"), services=w.services
    ),
    "archive_campaign": lambda s, a, w: campaigns.archive_campaign(
        s, actor=a, campaign_id=w.b_campaign
    ),
    "restore_campaign": lambda s, a, w: campaigns.restore_campaign(
        s, actor=a, campaign_id=w.b_campaign
    ),
    "delete_media": lambda s, a, w: media_library.delete_media(
        s, w.services, actor=a, asset_id=w.b_media
    ),
    "request_videos": lambda s, a, w: videos.request_videos(
        s,
        w.services,
        actor=a,
        request=VideoRequest(campaign_id=w.b_campaign, topic="Owls", facts=OWL_FACTS),
    ),
    "get_video": lambda s, a, w: videos.get_video(s, actor=a, video_id=w.b_video),
    "cancel_video": lambda s, a, w: videos.cancel_video(s, w.services, actor=a, video_id=w.b_video),
    "retry_video": lambda s, a, w: videos.retry_video(s, w.services, actor=a, video_id=w.b_video),
    "rerender_with_script": lambda s, a, w: videos.rerender_with_script(
        s, w.services, actor=a, video_id=w.b_video, script=SCRIPT
    ),
    "delete_video": lambda s, a, w: videos.delete_video(s, w.services, actor=a, video_id=w.b_video),
    "update_metadata": lambda s, a, w: _metadata(s, a, w.b_video),
}

# Each change a viewer of workspace A tries on workspace A's own rows.
CHANGES: dict[str, UseCase] = {
    "create_campaign": lambda s, a, w: campaigns.create_campaign(
        s, actor=a, data=_campaign_input(), services=w.services
    ),
    "update_campaign": lambda s, a, w: campaigns.update_campaign(
        s, actor=a, campaign_id=w.a_campaign, data=_campaign_input("Mine now"), services=w.services
    ),
    "archive_campaign": lambda s, a, w: campaigns.archive_campaign(
        s, actor=a, campaign_id=w.a_campaign
    ),
    "restore_campaign": lambda s, a, w: campaigns.restore_campaign(
        s, actor=a, campaign_id=w.a_campaign
    ),
    "add_media": lambda s, a, w: media_library.add_media(
        s, w.services, actor=a, filename="x.mp3", path=Path(__file__)
    ),
    "delete_media": lambda s, a, w: media_library.delete_media(
        s, w.services, actor=a, asset_id=w.a_media
    ),
    "request_videos": lambda s, a, w: videos.request_videos(
        s,
        w.services,
        actor=a,
        request=VideoRequest(campaign_id=w.a_campaign, topic="Owls", facts=OWL_FACTS),
    ),
    "cancel_video": lambda s, a, w: videos.cancel_video(s, w.services, actor=a, video_id=w.a_video),
    "retry_video": lambda s, a, w: videos.retry_video(s, w.services, actor=a, video_id=w.a_video),
    "rerender_with_script": lambda s, a, w: videos.rerender_with_script(
        s, w.services, actor=a, video_id=w.a_video, script=SCRIPT
    ),
    "delete_video": lambda s, a, w: videos.delete_video(s, w.services, actor=a, video_id=w.a_video),
    "update_metadata": lambda s, a, w: _metadata(s, a, w.a_video),
}


@pytest.mark.parametrize("name", list(ACROSS))
def test_another_workspaces_rows_are_not_found(session: Session, world: World, name: str) -> None:
    with pytest.raises(NotFoundError):
        ACROSS[name](session, world.alice, world)


def test_lists_show_only_the_actors_workspace(session: Session, world: World) -> None:
    assert [c.id for c in campaigns.list_campaigns(session, actor=world.alice)] == [
        world.a_campaign
    ]
    assert [c.id for c in campaigns.list_campaigns(session, actor=world.victor)] == [
        world.a_campaign
    ]
    assert [m.id for m in media_library.list_media(session, actor=world.victor)] == [world.a_media]
    assert [v.id for v in videos.list_videos(session, actor=world.victor)] == [world.a_video]
    counts = dashboard.overview_counts(session, actor=world.victor)
    assert (counts.active_campaigns, counts.total_videos) == (1, 1)


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_viewer_is_refused_every_change(session: Session, world: World, name: str) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        CHANGES[name](session, world.victor, world)
    assert refused.value.code == "permission_denied"


def test_a_viewer_reads_the_workspaces_rows(session: Session, world: World) -> None:
    found = campaigns.get_campaign(session, actor=world.victor, campaign_id=world.a_campaign)
    assert found.user_id == world.alice.user_id


def test_a_viewer_is_refused_and_nothing_changes(session: Session, world: World) -> None:
    for change in CHANGES.values():
        with pytest.raises(PermissionDeniedError):
            change(session, world.victor, world)
    session.rollback()
    session.expire_all()
    assert session.get(Video, world.a_video).status == VideoStatus.FAILED
    assert session.get(Video, world.a_video).title == ""
    assert len(videos.list_videos(session, actor=world.alice)) == 1
    assert len(media_library.list_media(session, actor=world.alice)) == 1


def test_members_share_the_workspaces_quota(session: Session, world: World) -> None:
    editor = new_user(session, "eddie@example.com")
    workspace_id = world.alice.workspace_id
    session.add(Membership(workspace_id=workspace_id, user_id=editor.id, role=WorkspaceRole.EDITOR))
    session.commit()
    before = quotas.usage_summary(session, workspace_id=workspace_id)
    quotas.reserve_videos(session, workspace_id=workspace_id, user_id=editor.id, count=2)
    session.commit()
    after = quotas.usage_summary(session, workspace_id=workspace_id)
    assert after.videos_remaining == before.videos_remaining - 2
    untouched = quotas.usage_summary(session, workspace_id=world.bob.workspace_id)
    assert untouched.videos_reserved == 0
