"""The publishing loop (issue 9) in the built app, with the real worker and the sandbox fakes.

A creator on the Free plan connects a TikTok account through the fake's consent page (a second
account, a YouTube channel, is refused before its consent page: no free slot), opens a ready
video and, on its Publish
panel (the account labelled "sandbox"), is first told that TikTok needs a privacy, then
publishes now and schedules a second post for tomorrow. On the calendar that post is Scheduled;
moved to the current minute, the dispatcher (``python -m viralshorts dispatch-due`` or the
worker's ticker) sends it to the worker, which uploads it through TikTok's real protocol like
the first. Both show Published with their links, and each link opens the fake TikTok's page of
that post. ``collect-analytics`` then reads the fake's counters (which grow with time), and the
Analytics page shows exactly what was read. A second creator posts to Instagram (whose fake
fetches the video from the app's signed URL), frees Free's one slot by disconnecting it, and
posts to YouTube (a resumable upload); both links open the fakes' pages.

The ready video is a real 4 s 1080x1920 H.264/AAC file made by ffmpeg and put in the app's
storage (tests/e2e/test_videos.py covers rendering one through the page).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlmodel import Session, col, create_engine, select

from tests.e2e.conftest import VENV_BIN, E2EEnvironment, new_page, sign_up
from tests.fakes.sandbox import Sandbox
from viralshorts.integrations.storage_local import LocalStorage
from viralshorts.models import (
    Campaign,
    Membership,
    Post,
    User,
    Video,
    VideoAnalytics,
    VideoStatus,
)
from viralshorts.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e

TITLE = "Why octopuses have three hearts"
ACCOUNT = "TikTok · Sandbox Creator"
CHIP = f"{TITLE} on TikTok"
SANDBOX = "sandbox account"  # the badge's label wherever a sandbox account shows
SECONDS = 4.0
PUBLISH_TIMEOUT_S = 90


def _make_mp4(path: Path) -> None:
    """A short vertical clip in the render's format (1080x1920, H.264 High + AAC)."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1080x1920:rate=30:duration={SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)],
        check=True, timeout=120,
    )  # fmt: skip


