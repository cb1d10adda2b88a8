"""The campaigns list, overview, admin and media handlers through Reflex's event processor.

Each handler re-checks the session and its arguments; database work runs off the event loop
(shown by locking a table and checking that the loop still answers while the handler waits).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.image_samples import bomb_png
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts import db
from viralshorts.domain.accounts import end_all_sessions
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.errors import ValidationError
from viralshorts.integrations.services import get_services
from viralshorts.models import Campaign, MediaAsset, MediaKind, Video, VideoStatus
from viralshorts.ui import (
    admin,
    campaign_form,
    campaigns,
    guards,
    media,
    overview,
)
from viralshorts.ui import pages as app_pages
from viralshorts.ui.progress import STATUS_LABELS


def _campaign(session, user_id: int, name: str = "Owls") -> Campaign:
    campaign = Campaign(
        workspace_id=personal_workspace_id(session, user_id),
        user_id=user_id,
        name=name,
        niche=f"{name} facts",
    )
    session.add(campaign)
    session.commit()
    return campaign


def _asset(session, user_id: int) -> MediaAsset:
    asset = MediaAsset(
        workspace_id=personal_workspace_id(session, user_id),
        user_id=user_id,
        kind=MediaKind.IMAGE,
        filename="owl.png",
        storage_key=f"media/{user_id}/abc.png",
        content_type="image/png",
        size_bytes=10,
        sha256=f"{user_id:064d}",
    )
    session.add(asset)
    session.commit()
    return asset


async def test_campaign_list_shows_only_mine_and_refuses_forged_filters(session) -> None:
    other, _ = signed_in_cookie(session, "other@example.com")
    _campaign(session, other, "Not mine")
    user_id, cookie = signed_in_cookie(session, "lister@example.com")
    _campaign(session, user_id, "Mine")
    async with open_tab(cookie) as tab:
        await tab.send(campaigns.CampaignListState, "load", "/app/campaigns")
        listed = await tab.state(campaigns.CampaignListState)
        assert [r["name"] for r in listed.rows] == ["Mine"]
        for handler, payload in [
            ("set_search", {"value": ["Mine"]}),
            ("set_search", {"value": "x" * 5000}),
            ("set_show_archived", {"value": "1"}),
        ]:
            sent = await tab.send(campaigns.CampaignListState, handler, "/app/campaigns", **payload)
            assert guards.BAD_REQUEST in sent
        listed = await tab.state(campaigns.CampaignListState)
        assert (listed.search, listed.show_archived) == ("", False)


async def test_overview_names_statuses_as_the_video_list_does(session) -> None:
    user_id, cookie = signed_in_cookie(session, "counts@example.com")
    campaign = _campaign(session, user_id)
    session.add(
        Video(
            workspace_id=campaign.workspace_id,
            user_id=user_id,
            campaign_id=campaign.id,
            topic="Owls",
            status=VideoStatus.RUNNING,
        )
    )
    session.commit()
    async with open_tab(cookie) as tab:
        await tab.send(overview.OverviewState, "load", "/app")
        shown = dict((await tab.state(overview.OverviewState)).videos_by_status)
    assert list(shown) == list(STATUS_LABELS.values())
    assert shown[STATUS_LABELS[VideoStatus.RUNNING]] == 1
    assert shown["Working"] == 1


async def test_admin_list_is_for_a_signed_in_admin_only(session) -> None:
    _, creator = signed_in_cookie(session, "creator@example.com")
    admin_id, boss = signed_in_cookie(session, "boss@example.com", admin=True)
    async with open_tab(creator) as tab:
        sent = await tab.send(admin.AdminState, "load", "/app/admin")
        assert "/app" in sent
        assert (await tab.state(admin.AdminState)).users == []
    async with open_tab(boss) as tab:
        await tab.send(admin.AdminState, "load", "/app/admin")
        assert len((await tab.state(admin.AdminState)).users) == 2
        end_all_sessions(session, admin_id, sessions=get_services().sessions)
        session.commit()
        sent = await tab.send(admin.AdminState, "load", "/app/admin")
        assert "/sign-in" in sent
        assert (await tab.state(admin.AdminState)).users == []


@pytest.mark.parametrize("forged", ["abc", "²", 99_999_999_999, -1, True, None, [1]])
async def test_media_delete_refuses_forged_ids(session, forged) -> None:
    user_id, cookie = signed_in_cookie(session, "deleter@example.com")
    asset = _asset(session, user_id)
    async with open_tab(cookie) as tab:
        await tab.send(media.MediaState, "delete", media.ROUTE, asset_id=forged)
        page = await tab.state(media.MediaState)
        assert page.action_error == guards.BAD_REQUEST
    assert session.get(MediaAsset, asset.id) is not None


async def test_media_of_someone_else_cannot_be_deleted(session) -> None:
    owner, _ = signed_in_cookie(session, "owner@example.com")
    asset = _asset(session, owner)
    _, cookie = signed_in_cookie(session, "intruder@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(media.MediaState, "delete", media.ROUTE, asset_id=str(asset.id))
        assert (await tab.state(media.MediaState)).action_error == "Media file not found."
        sent = await tab.send(media.MediaState, "rejected", media.ROUTE, files=[1, {"file": 2}])
        assert (
            "is not a video, image or audio file"
            in (await tab.state(media.MediaState)).upload_error
        )
        assert "Traceback" not in sent
    session.expire_all()
    assert session.get(MediaAsset, asset.id) is not None


def _watch_the_loop(loop, lock, answered: list[bool]) -> None:
    """Once a query waits on the lock, check the event loop still runs; then release."""
    try:
        with db.get_engine().connect() as probe:
            for _ in range(300):  # up to 30 s for the handler's query to reach the lock
                waiting = probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
                probe.rollback()
                if waiting:
                    break
                threading.Event().wait(0.1)
        ping = asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop)
        try:
            ping.result(timeout=10)
            answered.append(True)
        except TimeoutError:
            answered.append(False)
    finally:
        lock.rollback()
        lock.close()


@pytest.mark.parametrize(
    ("state", "handler", "path", "table"),
    [
        (overview.OverviewState, "load", "/app", "campaigns"),
        (campaigns.CampaignListState, "load", "/app/campaigns", "campaigns"),
        (campaign_form.CampaignFormState, "load_existing", "/app/campaigns/1", "campaigns"),
        (media.MediaState, "load_page", media.ROUTE, "media_assets"),
    ],
)
async def test_database_waits_do_not_block_the_event_loop(session, state, handler, path, table):
    user_id, cookie = signed_in_cookie(session, "waiter@example.com")
    _campaign(session, user_id)
    async with open_tab(cookie) as tab:
        lock = db.get_engine().connect()
        lock.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        answered: list[bool] = []
        watcher = threading.Thread(
            target=_watch_the_loop, args=(asyncio.get_running_loop(), lock, answered)
        )
        watcher.start()
        await tab.send(state, handler, path)
        await asyncio.to_thread(watcher.join)
    assert answered == [True], "the handler held up the event loop while the database waited"


class _PageRecorder:
    """Stands in for ``rx.App`` in ``pages.register``: keeps what each route would show."""

    def __init__(self) -> None:
        self.head_components: list = []
        self.routes: dict[str, object] = {}

    def add_page(self, component, *, route: str, **_: object) -> None:
        self.routes[route] = component


def test_every_registered_page_builds() -> None:
    # A page that reads a state var wrongly fails here, not only in the browser tests' build.
    recorder = _PageRecorder()
    app_pages.register(recorder)
    assert len(recorder.routes) > 20
    for route, page in recorder.routes.items():
        assert str(page()), route


def test_an_uploaded_image_bomb_is_refused_with_its_name_and_the_limit(session, tmp_path) -> None:
    user_id, _ = signed_in_cookie(session, "uploader@example.com")
    bomb = bomb_png(tmp_path / "0.png", 16000, 16000)
    with pytest.raises(ValidationError) as caught:
        media._store(personal_actor(session, user_id), [("poster.png", bomb)])
    assert caught.value.field_errors["file"].startswith(
        "“poster.png”: Images can be at most 8000x8000 pixels"
    )
    assert "this one is 16000x16000" in caught.value.field_errors["file"]
    assert caught.value.field_codes == {"file": "image_too_large"}
    assert session.exec(select(MediaAsset)).all() == []
