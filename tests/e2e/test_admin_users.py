"""The admin page in a real browser: a site admin disables a user, whose open tab is signed out
at its next step; a creator opening /app/admin is refused with a message, and both are in the
audit log."""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import VENV_BIN, E2EEnvironment, make_account, new_page, sign_in, sign_up
from viralshorts.domain.audit import ADMINS_ONLY

pytestmark = pytest.mark.e2e


def _create_admin(env: E2EEnvironment) -> tuple[str, str]:
    admin = make_account("admin")
    subprocess.run(
        [
            *(str(VENV_BIN / "python"), "-m", "viralshorts", "create-admin"),
            *(admin.email, "--password", admin.password),
        ],
        env=env.env,
        check=True,
        capture_output=True,
    )
    return admin.email, admin.password


def test_an_admin_disables_a_user_whose_open_tab_is_then_signed_out(
    browser: Browser, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    creator_context, creator_tab = new_page(browser)
    admin_context, admin_tab = new_page(browser)
    try:
        creator = sign_up(creator_tab, app_url)
        creator_tab.goto(f"{app_url}/app/admin")
        creator_tab.wait_for_url(re.compile(r"/app/?$"))
        expect(creator_tab.get_by_text(ADMINS_ONLY)).to_be_visible()

        sign_in(admin_tab, app_url, *_create_admin(e2e_environment))
        admin_tab.wait_for_url(f"{app_url}/app**")
        admin_tab.goto(f"{app_url}/app/admin")
        admin_tab.get_by_label("Search users and workspaces").fill(creator.email)
        admin_tab.get_by_role("button", name="Search").click()
        admin_tab.get_by_role("link", name=creator.email).click()
        admin_tab.wait_for_url(re.compile(r"/app/admin/users/\d+$"))
        admin_tab.locator("#disable-reason").fill("Spam uploads")
        admin_tab.get_by_role("button", name="Disable user").click()
        expect(admin_tab.get_by_text("every session of theirs has ended")).to_be_visible()

        # The creator's tab is still open on /app: its next step finds the session gone.
        creator_tab.get_by_role("link", name="Campaigns").first.click()
        creator_tab.wait_for_url(re.compile(r"/sign-in"))
        expect(creator_tab.get_by_role("button", name="Sign in")).to_be_visible()

        admin_tab.get_by_role("link", name="Audit log").click()
        admin_tab.wait_for_url(f"{app_url}/app/admin/audit")
        log = admin_tab.get_by_role("table")
        expect(log.get_by_role("row", name=re.compile(r"admin\.user_disabled"))).to_contain_text(
            "Spam uploads"
        )
        expect(log.get_by_role("row", name=re.compile(r"admin\.denied")).first).to_contain_text(
            creator.email
        )
    finally:
        creator_context.close()
        admin_context.close()