def _seed_ready_video(env: E2EEnvironment, email: str, tmp_path: Path) -> int:
    """A READY video of the user's workspace whose MP4 is in the app's storage; its id."""
    source = tmp_path / "octopus.mp4"
    _make_mp4(source)
    storage = LocalStorage(Settings(media_root=Path(env.env["MEDIA_ROOT"])))
    engine = create_engine(env.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            workspace_id = session.exec(
                select(Membership.workspace_id).where(Membership.user_id == user.id)
            ).one()
            campaign = Campaign(workspace_id=workspace_id, user_id=user.id, name="Sea facts",
                                niche="sea life")  # fmt: skip
            session.add(campaign)
            session.flush()
            video = Video(workspace_id=workspace_id, user_id=user.id, campaign_id=campaign.id,
                          topic=TITLE, title=TITLE, description="Two pump blood to the gills.",
                          hashtags=["octopus", "facts"], status=VideoStatus.READY,
                          duration_seconds=SECONDS, size_bytes=source.stat().st_size)  # fmt: skip
            session.add(video)
            session.flush()
            video.video_key = f"videos/{user.id}/{video.id}/render.mp4"
            storage.put_file(video.video_key, source, "video/mp4")
            session.commit()
            return video.id or 0
    finally:
        engine.dispose()


def _connect(page: Page, app_url: str, platform: str, name: str) -> None:
    """Connect ``platform`` through its fake's consent page; it is listed as sandbox."""
    page.goto(f"{app_url}/app/accounts")
    page.get_by_role("button", name=f"Connect {platform}").click()
    page.get_by_text("Allow", exact=True).click()  # a button on some fakes, a link on others
    page.wait_for_url(re.compile(r".*/app/accounts/?\?connected=\d+"))
    expect(page.get_by_role("status")).to_contain_text(f"Connected {name}.")
    row = page.get_by_test_id("account-row").filter(has_text=name)
    expect(row.get_by_label("sandbox account")).to_have_text("sandbox")


def _second_account_is_refused(page: Page, app_url: str) -> None:
    """Free has one account slot, taken by TikTok: connecting YouTube comes back before the
    consent page, and the page says why."""
    page.goto(f"{app_url}/app/accounts")
    page.get_by_role("button", name="Connect YouTube").click()
    page.wait_for_url(re.compile(r".*/app/accounts/?\?error=account_limit"))
    expect(page.get_by_role("alert")).to_contain_text("no free account slot")
    expect(page.get_by_test_id("account-row")).to_have_count(1)


def _choose(page: Page, label: str) -> None:
    """Tick the account whose label starts with ``label`` (it carries the sandbox badge)."""
    choice = page.get_by_label(re.compile(f"^{re.escape(label)}"))
    expect(choice.locator("xpath=..").get_by_label(SANDBOX)).to_have_text("sandbox")
    choice.click()  # not check(): the box is ticked once the server answers, not at the click
    expect(choice).to_be_checked()


def _publish_now_and_schedule(page: Page, app_url: str, video_id: int) -> None:
    page.goto(f"{app_url}/app/videos/{video_id}")
    expect(page.get_by_role("heading", name="Publish", level=3)).to_be_visible()
    _choose(page, ACCOUNT)
    page.get_by_role("button", name="Publish", exact=True).click()
    refusal = page.get_by_role("alert", name="Not accepted yet")
    expect(refusal).to_contain_text("TikTok · Sandbox Creator: Choose who can see this post.")

    page.get_by_label("Who can see it").select_option("PUBLIC_TO_EVERYONE")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="post(s)")).to_have_text(
        "Publishing 1 post(s) now."
    )
    expect(refusal).to_have_count(0)

    _choose(page, ACCOUNT)
    expect(page.get_by_label("Who can see it")).to_have_value("PUBLIC_TO_EVERYONE")  # kept
    page.get_by_label("Who can see it").select_option("SELF_ONLY")
    schedule = page.get_by_role("radio", name="At a time")
    schedule.click()
    expect(schedule).to_be_checked()
    tomorrow = f"{(datetime.now(UTC) + timedelta(days=1)):%Y-%m-%d}T09:00"
    page.get_by_label("Publish at (UTC)").fill(tomorrow)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="post(s)")).to_have_text(
        f"Scheduled 1 post(s) for {tomorrow.replace('T', ' ')} (UTC)."
    )
    expect(page.get_by_test_id("video-post").get_by_label(SANDBOX)).to_have_count(2)


def _this_minute() -> str:
    """The current local (UTC) minute: due at once, and not yet refused as past (the app
    refuses times more than a minute ago; near a minute's end, wait for the next)."""
    now = datetime.now(UTC)
    if now.second >= 50:
        time.sleep(60.5 - now.second - now.microsecond / 1e6)
        now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M}"


def _selected_card(page: Page) -> Locator:
    return page.get_by_role("heading", name=TITLE, level=3).locator("xpath=..")


def _move_the_scheduled_post_to_now(page: Page, app_url: str, env: E2EEnvironment) -> None:
    page.goto(f"{app_url}/app/calendar")
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()
    page.get_by_role("radio", name="List").click()  # tomorrow may be in next week
    chips = page.get_by_test_id("calendar-post")
    expect(chips).to_have_count(2)
    expect(chips.get_by_label(SANDBOX)).to_have_count(2)
    scheduled = page.locator("[data-testid=calendar-post][data-status=scheduled]")
    expect(scheduled).to_contain_text("Scheduled")
    scheduled.get_by_role("button", name=CHIP).click()
    expect(_selected_card(page)).to_contain_text("Scheduled")
    expect(_selected_card(page).get_by_label(SANDBOX)).to_be_visible()
    when = _this_minute()
    page.get_by_label("Move to").fill(when)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Moved.")).to_be_visible()
    _cli(env, "dispatch-due")  # the worker's ticker may have claimed it first: either runs it


def _cli(env: E2EEnvironment, command: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "viralshorts", command], check=False,
        cwd=PROJECT_ROOT, env=env.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_until_published(page: Page, chips: int) -> None:
    """Reload the calendar until ``chips`` posts show Published (the worker is uploading)."""
    published = page.locator("[data-testid=calendar-post][data-status=published]")
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while published.count() < chips and time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        page.get_by_role("button", name="Today").click()  # reloads this view's posts
    expect(published).to_have_count(chips)


