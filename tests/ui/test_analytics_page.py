"""The Analytics page's handlers through Reflex's real event processor, with a real session
cookie on real PostgreSQL: what a viewer reads, and what a forger sends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from tests.factories import new_published_post
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import (
    Membership,
    WorkspaceRole,
)
from viralshorts.ui.analytics import ROUTE, AnalyticsState, analytics_page
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_switcher import WorkspaceSwitcherState

FORGED_IDS = ("²", "x", "1.5", 2**40, -3, 0, True, None, [1], {"id": 1})


def _posted(
    session: Session, user_id: int, title: str, views: int, *, sandbox: bool = False
) -> int:
    """A published post of a new video in the user's workspace with today's numbers."""
    post = new_published_post(
        session, user_id, title, views, day=datetime.now(UTC).date(), sandbox=sandbox,
        external_url="https://instagram.example/reel/1/",
    )  # fmt: skip
    return post.video_id


def test_the_page_builds() -> None:
    assert "Views per day by platform" in str(analytics_page())


def test_each_table_is_named_by_a_caption_and_the_csv_link_downloads() -> None:
    page = str(analytics_page())
    # Radix puts a Table.Root's aria-label on its wrapper <div>; only a caption names the table.
    captions = re.findall(r'jsx\("caption",.*?\},"([^"]+)"\)', page)
    assert sorted(captions) == ["Campaigns", "Posts of this video", "Top videos"]
    # A plain anchor: a React Router link would navigate the app to the CSV, not download it.
    assert 'jsx("a",{download:true,href:' in page
    assert "ReactRouterLink,{download" not in page


async def test_a_viewer_reads_the_workspaces_numbers_and_a_video_panel(session, use_redis) -> None:
    owner_id, _owner_cookie = signed_in_cookie(session, "owner@example.com")
    video_id = _posted(session, owner_id, "Owls", 120)
    viewer_id, cookie = signed_in_cookie(session, "viewer@example.com")
    workspace_id = personal_workspace_id(session, owner_id)
    session.add(Membership(workspace_id=workspace_id, user_id=viewer_id, role=WorkspaceRole.VIEWER))
    session.commit()
    async with open_tab(cookie) as tab:
        await tab.send(WorkspaceSwitcherState, "switch", "/app", workspace_id=workspace_id)
        await tab.send(AuthState, "require_user", "/app")  # the full page load that follows
        await tab.send(AnalyticsState, "load", ROUTE)
        state = await tab.state(AnalyticsState)
        assert state.cards[0] == {"label": "Views", "value": 120}
        assert state.platforms == ["instagram"]
        assert [row["title"] for row in state.top_videos] == ["Owls"]
        assert state.export_href.startswith("/api/analytics/export.csv?start=")
        await tab.send(AnalyticsState, "open_video", ROUTE, video_id=video_id)
        state = await tab.state(AnalyticsState)
        assert state.panel_open and state.panel_title == "Owls"
        assert state.panel_posts[0]["url"] == "https://instagram.example/reel/1/"


async def test_the_video_panel_labels_a_sandbox_accounts_posts(session, use_redis) -> None:
    owner_id, cookie = signed_in_cookie(session, "owner@example.com")
    real = _posted(session, owner_id, "Owls", 120)
    fake = _posted(session, owner_id, "Bats", 80, sandbox=True)
    async with open_tab(cookie) as tab:
        await tab.send(AnalyticsState, "load", ROUTE)
        for video_id, sandbox in ((real, False), (fake, True)):
            await tab.send(AnalyticsState, "open_video", ROUTE, video_id=video_id)
            [row] = (await tab.state(AnalyticsState)).panel_posts
            assert (row["account"], row["sandbox"]) == ("reels", sandbox)
    assert '"aria-label":"sandbox account"' in str(analytics_page())  # the row's badge


async def test_another_workspaces_numbers_and_videos_stay_hidden(session, use_redis) -> None:
    owner_id, _cookie = signed_in_cookie(session, "owner@example.com")
    foreign_video = _posted(session, owner_id, "Owls", 120)
    _stranger, cookie = signed_in_cookie(session, "stranger@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(AnalyticsState, "load", ROUTE)
        assert (await tab.state(AnalyticsState)).platforms == []
        sent = await tab.send(AnalyticsState, "open_video", ROUTE, video_id=foreign_video)
        assert "Video not found." in sent
        assert not (await tab.state(AnalyticsState)).panel_open


@pytest.mark.parametrize("forged", FORGED_IDS)
async def test_a_forged_video_id_is_refused_with_a_message(session, use_redis, forged) -> None:
    _user, cookie = signed_in_cookie(session, "forger@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(AnalyticsState, "load", ROUTE)
        assert BAD_REQUEST in await tab.send(AnalyticsState, "open_video", ROUTE, video_id=forged)


@pytest.mark.parametrize(
    "forged", [{"start": 5}, {"start": "2026-01-01" * 3}, {"end": [1]}, "x", None, [1]]
)
async def test_a_forged_range_is_refused_with_a_message(session, use_redis, forged) -> None:
    _user, cookie = signed_in_cookie(session, "forger@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(AnalyticsState, "load", ROUTE)
        assert BAD_REQUEST in await tab.send(AnalyticsState, "apply_range", ROUTE, form=forged)


async def test_a_bad_range_shows_the_field_message(session, use_redis) -> None:
    _user, cookie = signed_in_cookie(session, "person@example.com")
    later = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    async with open_tab(cookie) as tab:
        await tab.send(AnalyticsState, "load", ROUTE)
        form = {"start": later, "end": datetime.now(UTC).date().isoformat()}
        await tab.send(AnalyticsState, "apply_range", ROUTE, form=form)
        state = await tab.state(AnalyticsState)
        assert state.end_error == "The end date is before the start date."


async def test_a_signed_out_tab_is_sent_to_sign_in(session, use_redis) -> None:
    async with open_tab("") as tab:
        sent = await tab.send(AnalyticsState, "load", ROUTE)
        assert "/sign-in" in sent
