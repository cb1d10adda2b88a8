"""Browser test: in sandbox mode a creator connects a TikTok account through the fake TikTok's
consent page and sees it listed with its name, its health and the sandbox badge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import new_page, sign_up

pytestmark = pytest.mark.e2e


def test_a_creator_connects_a_sandbox_tiktok_account(browser: Browser, app_url: str) -> None:
    context, page = new_page(browser)
    try:
        sign_up(page, app_url)
        page.get_by_role("link", name="Accounts").first.click()
        expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
        expect(page.get_by_text("No account is connected yet.")).to_be_visible()

        page.get_by_role("button", name="Connect TikTok").click()
        # The fake TikTok's consent page (a full load away from the app), then back.
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(re.compile(r".*/app/accounts/?\?connected=\d+"))

        row = page.get_by_test_id("account-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Sandbox Creator")
        expect(row).to_contain_text("Healthy")
        expect(row.get_by_label("sandbox account")).to_have_text("sandbox")
        expect(page.get_by_role("status")).to_contain_text("Connected Sandbox Creator.")
        expect(row.get_by_role("button", name=re.compile("Disconnect"))).to_be_visible()

        # Reloading keeps it (stored server-side; no token ever reached the page).
        page.goto(f"{app_url}/app/accounts")
        expect(page.get_by_test_id("account-row")).to_contain_text("Sandbox Creator")
        assert "access_token" not in page.content()
    finally:
        context.close()
