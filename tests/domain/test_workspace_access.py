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
from viralshorts.domain import campaigns, media_library
from viralshorts.domain.campaigns import CampaignInput
from viralshorts.domain.workspaces import Actor, personal_actor
from viralshorts.errors import NotFoundError, PermissionDeniedError
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import MediaAsset, MediaKind, Membership, WorkspaceRole
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
    a_campaign = campaigns.create_campaign(session, actor=alice, data=_campaign_input()).id
    b_campaign = campaigns.create_campaign(session, actor=bob, data=_campaign_input()).id
    session.commit()
    a_media, b_media = (_media(session, actor) for actor in (alice, bob))
    victor = Actor(user_id=viewer.id, workspace_id=alice.workspace_id, role=WorkspaceRole.VIEWER)
    services = build_services(get_settings())
    return World(alice, victor, bob, b_campaign, a_campaign, a_media, b_media, services)


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
        s, actor=a, campaign_id=w.b_campaign, data=_campaign_input("Stolen")
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
}

# Each change a viewer of workspace A tries on workspace A's own rows.
CHANGES: dict[str, UseCase] = {
    "create_campaign": lambda s, a, w: campaigns.create_campaign(
        s, actor=a, data=_campaign_input()
    ),
    "update_campaign": lambda s, a, w: campaigns.update_campaign(
        s, actor=a, campaign_id=w.a_campaign, data=_campaign_input("Mine now")
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


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_viewer_is_refused_every_change(session: Session, world: World, name: str) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        CHANGES[name](session, world.victor, world)
    assert refused.value.code == "permission_denied"


def test_a_viewer_reads_the_workspaces_rows(session: Session, world: World) -> None:
    found = campaigns.get_campaign(session, actor=world.victor, campaign_id=world.a_campaign)
    assert found.user_id == world.alice.user_id
