"""The video flow in a real browser against the production build and a real worker.

A campaign whose voices follow its language (only voices that work here) and whose look is
picked → one render (15 s, generated background, from the creator's facts: a topic alone is
asked for facts first, and nothing typed is lost) → live progress to 100 without a reload → its
thumbnail in the Videos grid (loaded through a signed URL, in the campaign's colours, and a link
to the video) → preview plays and seeks → title edit →
the three downloads (clicked, as a person does) → re-render with an edited script, whose new
video plays in the preview without a reload. Plus the upload of a renamed text file and of a
real clip (its card shows the preview frame), and another user (on a phone) who gets "Video not
found". Everything shares one browser.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PHONE, make_account, new_page, sign_up
from viralshorts.domain.rendering.looks import LOOKS
from viralshorts.integrations.espeak_tts import espeak_available

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RENDER_TIMEOUT_MS = 300_000
LOOK = "sunset"
TOPIC = "Why owls can turn their heads so far"
FACTS = (
    "Owls cannot move their eyes inside their sockets.\n"
    "An owl can turn its head 270 degrees.\n"
    "Extra blood vessels keep the blood flowing while the head turns."
)
NEW_TITLE = "Owls turn their heads 270 degrees"
NEW_HOOK = "An owl can look straight behind itself."
# What each download must start with (MP4 box type at offset 4, JPEG magic, the first SRT cue).
DOWNLOADS = (
    ("Download MP4", ".mp4", 4, b"ftyp"),
    ("Download thumbnail", ".jpg", 0, b"\xff\xd8\xff"),
    ("Download YouTube thumbnail (1280x720)", ".wide.jpg", 0, b"\xff\xd8\xff"),
    ("Download captions (.srt)", ".srt", 0, b"1\n00:00:"),
)

# Records every value a progress bar shows, so the test can prove the page updated live.
WATCH_PROGRESS_JS = """() => {
  window.__noReload = true;
  window.__seen = [];
  const record = () => document.querySelectorAll('[role=progressbar]').forEach(
    (bar) => window.__seen.push(Number(bar.getAttribute('aria-valuenow'))));
  record();
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'],
  });
}"""


def _upload_renamed_text_file(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/app/media")
    expect(page.get_by_role("heading", name="Media", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile(r"up to \d+ MB"))).to_be_visible()
    page.get_by_label("Upload media").set_input_files(
        files=[
            {
                "name": "holiday.mp4",
                "mimeType": "video/mp4",
                "buffer": b"These are my holiday notes, not a video.\n" * 50,
            }
        ]
    )
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("holiday.mp4")
    expect(page.get_by_role("button", name=re.compile(r"^Delete "))).to_have_count(0)


def _upload_a_clip_and_see_its_preview(page: Page, tmp_path: Path) -> None:
    clip = tmp_path / "forest.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "smptebars=size=640x360:rate=25:duration=2", "-pix_fmt", "yuv420p", str(clip)],
        check=True, timeout=60,
    )  # fmt: skip
    page.get_by_label("Upload media").set_input_files(str(clip))
    expect(page.get_by_role("status")).to_contain_text("Added forest.mp4")
    preview = page.get_by_role("img", name="Preview of forest.mp4")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 480", arg=preview.element_handle()
    )


def _option_values(page: Page, label: str) -> list[str]:
    return (
        page.get_by_label(label, exact=True)
        .locator("option")
        .evaluate_all("options => options.map((o) => o.value)")
    )


def _voices_follow_the_language(page: Page) -> None:
    """Only voices that work here, for the chosen language; the basic ones say so."""
    voice = page.get_by_label("Voice", exact=True)
    assert _option_values(page, "Voice") == ["piper:joe"]  # no OpenAI voice: none configured
    spanish = page.get_by_label("Language", exact=True).locator("option[value=es]")
    if not espeak_available():  # no voice speaks Spanish here: offered, but marked
        expect(spanish).to_be_disabled()
        expect(spanish).to_contain_text("Needs a voice that speaks Spanish")
        return
    page.get_by_label("Language", exact=True).select_option("es")
    expect(voice).to_have_value("espeak:es")
    assert all(v.startswith("espeak:es") for v in _option_values(page, "Voice"))
    expect(voice.locator("option").first).to_contain_text("basic offline voice")
    page.get_by_label("Language", exact=True).select_option("en")
    expect(voice).to_have_value("piper:joe")


def _create_campaign(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/app/campaigns/new")
    page.get_by_label("Name").fill("Owl facts")
    page.get_by_label("Niche").fill("Surprising facts about owls")
    _voices_follow_the_language(page)
    page.get_by_label("Background").select_option("generated")
    assert _option_values(page, "Look") == ["auto", *LOOKS]
    page.get_by_label("Look", exact=True).select_option(LOOK)  # the campaign's colours
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"/app/campaigns/\d+/?$"))
    expect(page.get_by_label("Look", exact=True)).to_have_value(LOOK)


def _request_one_video(page: Page, app_url: str) -> None:
    page.get_by_role("link", name="New video").click()
    page.wait_for_url(re.compile(r"/app/videos/new/?\?campaign=\d+"))
    expect(page.get_by_label("Campaign", exact=True)).to_have_value(re.compile(r"^\d+$"))
    page.get_by_label("Topic or brief").fill(TOPIC)
    cost = page.locator("#cost-line")
    page.get_by_label("Number of videos").fill("3")
    expect(cost).to_contain_text("3")
    page.get_by_label("Number of videos").fill("1")
    expect(cost).to_contain_text("1 video")
    page.get_by_label("Target length (seconds)").fill("15")
    page.get_by_label("Background").select_option("generated")
    page.get_by_label("Music").select_option("none")
    facts = page.get_by_label("Key facts or notes (one per line)")
    expect(facts).to_have_attribute("placeholder", re.compile(r"^Octopuses have three hearts\."))
    page.get_by_role("button", name="Generate videos").click()
    expect(page.locator("#facts-error")).to_contain_text("add two or more, one per line")
    expect(page.get_by_label("Topic or brief")).to_have_value(TOPIC)  # nothing typed is lost
    expect(page.get_by_label("Target length (seconds)")).to_have_value("15")
    facts.fill(FACTS)
    page.get_by_role("button", name="Generate videos").click()
    page.wait_for_url(re.compile(r"/app/videos/?$"))


def _watch_it_render(page: Page) -> None:
    bar = page.get_by_role("progressbar", name=re.compile(r"^Progress of "))
    expect(bar).to_have_count(1)
    page.evaluate(WATCH_PROGRESS_JS)
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=RENDER_TIMEOUT_MS)
    card = page.get_by_label(re.compile(r"^Video "))
    expect(card.get_by_text("Ready", exact=True).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator("h1")).to_have_count(1)
    expect(card.get_by_role("heading", level=2)).to_have_count(1)
    assert page.evaluate("window.__noReload") is True, "the page reloaded"
    seen = page.evaluate("window.__seen")
    assert any(0 < value < 100 for value in seen), f"no live progress between 0 and 100: {seen}"


def _look_votes(jpeg: bytes) -> dict[str, float]:
    """For each look, the share of the picture's pixels whose nearest look colour is its."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "-", "-vf", "scale=54:96", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        input=jpeg, capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    names, colours = [], []
    for name, look in LOOKS.items():
        for colour in (*look.background, look.card, look.accent):
            names.append(name)
            colours.append([int(colour[2 + 2 * i : 4 + 2 * i], 16) for i in range(3)])
    distance = np.abs(pixels[:, None, :] - np.array(colours)[None]).sum(axis=-1)
    nearest = np.array(names)[distance.argmin(axis=1)]
    return {name: float((nearest == name).mean()) for name in LOOKS}


