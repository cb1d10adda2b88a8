"""The sign-in and sign-up handlers through Reflex's real event processor (PostgreSQL + Redis).

What a person sees when Redis does not answer, and when sign-ups are refused too often.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integrations.auth_support import auth_services
from tests.ui.tabs import open_tab
from viralshorts.db import session_scope
from viralshorts.domain import accounts
from viralshorts.integrations.services import use_services
from viralshorts.settings import get_settings
from viralshorts.ui.auth_pages import SERVICE_BUSY, AuthFormState

PASSWORD = "correct horse battery"


@pytest.fixture()
def services(use_database, use_redis) -> Iterator[None]:
    use_services(auth_services(get_settings()))
    yield
    use_services(None)


@pytest.fixture()
def redis_down(use_database) -> Iterator[None]:
    settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    use_services(auth_services(settings))
    yield
    use_services(None)


async def test_sign_in_with_redis_down_says_busy_and_stops_the_spinner(redis_down) -> None:
    async with open_tab("") as tab:
        form = {"email": "ada@example.com", "password": PASSWORD}
        sent = await tab.send(AuthFormState, "sign_in", "/sign-in", form=form)
        state = await tab.state(AuthFormState)
    assert state.form_error == SERVICE_BUSY
    assert state.submitting is False
    assert "/api/auth/finish" not in sent


async def test_sign_up_with_redis_down_says_busy_and_stops_the_spinner(redis_down) -> None:
    async with open_tab("") as tab:
        form = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}
        await tab.send(AuthFormState, "create_account", "/sign-up", form=form)
        state = await tab.state(AuthFormState)
    assert state.form_error == SERVICE_BUSY
    assert state.submitting is False


async def test_repeated_sign_up_probes_get_a_wait(services) -> None:
    with session_scope() as session:
        accounts.sign_up(session, email="ada@example.com", password=PASSWORD)
    form = {"name": "", "email": "ada@example.com", "password": PASSWORD}
    async with open_tab("") as tab:
        for _ in range(get_settings().signup_max_attempts_per_email):
            await tab.send(AuthFormState, "create_account", "/sign-up", form=form)
            assert (await tab.state(AuthFormState)).email_error == accounts.ACCOUNT_EXISTS
        await tab.send(AuthFormState, "create_account", "/sign-up", form=form)
        state = await tab.state(AuthFormState)
    assert state.form_error.startswith("Too many sign-up attempts. Try again in ")
    assert state.email_error == ""
    assert state.submitting is False


async def test_a_forged_form_value_is_an_answer_not_a_traceback(services) -> None:
    async with open_tab("") as tab:
        form = {"email": ["a@b.c"], "password": 12}
        await tab.send(AuthFormState, "sign_in", "/sign-in", form=form)
        state = await tab.state(AuthFormState)
    assert state.form_error == accounts.WRONG_CREDENTIALS
    assert state.submitting is False
