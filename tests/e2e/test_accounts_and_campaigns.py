"""Whole-product flows in a real browser: accounts, the app shell and campaigns.

The rate-limit test is last on purpose: it makes repeated bad sign-ins.
"""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    PHONE,
    VENV_BIN,
    E2EEnvironment,
    make_account,
    new_page,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.e2e


def test_landing_page_explains_and_leads_to_sign_up(page: Page, app_url: str) -> None:
    page.goto(app_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("short-video channels")
    expect(page.get_by_role("heading", name="AI-written scripts")).to_be_visible()
    page.get_by_role("link", name="Get started").click()
    page.wait_for_url(f"{app_url}/sign-up")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()


def _csp_violations(page: Page) -> list[str]:
    """Every Content-Security-Policy report this page logs from now on (the list fills up)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return seen


def _headers(url: str, **extra: str) -> dict[str, str]:
    request = urllib.request.Request(url, headers=extra)
    with urllib.request.urlopen(request, timeout=10) as response:
        return {name.lower(): value for name, value in response.headers.items()}


@pytest.fixture()
def watched_page(page: Page) -> Iterator[tuple[Page, list[str]]]:
    violations = _csp_violations(page)
    yield page, violations
    assert violations == [], "\n".join(violations)


def test_built_pages_send_the_security_headers(app_url: str) -> None:
    for path in ("/", "/sign-in", "/app/videos", "/api/health"):
        headers = _headers(f"{app_url}{path}")
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "'unsafe-inline'" not in headers["content-security-policy"].split("; ")[1]
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
    foreign = _headers(f"{app_url}/api/health", Origin="https://evil.example")
    assert "access-control-allow-origin" not in foreign  # CORS only for PUBLIC_BASE_URL


def test_sign_in_and_up_pages_lead_home_and_show_one_length_message(
    watched_page: tuple[Page, list[str]], app_url: str
) -> None:
    page, _ = watched_page
    page.goto(f"{app_url}/sign-up")
    expect(page.get_by_text("At least 10 characters.")).to_be_visible()
    page.get_by_label("Name").fill("Short")
    page.get_by_label("Email").fill("short-password@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Use 10 to 128 characters.")).to_be_visible()
    expect(page.get_by_text("At least 10 characters.")).to_have_count(0)
    page.get_by_role("link", name="ViralShortsOps home").click()
    page.wait_for_url(f"{app_url}/")
    page.goto(f"{app_url}/sign-in")
    page.get_by_role("link", name="Back to home").click()
    page.wait_for_url(f"{app_url}/")


def test_sign_up_sign_out_and_sign_in(watched_page: tuple[Page, list[str]], app_url: str) -> None:
    page, _ = watched_page
    account = sign_up(page, app_url)
    expect(page.get_by_role("heading", name="Create your first campaign")).to_be_visible()
    expect(page.get_by_text(account.email)).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"^(?!.*/app).*$"))

    page.goto(f"{app_url}/app")
    page.wait_for_url(re.compile(r"/sign-in"))
    sign_in(page, app_url, account.email, account.password + "-wrong")
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password.")

    sign_in(page, app_url, account.email, account.password)
    page.wait_for_url(f"{app_url}/app**")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def _pick(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).select_option(label=option)


def _tick(page: Page, name: str) -> None:
    # The checkbox is controlled by server state, so it turns checked after a round trip.
    box = page.get_by_role("checkbox", name=name, exact=True)
    box.click()
    expect(box).to_be_checked()


def _fill_new_campaign(page: Page) -> None:
    page.get_by_label("Name").fill("Space facts daily")
    page.get_by_label("Niche").fill("Mind-blowing space facts for curious teens")
    _pick(page, "Tone", "Educational")
    _pick(page, "Caption style", "Karaoke (word by word)")
    _tick(page, "YouTube Shorts")
    _tick(page, "TikTok")
    _tick(page, "Mon")
    _tick(page, "Fri")
    page.get_by_label("Posting times").fill("09:00, 18:30")
    page.get_by_label("Timezone").fill("Europe/Berlin")


def _create_campaign(page: Page, app_url: str) -> str:
    page.goto(f"{app_url}/app/campaigns")
    page.get_by_role("link", name="New campaign").first.click()
    page.wait_for_url(f"{app_url}/app/campaigns/new")
    _fill_new_campaign(page)
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))
    expect(page.get_by_role("heading", name="Edit campaign", level=1)).to_be_visible()
    return page.url


def _edit_with_a_mistake_then_fix(page: Page) -> None:
    expect(page.get_by_label("Name")).to_have_value("Space facts daily")
    expect(page.get_by_role("checkbox", name="Fri")).to_be_checked()
    expect(page.get_by_label("Posting times")).to_have_value("09:00, 18:30")
    page.get_by_label("Posting times").fill("9am")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#times-error")).to_contain_text("is not a time")
    page.get_by_label("Posting times").fill("08:15")
    page.get_by_label("Name").fill("Space facts weekly")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.locator("#times-error")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Name")).to_have_value("Space facts weekly")
    expect(page.get_by_label("Posting times")).to_have_value("08:15")


def _archive_and_find_again(page: Page, app_url: str) -> None:
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    page.goto(f"{app_url}/app/campaigns")
    expect(page.get_by_label("Search campaigns")).to_be_visible()
    expect(page.get_by_text("Space facts weekly")).to_have_count(0)
    page.get_by_role("switch", name="Show archived").click()
    expect(page.get_by_text("Space facts weekly")).to_be_visible()
    page.get_by_label("Search campaigns").fill("nothing like this")
    expect(page.get_by_text("No campaigns match.")).to_be_visible()
    page.get_by_label("Search campaigns").fill("SPACE")
    expect(page.get_by_text("Space facts weekly")).to_be_visible()


def test_campaign_create_edit_archive_and_privacy(
    page: Page, browser: Browser, app_url: str
) -> None:
    sign_up(page, app_url)
    campaign_url = _create_campaign(page, app_url)
    expect(page.get_by_role("link", name="New video")).to_have_attribute(
        "href", re.compile(r"/app/videos/new\?campaign=\d+")
    )
    _edit_with_a_mistake_then_fix(page)
    _archive_and_find_again(page, app_url)
    page.goto(f"{app_url}/app")
    expect(page.get_by_role("heading", name="Archived campaigns")).to_have_text("1")
    expect(page.get_by_role("heading", name="Active campaigns")).to_have_text("0")

    context, other = new_page(browser)
    try:
        sign_up(other, app_url, make_account("intruder"))
        other.goto(campaign_url)
        expect(other.get_by_role("heading", name="Campaign not found", level=1)).to_be_visible()
        expect(other.get_by_label("Name")).to_have_count(0)
    finally:
        context.close()


def test_non_admin_is_sent_away_from_admin(page: Page, app_url: str) -> None:
    sign_up(page, app_url)
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(f"{app_url}/app/admin")
    page.wait_for_url(re.compile(r"/app/?$"))
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Users")).to_have_count(0)


def test_admin_sees_the_real_users_table(
    page: Page, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    creator = sign_up(page, app_url)
    page.context.clear_cookies()
    admin = make_account("admin")
    subprocess.run(
        [
            *(str(VENV_BIN / "python"), "-m", "viralshorts", "create-admin"),
            *(admin.email, "--password", admin.password),
        ],
        env=e2e_environment.env,
        check=True,
        capture_output=True,
    )
    sign_in(page, app_url, admin.email, admin.password)
    page.wait_for_url(f"{app_url}/app**")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url(f"{app_url}/app/admin")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    table = page.get_by_role("table").first  # the users; the workspaces table follows
    expect(table.get_by_role("row", name=re.compile(re.escape(creator.email)))).to_contain_text(
        "creator"
    )
    expect(table.get_by_role("row", name=re.compile(re.escape(admin.email)))).to_contain_text(
        "admin"
    )


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 375px wide"


def test_phone_layout_has_no_horizontal_scroll(browser: Browser, app_url: str) -> None:
    context, phone = new_page(browser, PHONE)
    try:
        phone.goto(app_url)
        _no_horizontal_scroll(phone)
        sign_up(phone, app_url)
        expect(phone.get_by_role("navigation", name="Main")).to_be_hidden()
        _no_horizontal_scroll(phone)
        phone.get_by_role("button", name="Open menu").click()
        phone.get_by_role("menuitem", name="Campaigns").click()
        phone.wait_for_url(f"{app_url}/app/campaigns")
        expect(phone.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
        _no_horizontal_scroll(phone)
        phone.goto(f"{app_url}/app/campaigns/new")
        expect(phone.get_by_role("button", name="Create campaign")).to_be_visible()
        _no_horizontal_scroll(phone)
    finally:
        context.close()


def test_repeated_bad_sign_ins_are_rate_limited(page: Page, browser: Browser, app_url: str) -> None:
    account = sign_up(page, app_url)
    context, stranger = new_page(browser)
    try:
        message = stranger.get_by_role("alert")
        for _ in range(12):
            sign_in(stranger, app_url, account.email, "not-the-password")
            expect(message).to_be_visible()
            if "Too many sign-in attempts" in (message.text_content() or ""):
                break
        expect(message).to_contain_text(re.compile(r"Too many sign-in attempts\. Try again in \d+"))
    finally:
        context.close()
