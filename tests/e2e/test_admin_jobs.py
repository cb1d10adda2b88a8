"""An admin retries a failed render from the admin page in a real browser, and the real worker
renders the video to READY on the retry.

The render fails for real in the worker: the video asks for a voice engine this site does not
have, so the voice step refuses it (a final error), RQ's failure callback marks the video FAILED
and the job sits in the render queue's FailedJobRegistry. The voice is then set to one that
exists (as an operator fixes a cause) and the admin retries from /app/admin/jobs.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from tests.e2e.conftest import VENV_BIN, E2EEnvironment, make_account, sign_in
from tests.factories import new_campaign, new_user
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import Video, VideoStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
RENDER_TIMEOUT_S = 300


@pytest.fixture()
def engine(e2e_environment: E2EEnvironment) -> Iterator[Engine]:
    engine = create_engine(e2e_environment.env["DATABASE_URL"])
    yield engine
    engine.dispose()


def _video(engine: Engine, video_id: int) -> Video:
    with Session(engine) as session:
        video = session.get(Video, video_id)
        assert video is not None
        return video


def _wait_for_status(engine: Engine, video_id: int, status: VideoStatus) -> Video:
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while time.monotonic() < deadline:
        video = _video(engine, video_id)
        if video.status == status:
            return video
        assert video.status in (VideoStatus.QUEUED, VideoStatus.RUNNING), video.error
        time.sleep(1)
    raise AssertionError(f"video {video_id} did not become {status}")


def _waiting_video(engine: Engine, voice: str) -> int:
    """A creator's video waiting for the render queue (the worker's tick enqueues it)."""
    with Session(engine) as session:
        user = new_user(session, make_account().email)
        campaign = new_campaign(session, user.id)
        video = Video(
            workspace_id=personal_workspace_id(session, user.id),
            user_id=user.id,
            campaign_id=campaign.id,
            topic="Why the sea is salty",
            facts=["Rivers carry salt from rocks to the sea.", "Water leaves; the salt stays."],
            target_seconds=15,
            voice=voice,
        )
        session.add(video)
        session.commit()
        return video.id


def _set_voice(engine: Engine, video_id: int, voice: str) -> None:
    with Session(engine) as session:
        video = session.get(Video, video_id)
        video.voice = voice
        session.add(video)
        session.commit()


def _create_admin(env: E2EEnvironment) -> tuple[str, str]:
    admin = make_account("admin")
    command = [str(VENV_BIN / "python"), "-m", "viralshorts", "create-admin", admin.email]
    subprocess.run(
        [*command, "--password", admin.password], env=env.env, check=True, capture_output=True
    )
    return admin.email, admin.password


def test_an_admin_retries_a_failed_render_and_the_video_ends_ready(
    page: Page,
    app_url: str,
    e2e_environment: E2EEnvironment,
    worker_process: subprocess.Popen[bytes],
    engine: Engine,
) -> None:
    video_id = _waiting_video(engine, voice="nosuch:voice")
    failed = _wait_for_status(engine, video_id, VideoStatus.FAILED)
    assert "is not available" in failed.error
    _set_voice(engine, video_id, Video.model_fields["voice"].default)

    sign_in(page, app_url, *_create_admin(e2e_environment))
    page.wait_for_url(f"{app_url}/app**")
    page.goto(f"{app_url}/app/admin/jobs")
    expect(page.get_by_role("navigation", name="Admin sections")).to_be_visible()
    failed_jobs = page.get_by_role("region", name="Failed jobs")
    job_id = f"render-{video_id}-1"
    row = failed_jobs.get_by_role("row", name=job_id)
    expect(row).to_contain_text("is not available")
    expect(row).to_contain_text(f"video {video_id}")
    page.get_by_role("button", name=f"Inspect {job_id}").click()
    expect(page.get_by_label("Traceback")).to_contain_text("ValidationError")
    page.get_by_role("button", name="Close").click()

    page.get_by_role("button", name=f"Retry {job_id}").click()
    expect(page.get_by_role("status").filter(has_text="back in line")).to_contain_text(
        f"render-{video_id}-2"
    )
    expect(page.get_by_test_id("no-failed-jobs")).to_be_visible()
    done = _wait_for_status(engine, video_id, VideoStatus.READY)
    assert (done.attempts, done.job_id) == (2, f"render-{video_id}-2")
    # The live loop shows the queues as they are now: nothing waits or runs any more.
    render_row = page.get_by_role("region", name="Queues").get_by_role("row", name="render")
    expect(render_row.get_by_test_id("queue-started")).to_have_text("0", timeout=20_000)
    expect(page.get_by_role("region", name="Workers")).to_contain_text(
        re.compile(r"publish.*render.*default")  # the worker's order: due posts first
    )