def _thumbnail_in_the_grid(page: Page, app_url: str) -> None:
    """The finished video's tile is its thumbnail (a loaded JPEG, through a signed media
    URL, in the campaign's look) and opens the video."""
    thumbnail = page.get_by_role("img", name=re.compile(r"^Thumbnail of "))
    expect(thumbnail).to_have_count(1, timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    src = thumbnail.get_attribute("src") or ""
    assert re.fullmatch(r"/api/media/[^?]+\.jpg\?exp=\d+&sig=[^&]+", src), src
    response = page.request.get(urljoin(app_url, src))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    votes = _look_votes(response.body())
    assert max(votes, key=votes.__getitem__) == LOOK and votes[LOOK] > 0.5, votes
    forged = re.sub(r"sig=[^&]+", "sig=" + "0" * 43, src)
    assert page.request.get(urljoin(app_url, forged)).status == 403
    title = (thumbnail.get_attribute("alt") or "").removeprefix("Thumbnail of ")
    expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    thumbnail.click()
    page.wait_for_url(re.compile(r"/app/videos/\d+/?$"))
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.locator("video")).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    page.go_back()
    page.wait_for_url(re.compile(r"/app/videos/?$"))


def _preview_plays_and_seeks(page: Page) -> None:
    page.get_by_role("link", name="Open").click()
    page.wait_for_url(re.compile(r"/app/videos/\d+/?$"))
    video = page.locator("video")
    expect(video).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator("h1")).to_have_count(1)
    expect(video).to_have_attribute("preload", "metadata")
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=30_000)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("document.querySelector('video').currentTime > 0.5", timeout=30_000)
    video.evaluate("v => v.pause()")
    seeked = video.evaluate(
        """v => new Promise((done) => {
             v.addEventListener('seeked', () => done(v.currentTime), {once: true});
             v.currentTime = 5;
           })"""
    )
    assert abs(seeked - 5) < 0.5
    covered = video.evaluate(
        """v => [...Array(v.seekable.length).keys()].some(
             (i) => v.seekable.start(i) <= 5 && v.seekable.end(i) >= 5)"""
    )
    assert covered, "the seekable ranges do not cover 5 s"


