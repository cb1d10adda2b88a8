"""Sessions that end when they should, through Reflex's real event processor.

Real PostgreSQL and Redis (the session cache is on): a tab that already passed a session check
must see its session's end at its very next event, not a second later, and a tab whose socket
no longer carries the cookie must not act with the state it kept.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain import session_checks
from viralshorts.domain.account_tokens import issue_token
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session, hash_password
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import AccountTokenPurpose, Campaign, User, utcnow
from viralshorts.ui import account_pages, media, profile, state, video_detail, video_new, videos
from viralshorts.ui.campaign_form import CampaignFormState
from viralshorts.ui.state import AuthState

NEW = "/app/campaigns/new"
PASSWORD = "correct horse battery"


def another_browser(session: Session, user_id: int) -> str:
    """A second login session of the same user (another browser); returns its Cookie header."""
    user = session.get(User, user_id)
    assert user is not None
    token = create_login_session(session, user=user, user_agent="pytest-2", ip="127.0.0.1")
    session.commit()
    return f"{SESSION_COOKIE}={token}"


async def _filled_form(tab) -> None:
    await tab.send(CampaignFormState, "load_new", NEW)
    await tab.send(CampaignFormState, "set_field", NEW, field="name", value="Owl facts")
    await tab.send(CampaignFormState, "set_field", NEW, field="niche", value="owls at night")


@pytest.fixture()
def long_cache(monkeypatch) -> None:
    """Entries outlive the test, so "seen at once" cannot pass by an entry expiring."""
    monkeypatch.setattr(session_checks, "CACHE_MS", 600_000)


def test_no_entry_lives_longer_than_a_second() -> None:
    assert 0 < session_checks.CACHE_MS <= 1000


async def test_every_check_within_the_cache_time_skips_the_database(
    session, use_redis, long_cache, monkeypatch
) -> None:
    calls: list[str] = []
    real = state._lookup_in_database

    def counted(token: str):
        calls.append(token)
        return real(token)

    monkeypatch.setattr(state, "_lookup_in_database", counted)
    _, cookie = signed_in_cookie(session, "cheap@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        await tab.send(CampaignFormState, "save", NEW, _form={})
    assert len(calls) == 1
    assert len(session.exec(select(Campaign)).all()) == 1


@pytest.mark.parametrize("handler", ["sign_out_everywhere", "sign_out"])
async def test_signing_out_in_one_tab_stops_the_other_at_its_next_event(
    session, use_redis, long_cache, handler
) -> None:
    user_id, cookie = signed_in_cookie(session, "two-tabs@example.com")
    # sign_out ends this browser's session, shared by its tabs; everywhere ends the others too.
    other = cookie if handler == "sign_out" else another_browser(session, user_id)
    async with open_tab(cookie) as first, open_tab(other) as second:
        await _filled_form(second)  # its session check is cached now
        await first.send(AuthState, handler, "/app")
        sent = await second.send(CampaignFormState, "save", NEW, _form={})
        assert "/sign-in?next=" in sent
    assert session.exec(select(Campaign)).all() == []


async def test_changing_the_password_stops_the_other_browsers_at_once(
    session, use_redis, long_cache
) -> None:
    user_id, cookie = signed_in_cookie(session, "changer@example.com")
    user = session.get(User, user_id)
    user.password_hash = hash_password(PASSWORD)
    session.add(user)
    session.commit()
    other = another_browser(session, user_id)
    form = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    async with open_tab(cookie) as first, open_tab(other) as second:
        await _filled_form(second)
        await first.send(profile.ProfileState, "change_password", profile.ROUTE, form=form)
        assert "signed out" in (await first.state(profile.ProfileState)).password_message
        sent = await second.send(CampaignFormState, "save", NEW, _form={})
        assert "/sign-in?next=" in sent
        await _filled_form(first)  # the session that changed it goes on
        assert "Campaign created." in await first.send(CampaignFormState, "save", NEW, _form={})
    assert len(session.exec(select(Campaign)).all()) == 1


async def test_a_password_reset_stops_every_open_tab_at_once(
    session, use_redis, long_cache
) -> None:
    user_id, cookie = signed_in_cookie(session, "forgetful@example.com")
    link = issue_token(
        session, user_id, AccountTokenPurpose.PASSWORD_RESET, timedelta(minutes=30), utcnow()
    )
    session.commit()
    reset = account_pages.ResetPasswordState
    async with open_tab(cookie) as tab, open_tab("") as visitor:
        await _filled_form(tab)
        await visitor.send(reset, "load", account_pages.RESET_ROUTE)
        (await visitor.state(reset))._token = link
        form = {"password": "a brand new passphrase"}
        await visitor.send(reset, "set_password", account_pages.RESET_ROUTE, form=form)
        assert (await visitor.state(reset)).done
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
        assert "/sign-in?next=" in sent
    assert session.exec(select(Campaign)).all() == []


async def test_a_kept_state_token_without_the_cookie_cannot_act(
    session, use_redis, long_cache
) -> None:
    _, cookie = signed_in_cookie(session, "token-keeper@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        assert (await tab.state(AuthState)).signed_in
        # Same state token, a new socket whose handshake carried no cookie at all.
        tab.cookie = ""
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
        assert "/sign-in?next=" in sent
        auth = await tab.state(AuthState)
        assert (auth.signed_in, auth._user_id) == (False, None)
    assert session.exec(select(Campaign)).all() == []


STATE_CHANGING = [
    (CampaignFormState, "save", NEW, {"_form": {}}),
    (CampaignFormState, "set_archived", "/app/campaigns/1", {"archived": True}),
    (media.MediaState, "delete", media.ROUTE, {"asset_id": 1}),
    (videos.VideosState, "cancel", videos.ROUTE, {"video_id": 1}),
    (videos.VideosState, "retry", videos.ROUTE, {"video_id": 1}),
    (video_detail.VideoDetailState, "save_details", "/app/videos/1", {}),
    (video_detail.VideoDetailState, "rerender", "/app/videos/1", {}),
    (video_detail.VideoDetailState, "retry", "/app/videos/1", {}),
    (video_detail.VideoDetailState, "delete", "/app/videos/1", {}),
    (video_new.NewVideoState, "submit", video_new.ROUTE, {"form_data": {}}),
    (profile.ProfileState, "change_password", profile.ROUTE, {"form": {}}),
    (profile.ProfileState, "change_email", profile.ROUTE, {"form": {}}),
]


@pytest.mark.parametrize(
    ("page", "handler", "path", "payload"),
    STATE_CHANGING,
    ids=[f"{page.__name__}.{handler}" for page, handler, _, _ in STATE_CHANGING],
)
async def test_every_state_changing_handler_refuses_a_socket_without_the_cookie(
    session, use_redis, page, handler, path, payload
) -> None:
    user_id, cookie = signed_in_cookie(session, "audit@example.com")
    workspace_id = personal_workspace_id(session, user_id)
    campaign = Campaign(workspace_id=workspace_id, user_id=user_id, name="Keep", niche="n")
    session.add(campaign)
    session.commit()
    async with open_tab(cookie) as tab:
        tab.cookie = ""
        sent = await tab.send(page, handler, path, **payload)
        assert "/sign-in?next=" in sent
    session.expire_all()
    assert [(c.name, c.archived_at) for c in session.exec(select(Campaign)).all()] == [
        ("Keep", None)
    ]
