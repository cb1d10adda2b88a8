"""The forgot-password and profile handlers through Reflex's event processor."""

from __future__ import annotations

from sqlmodel import select

from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.accounts import end_all_sessions, hash_password, user_for_token
from viralshorts.integrations.services import get_services
from viralshorts.models import LoginSession, User
from viralshorts.ui import account_pages, guards, profile

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def _with_password(session, email: str) -> tuple[int, str]:
    user_id, cookie = signed_in_cookie(session, email)
    user = session.get(User, user_id)
    user.password_hash = hash_password(PASSWORD)
    session.add(user)
    session.commit()
    return user_id, cookie


async def test_forgot_password_refuses_forged_forms_and_answers_the_same(session, use_redis):
    state = account_pages.ForgotPasswordState
    async with open_tab("") as tab:
        for forged in (["email"], {"email": 7}, {"email": "x" * 5000}):
            await tab.send(state, "send_link", account_pages.FORGOT_ROUTE, form=forged)
            assert (await tab.state(state)).form_error == guards.BAD_REQUEST
        await tab.send(state, "send_link", account_pages.FORGOT_ROUTE, form={"email": "a@b"})
        assert (await tab.state(state)).email_error == "Enter a valid email address."
        await tab.send(
            state, "send_link", account_pages.FORGOT_ROUTE, form={"email": " Ghost@Example.com"}
        )
        shown = await tab.state(state)
        assert (shown.sent_to, shown.form_error) == ("ghost@example.com", "")


async def test_profile_changes_the_password_and_keeps_this_session(session, use_redis):
    user_id, cookie = _with_password(session, "me@example.com")
    other, _ = signed_in_cookie(session, "someone@example.com")
    state = profile.ProfileState
    async with open_tab(cookie) as tab:
        await tab.send(state, "load", profile.ROUTE)
        assert (await tab.state(state)).has_password
        for forged in (["x"], {"current_password": 1, "new_password": NEW_PASSWORD}):
            await tab.send(state, "change_password", profile.ROUTE, form=forged)
            assert (await tab.state(state)).password_form_error == guards.BAD_REQUEST
        form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        await tab.send(state, "change_password", profile.ROUTE, form=form)
        assert "other sessions were signed out" in (await tab.state(state)).password_message
    session.expire_all()
    assert user_for_token(session, cookie.split("=", 1)[1]).id == user_id
    others = session.exec(select(LoginSession).where(LoginSession.user_id == other)).all()
    assert len(others) == 1  # another user's session is untouched


async def test_profile_handlers_send_an_ended_session_to_sign_in(session, use_redis):
    user_id, cookie = _with_password(session, "gone@example.com")
    state = profile.ProfileState
    async with open_tab(cookie) as tab:
        await tab.send(state, "load", profile.ROUTE)
        end_all_sessions(session, user_id, sessions=get_services().sessions)
        session.commit()
        form = {"new_email": "new@example.com", "current_password": PASSWORD}
        sent = await tab.send(state, "change_email", profile.ROUTE, form=form)
        assert "/sign-in" in sent
        assert (await tab.state(state)).email_sent_to == ""
    assert session.get(User, user_id).email == "gone@example.com"