def _edit_title_and_download(page: Page, app_url: str) -> str:
    page.get_by_label("Title", exact=True).fill(NEW_TITLE)
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Title", exact=True)).to_have_value(NEW_TITLE)
    href = page.get_by_role("link", name="Download MP4").get_attribute("href") or ""
    response = page.request.get(urljoin(app_url, href))
    assert response.status == 200
    assert response.headers["content-type"].startswith("video/mp4")
    assert response.body()[4:8] == b"ftyp"
    return page.url


def _download_all_three(page: Page) -> None:
    for name, suffix, offset, magic in DOWNLOADS:
        with page.expect_download() as info:
            page.get_by_role("link", name=name).click()
        download = info.value
        assert download.failure() is None, f"{name}: {download.failure()}"
        assert download.suggested_filename.endswith(suffix), download.suggested_filename
        data = download.path().read_bytes()[:64]
        assert data[offset : offset + len(magic)] == magic, f"{name} gave {data!r}"
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert re.search(r"/app/videos/\d+/?$", page.url), f"{name} navigated to {page.url}"


def _rerender_says_what_it_costs(page: Page) -> None:
    expect(page.locator("#rerender-cost")).to_contain_text("quota")


def _video_src(page: Page) -> str:
    return page.locator("video").evaluate("v => v.currentSrc || v.src")


def _rerender_and_play_without_reload(page: Page) -> None:
    old_src = _video_src(page)
    old_file = re.sub(r"\?.*$", "", old_src)
    page.evaluate("window.__noReload = true")
    page.get_by_label("Hook", exact=True).fill(NEW_HOOK)
    page.get_by_role("button", name="Re-render with this script").click()
    notice = page.get_by_text("Rendering again with your script.")
    expect(notice).to_be_visible()
    badge = page.get_by_text("Ready", exact=True).first
    expect(badge).to_have_count(0, timeout=30_000)
    expect(badge).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(notice).to_have_count(0)
    page.wait_for_function(
        "old => { const v = document.querySelector('video');"
        " return v && (v.currentSrc || v.src).split('?')[0] !== old; }",
        arg=old_file,
        timeout=30_000,
    )
    page.wait_for_function("document.querySelector('video').readyState >= 2", timeout=30_000)
    video = page.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("document.querySelector('video').currentTime > 0.5", timeout=30_000)
    assert page.evaluate("window.__noReload") is True, "the page reloaded"
    new_src = _video_src(page)
    response = page.request.get(new_src)
    assert response.status == 200, f"the new preview answers {response.status}"


def test_request_watch_preview_edit_and_download(
    browser: Browser, app_url: str, worker_process: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    context, page = new_page(browser)
    try:
        sign_up(page, app_url)
        _upload_renamed_text_file(page, app_url)
        _upload_a_clip_and_see_its_preview(page, tmp_path)
        _create_campaign(page, app_url)
        _request_one_video(page, app_url)
        _watch_it_render(page)
        _thumbnail_in_the_grid(page, app_url)
        _preview_plays_and_seeks(page)
        video_url = _edit_title_and_download(page, app_url)
        _download_all_three(page)
        _rerender_says_what_it_costs(page)
        _rerender_and_play_without_reload(page)
    finally:
        context.close()

    context, other = new_page(browser, PHONE)
    try:
        sign_up(other, app_url, make_account("intruder"))
        other.goto(video_url)
        expect(other.get_by_role("heading", name="Video not found")).to_be_visible()
        expect(other.locator("video")).to_have_count(0)
        _no_sideways_scroll(other)
        for path, heading in (("/app/videos", "Videos"), ("/app/media", "Media")):
            other.goto(f"{app_url}{path}")
            expect(other.get_by_role("heading", name=heading, level=1)).to_be_visible()
            _no_sideways_scroll(other)
    finally:
        context.close()


# The innermost elements that reach past the right edge, so a failure says what to fix.
WIDEST_JS = """() => {
  const edge = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll('body *')].filter(
    (el) => el.getBoundingClientRect().right > edge + 0.5);
  return out.filter((el) => !out.some((o) => o !== el && el.contains(o))).slice(0, 5).map(
    (el) => `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || '').slice(0, 40)}"`
      + ` right=${Math.round(el.getBoundingClientRect().right)}`);
}"""


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, (
        f"{page.url} scrolls sideways by {overflow}px on a phone: {page.evaluate(WIDEST_JS)}"
    )
