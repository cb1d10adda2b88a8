"""The Publish panel, the calendar and the workspace's publishing settings through Reflex's
real event processor: forged arguments get a message (never a traceback), a viewer cannot
post, and what the pages do lands in the database."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.publishing_support import MemoryPlatform, RecordingQueue, add_account, add_ready_video
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.post_times import local_text
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.integrations.services import build_services, get_services, use_services
from viralshorts.models import (
    Campaign,
    LoginSession,
    Membership,
    Post,
    PostStatus,
    Schedule,
    Workspace,
    WorkspaceRole,
    utcnow,
)
from viralshorts.settings import get_settings
from viralshorts.ui.calendar import CalendarState, calendar_page
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.publish_panel import PublishState, publish_panel
from viralshorts.ui.publishing_settings import PublishingSettingsState

FORGED = ("²", "x", "1.5", 2**40, -3, True, None, [1], {"id": 1})


@pytest.fixture()
def queue(use_database, use_redis) -> RecordingQueue:
    recording = RecordingQueue()
    platforms = {"youtube": MemoryPlatform(name="youtube")}
    built = build_services(get_settings())
    use_services(dataclasses.replace(built, platforms=platforms, queue=recording, email=None))
    yield recording
    use_services(None)


@pytest.fixture()
def owner(session: Session, queue, tmp_path):
    user_id, cookie = signed_in_cookie(session, "olga@example.com")
    workspace_id = personal_workspace_id(session, user_id)
    services = get_services()
    account = add_account(session, services, workspace_id=workspace_id, user_id=user_id)
    video = add_ready_video(
        session, services, workspace_id=workspace_id, user_id=user_id, tmp_path=tmp_path
    )
    return {
        "user_id": user_id,
        "cookie": cookie,
        "workspace_id": workspace_id,
        "account": account,
        "video": video,
    }


async def test_the_panel_schedules_a_post_with_its_fields_and_counts_as_you_type(
    session, owner, queue
):
    path = f"/app/videos/{owner['video'].id}"
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(PublishState, "load", path)
        panel = await tab.state(PublishState)
        [choice] = panel.accounts
        assert (choice["ready"], choice["label"]) == (True, "YouTube Shorts")
        await tab.send(PublishState, "choose", path, account_id=choice["id"], checked=True)
        await tab.send(PublishState, "set_value", path, key="youtube.title", value="x" * 120)
        assert (await tab.state(PublishState)).counters["youtube.title"] == "120 / 100"
        assert (await tab.state(PublishState)).over_limit["youtube.title"] is True
        await tab.send(PublishState, "set_mode", path, mode="schedule")
        when = local_text(utcnow() + timedelta(days=1), "UTC")
        await tab.send(PublishState, "set_when", path, value=when)
        await tab.send(PublishState, "submit", path)
        refused = (await tab.state(PublishState)).messages
        assert refused == [
            "YouTube Shorts · My youtube: The title is 120 characters; YouTube Shorts allows 100."
        ]
        await tab.send(PublishState, "set_value", path, key="youtube.title", value="Octopus")
        await tab.send(PublishState, "submit", path)
        panel = await tab.state(PublishState)
        assert panel.messages == [] and panel.notice.startswith("Scheduled 1 post(s)")
        [row] = panel.posts
        assert (row["status"], row["when_local"]) == ("scheduled", when)
    [post] = session.exec(select(Post)).all()
    assert post.options["title"] == "Octopus" and queue.enqueued == []


async def test_the_panels_handlers_refuse_forged_arguments(session, owner):
    path = f"/app/videos/{owner['video'].id}"
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(PublishState, "load", path)
        for forged in FORGED:
            await tab.send(PublishState, "choose", path, account_id=forged, checked=True)
            assert (await tab.state(PublishState)).error == BAD_REQUEST, forged
        await tab.send(PublishState, "set_value", path, key="youtube.secret", value="x")
        assert (await tab.state(PublishState)).error == BAD_REQUEST
        await tab.send(PublishState, "set_switch", path, key="youtube.made_for_kids", checked="y")
        await tab.send(PublishState, "cancel_post", path, post_id=99)
        assert (await tab.state(PublishState)).error == BAD_REQUEST
    assert session.exec(select(Post)).all() == []


async def test_a_viewer_sees_the_posts_but_cannot_publish(session, owner):
    viewer_id, cookie = signed_in_cookie(session, "vic@example.com")
    session.add(
        Membership(workspace_id=owner["workspace_id"], user_id=viewer_id, role=WorkspaceRole.VIEWER)
    )
    session.commit()
    for login in session.exec(select(LoginSession).where(LoginSession.user_id == viewer_id)):
        login.workspace_id = owner["workspace_id"]  # the viewer switched to the owner's workspace
        session.add(login)
    session.commit()
    path = f"/app/videos/{owner['video'].id}"
    async with open_tab(cookie) as tab:
        await tab.send(PublishState, "load", path)
        panel = await tab.state(PublishState)
        assert [a["id"] for a in panel.accounts] == [owner["account"].id]
        assert panel.can_post is False
        await tab.send(PublishState, "choose", path, account_id=owner["account"].id, checked=True)
        await tab.send(PublishState, "submit", path)
        assert "does not allow" in (await tab.state(PublishState)).error
    assert session.exec(select(Post)).all() == []


async def test_the_calendar_shows_moves_and_cancels_a_post(session, owner):
    path = "/app/calendar"
    services = get_services()
    from viralshorts.domain import posts
    from viralshorts.domain.posts import PostRequest
    from viralshorts.domain.workspaces import actor_for

    actor = actor_for(session, user_id=owner["user_id"], workspace_id=owner["workspace_id"])
    when = local_text(utcnow() + timedelta(hours=2), "UTC")
    [post] = posts.publish_video(
        session,
        services,
        actor=actor,
        video_id=owner["video"].id,
        when_local=when,
        requests=[PostRequest(owner["account"].id, {"title": "Octopus"})],
    )
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(CalendarState, "load_page", path)
        calendar = await tab.state(CalendarState)
        assert [r["id"] for r in calendar.rows] == [post.id]
        day = next(d for d in calendar.days if d["posts"])
        assert day["date"] == when[:10] and day["posts"][0]["status"] == "scheduled"
        await tab.send(CalendarState, "set_view", path, view="month")
        assert len((await tab.state(CalendarState)).days) == 42
        for forged in FORGED:
            await tab.send(CalendarState, "select", path, post_id=forged)
            assert (await tab.state(CalendarState)).error == BAD_REQUEST, forged
        await tab.send(CalendarState, "step", path, direction="1; drop")
        assert (await tab.state(CalendarState)).error == BAD_REQUEST
        await tab.send(CalendarState, "select", path, post_id=post.id)
        later = local_text(utcnow() + timedelta(hours=30), "UTC")
        await tab.send(CalendarState, "set_move_when", path, value=later)
        await tab.send(CalendarState, "move", path)
        assert (await tab.state(CalendarState)).notice == "Moved."
        session.expire_all()
        assert local_text(session.get(Post, post.id).scheduled_at, "UTC") == later
        await tab.send(CalendarState, "cancel", path)
        assert (await tab.state(CalendarState)).notice == "Cancelled."
    session.expire_all()
    assert session.get(Post, post.id).status == PostStatus.CANCELED


async def test_auto_fill_previews_the_schedules_next_slots_then_schedules_them(session, owner):
    campaign = session.get(Campaign, owner["video"].campaign_id)
    session.add(
        Schedule(
            campaign_id=campaign.id,
            days=[0, 1, 2, 3, 4, 5, 6],
            times=["09:00"],
            timezone="UTC",
            platforms=["youtube"],
        )
    )
    session.commit()
    path = "/app/calendar"
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(CalendarState, "load_page", path)
        await tab.send(CalendarState, "set_fill_campaign", path, value=str(campaign.id))
        await tab.send(CalendarState, "preview_fill", path)
        [planned] = (await tab.state(CalendarState)).preview
        assert planned["video_id"] == owner["video"].id
        assert planned["when_local"].endswith("T09:00")
        assert session.exec(select(Post)).all() == []  # a preview changes nothing
        await tab.send(CalendarState, "confirm_fill", path)
        assert (await tab.state(CalendarState)).notice == "Scheduled 1 post(s)."
        await tab.send(CalendarState, "preview_fill", path)
        assert (await tab.state(CalendarState)).preview == []  # now posted
    [post] = session.exec(select(Post)).all()
    assert local_text(post.scheduled_at, "UTC") == planned["when_local"]


async def test_a_sandbox_account_is_labelled_wherever_the_pages_name_it(session, owner):
    account = owner["account"]
    account.sandbox = True  # connected in ./dev run --sandbox, to the local fake
    session.add(account)
    campaign = session.get(Campaign, owner["video"].campaign_id)
    session.add(
        Schedule(
            campaign_id=campaign.id,
            days=[0, 1, 2, 3, 4, 5, 6],
            times=["09:00"],
            timezone="UTC",
            platforms=["youtube"],
        )
    )
    session.commit()
    path = f"/app/videos/{owner['video'].id}"
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(CalendarState, "load_page", "/app/calendar")
        await tab.send(CalendarState, "set_fill_campaign", "/app/calendar", value=str(campaign.id))
        await tab.send(CalendarState, "preview_fill", "/app/calendar")
        assert [p["sandbox"] for p in (await tab.state(CalendarState)).preview] == [True]
        await tab.send(CalendarState, "confirm_fill", "/app/calendar")
        await tab.send(CalendarState, "set_view", "/app/calendar", view="list")  # any weekday
        [row] = (await tab.state(CalendarState)).rows
        assert row["sandbox"] is True
        await tab.send(PublishState, "load", path)
        panel = await tab.state(PublishState)
        assert [a["sandbox"] for a in panel.accounts] == [True]
        assert [p["sandbox"] for p in panel.posts] == [True]
    badge = '"aria-label":"sandbox account"'
    # the calendar's chips (week/month grid and list), the selected post and the fill preview
    assert str(calendar_page()).count(badge) == 4
    assert str(publish_panel()).count(badge) == 2  # the account picker and the posts list


async def test_publishing_settings_are_saved_by_owners_only(session, owner):
    path = "/app/workspace"
    async with open_tab(owner["cookie"]) as tab:
        await tab.send(PublishingSettingsState, "load", path)
        await tab.send(PublishingSettingsState, "set_timezone", path, value="Mars/Base")
        await tab.send(PublishingSettingsState, "save", path)
        assert "timezone" in (await tab.state(PublishingSettingsState)).error
        await tab.send(PublishingSettingsState, "set_require_approval", path, value="yes")
        assert (await tab.state(PublishingSettingsState)).error == BAD_REQUEST
        await tab.send(PublishingSettingsState, "set_timezone", path, value="Asia/Tokyo")
        await tab.send(PublishingSettingsState, "set_require_approval", path, value=True)
        await tab.send(PublishingSettingsState, "save", path)
        assert (await tab.state(PublishingSettingsState)).notice == "Publishing settings saved."
    session.expire_all()
    workspace = session.get(Workspace, owner["workspace_id"])
    assert (workspace.timezone, workspace.require_approval) == ("Asia/Tokyo", True)


@pytest.mark.parametrize(
    ("first", "last", "title"),
    [
        ("2026-12-01", "2026-12-07", "1 to 7 Dec 2026"),
        ("2026-11-30", "2026-12-06", "30 Nov to 6 Dec 2026"),
        ("2026-11-25", "2027-01-30", "25 Nov 2026 to 30 Jan 2027"),
    ],
)
def test_the_calendar_names_its_range_with_each_year_it_spans(
    first: str, last: str, title: str
) -> None:
    from datetime import date

    from viralshorts.ui.calendar import range_title

    assert range_title(date.fromisoformat(first), date.fromisoformat(last)) == title
