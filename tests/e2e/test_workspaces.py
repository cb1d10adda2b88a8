"""Workspaces in a real browser: an owner invites an editor by email, the editor signs up through
the link, joins and sees the owner's campaign; removed, the editor's open tab is sent out of the
workspace at its next action and creates nothing there.

The app runs with no SMTP server, so the invitation lands as an ``.eml`` file in the outbox
beside MEDIA_ROOT; the test reads the link from there.
"""

from __future__ import annotations

import re
import subprocess
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import Account, E2EEnvironment, make_account, new_page, sign_up
from tests.e2e.test_videos import _request_one_video, _watch_it_render

pytestmark = pytest.mark.e2e
CAMPAIGN = "Owl facts"
FORGED = "A viewer's campaign"
CAMPAIGNS_NAMED = "SELECT count(*) FROM campaigns WHERE name = :name"


def _invitation_link(env: E2EEnvironment, to: str) -> str:
    """The /invite link in the newest message to ``to`` (polled: the app may send late)."""
    outbox = Path(env.env["MEDIA_ROOT"]).parent / "outbox"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for eml in sorted(outbox.glob("*.eml"), reverse=True):
            message = message_from_bytes(eml.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"/invite\?token=[\w\-%.~]+", body)
            if message["To"] == to and found:
                return env.base_url + found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no invitation to {to} in {outbox}")


def _campaigns_named(database_url: str, name: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(CAMPAIGNS_NAMED), {"name": name}).scalar_one()
    finally:
        engine.dispose()


def _create_campaign(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/app/campaigns/new")
    page.get_by_label("Name").fill(CAMPAIGN)
    page.get_by_label("Niche").fill("Surprising facts about owls")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))


def _invite(page: Page, app_url: str, email: str, role: str = "editor") -> None:
    page.get_by_role("link", name="Workspace", exact=True).click()
    page.wait_for_url(f"{app_url}/app/workspace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role", exact=True).select_option(role)
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Invitation sent by email")).to_be_visible()
    expect(page.locator("#invite-link")).to_contain_text("/invite?token=")
    expect(page.get_by_test_id("invitation")).to_contain_text(email)


