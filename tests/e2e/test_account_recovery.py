"""Account recovery in a real browser: forgot password → email → new password, and the profile.

The app runs with no SMTP server configured, so its messages land as ``.eml`` files in the
outbox beside its MEDIA_ROOT; the test reads the link from there, as a developer would.
"""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import E2EEnvironment, new_page, sign_in, sign_up

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "a brand new passphrase 42"


def _outbox(env: E2EEnvironment) -> Path:
    return Path(env.env["MEDIA_ROOT"]).parent / "outbox"


def _message_to(env: E2EEnvironment, to: str, containing: str) -> str:
    """The body of the newest message to ``to`` containing ``containing`` (polled with a
    generous deadline: the app sends off the request path)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for eml in sorted(_outbox(env).glob("*.eml"), reverse=True):
            message = message_from_bytes(eml.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",)).get_content()
            if message["To"] == to and containing in body:
                return body
        time.sleep(0.2)
    raise AssertionError(f"no message to {to} with {containing!r} in {_outbox(env)}")


def _link_emailed_to(env: E2EEnvironment, to: str, path: str) -> str:
    """The link to ``path`` in the newest message to ``to`` that has one."""
    body = _message_to(env, to, f"{path}?token=")
    found = re.search(re.escape(path) + r"\?token=\S+", body)
    assert found is not None
    return env.base_url + found.group(0)


def _signed_in_elsewhere(browser: Browser, app_url: str, email: str, password: str) -> Page:
    _, other = new_page(browser)
    sign_in(other, app_url, email, password)
    other.wait_for_url(f"{app_url}/app**")
    expect(other.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    return other


def _is_sent_to_sign_in_at_its_next_action(page: Page, app_url: str) -> None:
    page.get_by_role("link", name="Campaigns").first.click()
    page.wait_for_url(f"{app_url}/sign-in**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_forgot_password_email_new_password_ends_the_old_sessions(
    browser: Browser, page: Page, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    account = sign_up(page, app_url)
    other = _signed_in_elsewhere(browser, app_url, account.email, account.password)
    _, visitor = new_page(browser)

    visitor.goto(f"{app_url}/sign-in")
    visitor.get_by_role("link", name="Forgot password?").click()
    visitor.wait_for_url(f"{app_url}/forgot-password")
    visitor.get_by_label("Email").fill(account.email.upper())
    visitor.get_by_role("button", name="Send reset link").click()
    expect(visitor.get_by_role("status")).to_contain_text("a link to reset its password")

    visitor.goto(_link_emailed_to(e2e_environment, account.email, "/reset-password"))
    visitor.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    visitor.get_by_role("button", name="Set new password").click()
    expect(visitor.get_by_role("status")).to_contain_text("signed out everywhere")

    _is_sent_to_sign_in_at_its_next_action(other, app_url)
    _is_sent_to_sign_in_at_its_next_action(page, app_url)

    sign_in(visitor, app_url, account.email, account.password)
    expect(visitor.get_by_role("alert")).to_contain_text("Wrong email or password.")
    sign_in(visitor, app_url, account.email, NEW_PASSWORD)
    visitor.wait_for_url(f"{app_url}/app**")
    expect(visitor.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def test_profile_changes_the_password_and_keeps_only_this_session(
    browser: Browser, page: Page, app_url: str
) -> None:
    account = sign_up(page, app_url)
    other = _signed_in_elsewhere(browser, app_url, account.email, account.password)

    page.get_by_role("link", name="Profile").first.click()
    page.wait_for_url(f"{app_url}/app/profile")
    page.get_by_label("Current password", exact=True).fill(account.password)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("other sessions were signed out")

    _is_sent_to_sign_in_at_its_next_action(other, app_url)
    page.get_by_role("link", name="Campaigns").first.click()
    page.wait_for_url(f"{app_url}/app/campaigns")
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()


def test_profile_changes_the_email_through_a_link_to_the_new_address(
    page: Page, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    account = sign_up(page, app_url)
    new_email = "moved-" + account.email
    page.goto(f"{app_url}/app/profile")
    page.get_by_label("New email", exact=True).fill(new_email)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_role("status")).to_contain_text(f"We sent a link to {new_email}")

    page.goto(_link_emailed_to(e2e_environment, new_email, "/confirm-email"))
    expect(page.get_by_text(f"New email: {new_email}")).to_be_visible()
    page.get_by_role("button", name="Confirm new email").click()
    expect(page.get_by_role("status")).to_contain_text(f"Your email is now {new_email}")
    # The old address is told; from now on the account signs in with the new one.
    notice = _message_to(e2e_environment, account.email, "was changed to")
    assert new_email in notice

    _, fresh = new_page(page.context.browser)
    sign_in(fresh, app_url, new_email, account.password)
    fresh.wait_for_url(f"{app_url}/app**")
    expect(fresh.get_by_role("heading", name="Overview", level=1)).to_be_visible()
