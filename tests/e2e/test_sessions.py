"""An open tab stops acting for its user the moment their sessions end, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import new_page, sign_in, sign_up
from tests.e2e.test_accounts_and_campaigns import _fill_new_campaign

pytestmark = pytest.mark.e2e

CAMPAIGNS_OF = (
    "SELECT count(*) FROM campaigns c JOIN users u ON u.id = c.user_id WHERE u.email = :email"
)


def _campaigns_of(database_url: str, email: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(CAMPAIGNS_OF), {"email": email}).scalar_one()
    finally:
        engine.dispose()


def test_sign_out_everywhere_stops_the_other_browser_at_its_next_save(
    browser: Browser, app_url: str, e2e_database_url: str
) -> None:
    first_context, first = new_page(browser)
    second_context, second = new_page(browser)
    try:
        account = sign_up(first, app_url)
        sign_in(second, app_url, account.email, account.password)
        second.wait_for_url(f"{app_url}/app**")
        second.goto(f"{app_url}/app/campaigns/new")
        _fill_new_campaign(second)

        first.get_by_role("button", name="Sign out everywhere").first.click()
        first.wait_for_url(re.compile(r"/sign-in"))

        second.get_by_role("button", name="Create campaign").click()
        second.wait_for_url(re.compile(r"/sign-in\?next="))
        expect(second.get_by_role("button", name="Sign in")).to_be_visible()
        assert _campaigns_of(e2e_database_url, account.email) == 0

        # The same form from a live session does save: the refusal above was the session.
        sign_in(second, app_url, account.email, account.password)
        second.wait_for_url(f"{app_url}/app**")
        second.goto(f"{app_url}/app/campaigns/new")
        _fill_new_campaign(second)
        second.get_by_role("button", name="Create campaign").click()
        second.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))
        assert _campaigns_of(e2e_database_url, account.email) == 1
    finally:
        first_context.close()
        second_context.close()