def _sign_up_through(
    page: Page, link: str, workspace: str, editor: Account, role: str = "editor"
) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Join {workspace}", level=1)).to_be_visible()
    expect(page.get_by_text(f"You are invited as {role}")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url(re.compile(r"/sign-up/?\?next="))
    page.get_by_label("Name").fill(editor.name)
    page.get_by_label("Email").fill(editor.email)
    page.get_by_label("Password").fill(editor.password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/invite/?\?token="))


def _joined_editor(
    browser: Browser, page: Page, app_url: str, env: E2EEnvironment
) -> tuple[Page, str]:
    """The owner (``page``) has a campaign and an editor who joined through the emailed link."""
    owner = sign_up(page, app_url, make_account("owner"))
    workspace = f"{owner.name}'s workspace"
    _create_campaign(page, app_url)
    editor = make_account("editor")
    _invite(page, app_url, editor.email)
    _, tab = new_page(browser)
    _sign_up_through(tab, _invitation_link(env, editor.email), workspace, editor)
    tab.get_by_role("button", name=f"Join {workspace}").click()
    tab.wait_for_url(re.compile(r"/app/?$"))
    return tab, workspace


def test_invite_join_see_the_campaign_and_lose_access_when_removed(
    browser: Browser, page: Page, app_url: str, e2e_environment: E2EEnvironment
) -> None:
    owner = sign_up(page, app_url, make_account("owner"))
    workspace = f"{owner.name}'s workspace"
    expect(page.get_by_role("button", name=re.compile("^Workspace: ")).first).to_contain_text(
        workspace
    )
    _create_campaign(page, app_url)

    _, tab = new_page(browser)
    editor = make_account("editor")
    _invite(page, app_url, editor.email)
    link = _invitation_link(e2e_environment, editor.email)
    assert link == page.locator("#invite-link").inner_text().strip()

    _sign_up_through(tab, link, workspace, editor)
    tab.get_by_role("button", name=f"Join {workspace}").click()
    tab.wait_for_url(re.compile(r"/app/?$"))
    switcher = tab.get_by_role("button", name=re.compile("^Workspace: ")).first
    expect(switcher).to_contain_text(workspace)
    tab.get_by_role("link", name="Campaigns").first.click()
    expect(tab.get_by_role("heading", name=CAMPAIGN)).to_be_visible()

    # The editor starts a campaign while the owner removes them.
    tab.goto(f"{app_url}/app/campaigns/new")
    tab.get_by_label("Name").fill("Not yours any more")
    tab.get_by_label("Niche").fill("Anything")
    page.reload()
    page.get_by_role("button", name=f"Remove {editor.email}").click()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Member removed.")).to_be_visible()
    expect(page.get_by_test_id("member")).to_have_count(1)

    tab.get_by_role("button", name="Create campaign").click()
    tab.wait_for_url(re.compile(r"/app/?$"))
    expect(switcher).not_to_contain_text(workspace)
    page.get_by_role("link", name="Campaigns").first.click()
    expect(page.get_by_role("heading", name=CAMPAIGN)).to_be_visible()
    expect(page.get_by_role("heading", name="Not yours any more")).to_have_count(0)


def _create_controls(page: Page) -> dict[str, int]:
    """How many create/upload controls each list page shows (waiting for each page's content)."""
    counts = {}
    page.get_by_role("link", name="Campaigns").first.click()
    expect(page.get_by_role("heading", name=CAMPAIGN)).to_be_visible()
    counts["campaign"] = page.get_by_role("button", name="New campaign").count()
    page.get_by_role("link", name="Videos").first.click()
    expect(page.get_by_text("Filter by campaign")).to_be_visible()
    counts["video"] = page.get_by_role("button", name="New video").count()
    page.get_by_role("link", name="Media").first.click()
    expect(page.get_by_role("heading", name="No media yet")).to_be_visible()
    counts["upload"] = page.get_by_text("Upload media").count()
    return counts


def test_a_viewer_sees_no_create_controls_and_a_forged_create_is_refused(
    browser: Browser,
    page: Page,
    app_url: str,
    e2e_environment: E2EEnvironment,
    e2e_database_url: str,
) -> None:
    owner = sign_up(page, app_url, make_account("owner"))
    workspace = f"{owner.name}'s workspace"
    _create_campaign(page, app_url)
    # The same selectors find the controls for the owner: their absence below means something.
    assert _create_controls(page) == {"campaign": 1, "video": 1, "upload": 1}
    viewer = make_account("viewer")
    _invite(page, app_url, viewer.email, role="viewer")
    _, tab = new_page(browser)
    link = _invitation_link(e2e_environment, viewer.email)
    _sign_up_through(tab, link, workspace, viewer, role="viewer")
    tab.get_by_role("button", name=f"Join {workspace}").click()
    tab.wait_for_url(re.compile(r"/app/?$"))

    assert _create_controls(tab) == {"campaign": 0, "video": 0, "upload": 0}
    tab.get_by_role("link", name="Campaigns").first.click()
    tab.get_by_role("heading", name=CAMPAIGN).click()
    tab.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))
    expect(tab.get_by_label("Name")).to_have_value(CAMPAIGN)

    # The creation form is still reachable by its URL; its save event is refused by the domain.
    tab.goto(f"{app_url}/app/campaigns/new")
    tab.get_by_label("Name").fill(FORGED)
    tab.get_by_label("Niche").fill("Anything")
    tab.get_by_role("button", name="Create campaign").click()
    expect(tab.get_by_text("(viewer) does not allow changing campaigns")).to_be_visible()
    expect(tab).to_have_url(re.compile(r"/app/campaigns/new/?$"))
    assert _campaigns_named(e2e_database_url, FORGED) == 0


@pytest.mark.slow
def test_the_owner_watches_the_editors_render_progress_live(
    browser: Browser,
    page: Page,
    app_url: str,
    e2e_environment: E2EEnvironment,
    worker_process: subprocess.Popen[bytes],
) -> None:
    tab, _ = _joined_editor(browser, page, app_url, e2e_environment)
    tab.get_by_role("link", name="Campaigns").first.click()
    tab.get_by_role("heading", name=CAMPAIGN).click()
    tab.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))
    _request_one_video(tab, app_url)
    page.goto(f"{app_url}/app/videos")
    _watch_it_render(page)  # the owner's page, live, with no reload