def _follow(context: BrowserContext, click: Callable[[], None], site: str, title: str) -> str:
    """Click a link that opens a new tab; check it is the fake platform's page of the video."""
    with context.expect_page() as opening:
        click()
    tab = opening.value
    tab.wait_for_load_state()
    assert tab.url.startswith(site), tab.url
    expect(tab).to_have_title(re.compile(re.escape(title)))
    expect(tab.get_by_text(re.compile("unavailable"))).to_have_count(0)
    url = tab.url
    tab.close()
    assert context.request.get(url).status == 200, url
    return url


def _check_live_links(page: Page, context: BrowserContext, sandbox: Sandbox) -> set[str]:
    """Each published chip's "Live video" link, and the selected post's, open the fake's page."""
    site = (sandbox.fakes["tiktok"].base_url, "TikTok (sandbox)")
    chips = page.get_by_test_id("calendar-post")
    urls = {_follow(context, chip.get_by_role("link", name="Live video").click, *site)
            for chip in chips.all()}  # fmt: skip
    assert len(urls) == 2, urls  # two posts, two videos on TikTok
    chips.first.get_by_role("button", name=CHIP).click()
    expect(_selected_card(page)).to_contain_text("Published")
    expect(_selected_card(page).get_by_label(SANDBOX)).to_be_visible()
    expect(_selected_card(page).get_by_role("button", name="Move")).to_have_count(0)
    live = _selected_card(page).get_by_role("link", name="Open the live video")
    assert _follow(context, live.click, *site) in urls
    return urls


def _check_the_bell(page: Page, app_url: str) -> None:
    """Each published post told the workspace; the message leads to the calendar."""
    page.goto(f"{app_url}/app")
    page.get_by_role("button", name="Notifications, 2 unread").click()
    box = page.get_by_role("dialog", name="Notifications")
    live = box.get_by_test_id("notification").filter(has_text=f"“{TITLE}” is live")
    expect(live).to_have_count(2)
    live.first.get_by_role("link", name=f"“{TITLE}” is live").click()
    page.wait_for_url(re.compile(r"/app/calendar/?$"))
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()
    page.get_by_role("button", name="Notifications, 2 unread").click()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()


def _views_read(env: E2EEnvironment, video_id: int) -> dict[str, int]:
    """The views the collector stored today, by the post's external URL."""
    engine = create_engine(env.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(Post.external_url, VideoAnalytics.views)
                .join(VideoAnalytics, col(VideoAnalytics.post_id) == col(Post.id))
                .where(Post.video_id == video_id)
            ).all()
            return dict(rows)
    finally:
        engine.dispose()


def _counter_bounds(sandbox: Sandbox, before: float, after: float) -> dict[str, tuple[int, int]]:
    """What the fake TikTok's view counters said between ``before`` and ``after`` (they grow
    with time), by post id."""
    tiktok = sandbox.fakes["tiktok"].state
    return {
        post_id: (
            int((before - upload.completed_at) * tiktok.views_per_second) + 1,
            int((after - upload.completed_at) * tiktok.views_per_second) + 1,
        )
        for post_id, upload in tiktok.posts.items()
    }


def _collect_and_check(env: E2EEnvironment, sandbox: Sandbox, video_id: int) -> dict[str, int]:
    before = time.time()
    _cli(env, "collect-analytics")
    bounds = _counter_bounds(sandbox, before, time.time())
    views = _views_read(env, video_id)
    assert len(views) == 2, views
    for url, count in views.items():
        external_id = url.rstrip("/").rsplit("/", 1)[-1]
        low, high = bounds[external_id]
        assert low <= count <= high, (url, count, low, high)
    return views


def _check_analytics(page: Page, app_url: str, views: dict[str, int]) -> None:
    page.goto(f"{app_url}/app/analytics")
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    total = str(sum(views.values()))
    expect(page.get_by_label("Views", exact=True).first).to_have_text(total)
    top = page.get_by_role("table", name="Top videos")
    row = top.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Sea facts")
    expect(row.get_by_role("cell", name=total, exact=True).first).to_be_visible()
    page.get_by_role("button", name=f"Show the numbers of {TITLE}").click()
    panel = page.get_by_role("region", name="Video numbers")
    posts = panel.get_by_role("table", name="Posts of this video")
    for url, count in views.items():
        line = posts.get_by_role("row").filter(has=page.locator(f'a[href="{url}"]'))
        expect(line.get_by_role("cell", name=str(count), exact=True).first).to_be_visible()
        expect(line.get_by_label(SANDBOX)).to_have_text("sandbox")
    expect(panel.get_by_role("link", name="Open the post")).to_have_count(2)
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_have_count(0)


