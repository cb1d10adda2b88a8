"""Analytics in the built app: a creator's collected numbers on the Analytics page and the
Overview, the per-video panel, and the CSV download clicked in the browser (signed out: sign in).

The numbers are rows the collector would have written (tests/domain/test_analytics.py covers
the collector against the Instagram fake); here they are put in the database directly.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, create_engine, select

from tests.e2e.conftest import new_page, sign_up
from viralshorts.models import (
    Campaign,
    Membership,
    Platform,
    Post,
    PostStatus,
    SocialAccount,
    User,
    Video,
    VideoAnalytics,
    VideoStatus,
)

pytestmark = pytest.mark.e2e


def _seed_numbers(database_url: str, email: str) -> None:
    """One campaign, one video posted to Instagram, its views yesterday (40) and today (100)."""
    engine = create_engine(database_url)
    today = datetime.now(UTC).date()
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            workspace_id = session.exec(
                select(Membership.workspace_id).where(Membership.user_id == user.id)
            ).first()
            campaign = Campaign(workspace_id=workspace_id, user_id=user.id, name="Owl facts",
                                niche="owls")  # fmt: skip
            account = SocialAccount(workspace_id=workspace_id, user_id=user.id,
                                    platform=Platform.INSTAGRAM, external_id="1784",
                                    display_name="owl_reels")  # fmt: skip
            session.add_all([campaign, account])
            session.flush()
            # READY, as a posted video is (a QUEUED one would be rendered by the e2e worker).
            video = Video(workspace_id=workspace_id, user_id=user.id, campaign_id=campaign.id,
                          topic="owls", title="Why owls turn their heads",
                          status=VideoStatus.READY)  # fmt: skip
            session.add(video)
            session.flush()
            post = Post(video_id=video.id, social_account_id=account.id,
                        status=PostStatus.PUBLISHED, external_id="1789",
                        external_url="https://www.instagram.com/reel/owl/",
                        idempotency_key=secrets.token_hex(16))  # fmt: skip
            session.add(post)
            session.flush()
            for day, views in ((today - timedelta(days=1), 40), (today, 100)):
                session.add(VideoAnalytics(video_id=video.id, post_id=post.id, date=day,
                                           views=views, likes=views // 10))  # fmt: skip
            session.commit()
    finally:
        engine.dispose()


def test_a_creator_sees_their_numbers_and_downloads_them_as_csv(
    browser: Browser, app_url: str, e2e_database_url: str
) -> None:
    context, page = new_page(browser)
    try:
        account = sign_up(page, app_url)
        _seed_numbers(e2e_database_url, account.email)
        page.goto(f"{app_url}/app")
        numbers = page.get_by_label("Published posts, all time")
        expect(numbers.get_by_label("Views")).to_have_text("100")

        page.goto(f"{app_url}/app/analytics")
        expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
        expect(page.get_by_label("Views", exact=True).first).to_have_text("100")
        chart = page.get_by_role("img", name="Views per day by platform")
        expect(chart.locator("svg").first).to_be_visible()
        expect(page.get_by_role("table", name="Top videos")).to_contain_text("Owl facts")

        page.get_by_role("button", name="Show the numbers of Why owls turn their heads").click()
        panel = page.get_by_role("region", name="Video numbers")
        expect(panel.get_by_role("link", name="Open the post")).to_have_attribute(
            "href", "https://www.instagram.com/reel/owl/"
        )

        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download CSV").click()
        download = downloading.value
        assert re.fullmatch(
            r"analytics-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.suggested_filename
        )
        rows = list(csv.reader(io.StringIO(download.path().read_text())))
        assert rows[0][:2] == ["date", "platform"]
        assert sorted(r[7] for r in rows[1:]) == ["100", "40"]
    finally:
        context.close()


def test_the_csv_link_signed_out_leads_to_sign_in(browser: Browser, app_url: str) -> None:
    context, page = new_page(browser)
    try:
        page.goto(f"{app_url}/api/analytics/export.csv")
        page.wait_for_url(re.compile(r"/sign-in/?\?next=%2Fapp%2Fanalytics$"))
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        context.close()