def test_a_creator_schedules_a_video_sees_it_published_with_its_link_and_its_views(
    app_url: str,
    browser: Browser,
    e2e_environment: E2EEnvironment,
    platform_sandbox: Sandbox,
    worker_process: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    context, page = new_page(browser)
    try:
        account = sign_up(page, app_url)
        _connect(page, app_url, "TikTok", "Sandbox Creator")
        _second_account_is_refused(page, app_url)
        video_id = _seed_ready_video(e2e_environment, account.email, tmp_path)
        _publish_now_and_schedule(page, app_url, video_id)
        _move_the_scheduled_post_to_now(page, app_url, e2e_environment)
        _wait_until_published(page, chips=2)
        urls = _check_live_links(page, context, platform_sandbox)
        _check_the_bell(page, app_url)

        page.goto(f"{app_url}/app/videos/{video_id}")  # the panel links to the same pages
        for link in page.get_by_test_id("video-post").get_by_role("link").all():
            assert link.get_attribute("href") in urls
        expect(page.get_by_role("link", name="Open the live video")).to_have_count(2)

        views = _collect_and_check(e2e_environment, platform_sandbox, video_id)
        assert set(views) == urls
        _check_analytics(page, app_url, views)
        page.goto(f"{app_url}/app")  # the Overview's lifetime totals are the same numbers
        overview = page.get_by_label("Published posts, all time")
        expect(overview.get_by_label("Views")).to_have_text(str(sum(views.values())))
    finally:
        context.close()


def _publish_now(page: Page, app_url: str, video_id: int, account: str) -> None:
    page.goto(f"{app_url}/app/videos/{video_id}")
    _choose(page, account)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="post(s)")).to_have_text(
        "Publishing 1 post(s) now."
    )


def _wait_for_live_link(page: Page, platform: str) -> Locator:
    """Reload the video page until its post on ``platform`` is published; its link."""
    line = page.get_by_test_id("video-post").filter(has_text=platform)
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while "Published" not in (line.text_content() or "") and time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        page.reload()
    expect(line).to_contain_text("Published")
    return line.get_by_role("link", name="Open the live video")


def _disconnect(page: Page, app_url: str, name: str) -> None:
    page.goto(f"{app_url}/app/accounts")
    row = page.get_by_test_id("account-row").filter(has_text=name)
    row.get_by_role("button", name=re.compile(f"^Disconnect .*{name}$")).click()
    row.get_by_role("group").get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Account disconnected.")
    expect(row).to_have_count(0)


def test_a_post_to_instagram_then_one_to_youtube_after_swapping_the_account(
    app_url: str,
    browser: Browser,
    e2e_environment: E2EEnvironment,
    platform_sandbox: Sandbox,
    worker_process: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    """Instagram fetches the video from the app's signed URL; YouTube takes a resumable upload.
    Free's one slot is freed by disconnecting, and the earlier post keeps its link."""
    context, page = new_page(browser)
    instagram = (platform_sandbox.fakes["instagram"].base_url, "Reel")
    youtube = (platform_sandbox.fakes["youtube"].base_url, f"{TITLE} - YouTube (sandbox)")
    try:
        account = sign_up(page, app_url)
        video_id = _seed_ready_video(e2e_environment, account.email, tmp_path)
        _connect(page, app_url, "Instagram", "sandbox_reels")
        _publish_now(page, app_url, video_id, "Instagram Reels · sandbox_reels")
        reel = _follow(context, _wait_for_live_link(page, "Instagram").click, *instagram)

        _disconnect(page, app_url, "sandbox_reels")
        _connect(page, app_url, "YouTube", "Sandbox Channel")
        _publish_now(page, app_url, video_id, "YouTube Shorts · Sandbox Channel")
        short = _follow(context, _wait_for_live_link(page, "YouTube").click, *youtube)
        assert "/shorts/" in short

        page.goto(f"{app_url}/app/calendar")
        links = page.get_by_test_id("calendar-post").get_by_role("link", name="Live video")
        expect(links).to_have_count(2)
        assert {link.get_attribute("href") for link in links.all()} == {reel, short}
    finally:
        context.close()
