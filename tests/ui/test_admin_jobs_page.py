"""The admin Queues page's handlers through Reflex's real event processor with a real session
cookie, on real PostgreSQL and Redis, with a render that really failed under an RQ worker:
inspect, retry, delete, forged arguments, non-admins refused and logged, and the live loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
from rq import Queue, SimpleWorker
from sqlmodel import Session, select

from tests.factories import new_campaign
from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain import videos
from viralshorts.domain.admin_jobs import NOT_A_JOB_ID, NOT_FAILED
from viralshorts.domain.audit import ADMIN_DENIED
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services, use_services
from viralshorts.models import AuditLog, Video, VideoStatus
from viralshorts.ui.admin_jobs import REFRESH_SECONDS, ROUTE, AdminJobsState
from viralshorts.ui.guards import BAD_REQUEST

FORGED = (3, None, True, ["render-1-1"], {"job_id": "x"}, "x" * 500)
# Opened from here the page's live loop ends at once (the tab is not on the Queues page), so
# a test's load returns; test_the_queues_refresh_live_while_the_page_is_open runs it on ROUTE.
ELSEWHERE = "/app/admin"


@pytest.fixture()
def services(use_database, use_redis) -> Iterator[Services]:
    built = build_services()
    use_services(built)
    yield built
    use_services(None)


def _failed_render(session: Session, services: Services, user_id: int) -> Video:
    """A creator's render that fails at the voice step under a real RQ worker."""
    campaign = new_campaign(session, user_id)
    request = VideoRequest(
        campaign_id=campaign.id, topic="Comets", target_seconds=15, facts="Comets are icy.\nTails."
    )
    [video] = videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )
    use_services(dataclasses.replace(services, speech={}))
    try:
        queue = Queue("render", connection=services.queue.connection)
        SimpleWorker([queue], connection=services.queue.connection).work(burst=True)
    finally:
        use_services(services)
    session.expire_all()
    failed = session.get(Video, video.id)
    assert failed.status == VideoStatus.FAILED
    return failed


async def test_an_admin_inspects_and_retries_a_failed_render(session, services) -> None:
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    video = _failed_render(session, services, creator_id)
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminJobsState, "load", ELSEWHERE)
        state = await tab.state(AdminJobsState)
        assert {q["name"]: q["failed"] for q in state.queues}["render"] == 1
        [row] = state.failed
        assert row["job_id"] == video.job_id and row["can_retry"]
        assert "is not available" in row["error"] and row["workspace"]
        await tab.send(AdminJobsState, "inspect", ROUTE, job_id=video.job_id)
        state = await tab.state(AdminJobsState)
        assert state.detail_open and "Traceback" in state.detail["traceback"]
        assert f'"video_id": {video.id}' in state.detail["meta"]
        await tab.send(AdminJobsState, "retry", ROUTE, job_id=video.job_id)
        state = await tab.state(AdminJobsState)
        assert state.error == "" and f"render-{video.id}-2" in state.notice
        assert state.failed == [] and not state.detail_open
        await tab.send(AdminJobsState, "retry", ROUTE, job_id=video.job_id)
        assert (await tab.state(AdminJobsState)).error == NOT_FAILED
    session.expire_all()
    again = session.get(Video, video.id)
    assert (again.status, again.job_id) == (VideoStatus.QUEUED, f"render-{video.id}-2")


async def test_delete_says_the_video_is_unchanged(session, services) -> None:
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    video = _failed_render(session, services, creator_id)
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminJobsState, "load", ELSEWHERE)
        await tab.send(AdminJobsState, "delete", ROUTE, job_id=video.job_id)
        state = await tab.state(AdminJobsState)
        assert "was not changed" in state.notice and state.failed == []
    session.expire_all()
    assert session.get(Video, video.id).status == VideoStatus.FAILED


async def test_delete_asks_first_and_keep_it_changes_nothing(session, services) -> None:
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    video = _failed_render(session, services, creator_id)
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminJobsState, "load", ELSEWHERE)
        await tab.send(AdminJobsState, "ask_delete", ROUTE, job_id=video.job_id)
        assert (await tab.state(AdminJobsState)).confirm_delete_id == video.job_id
        await tab.send(AdminJobsState, "keep_job", ROUTE)
        state = await tab.state(AdminJobsState)
        assert state.confirm_delete_id == "" and len(state.failed) == 1
        for forged in FORGED:
            await tab.send(AdminJobsState, "ask_delete", ROUTE, job_id=forged)
            assert (await tab.state(AdminJobsState)).confirm_delete_id == ""


async def test_forged_job_ids_get_a_message_and_change_nothing(session, services) -> None:
    creator_id, _ = signed_in_cookie(session, "maker@example.com")
    video = _failed_render(session, services, creator_id)
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        await tab.send(AdminJobsState, "load", ELSEWHERE)
        for handler in ("inspect", "retry", "delete"):
            for forged in FORGED:
                await tab.send(AdminJobsState, handler, ROUTE, job_id=forged)
                assert (await tab.state(AdminJobsState)).error == BAD_REQUEST, (handler, forged)
            await tab.send(AdminJobsState, handler, ROUTE, job_id="../../etc/passwd")
            assert (await tab.state(AdminJobsState)).error == NOT_A_JOB_ID
            await tab.send(AdminJobsState, handler, ROUTE, job_id="render-999-1")
            assert (await tab.state(AdminJobsState)).error == NOT_FAILED
        assert len((await tab.state(AdminJobsState)).failed) == 1
    session.expire_all()
    assert session.get(Video, video.id).status == VideoStatus.FAILED


async def test_a_creator_is_refused_every_admin_event_and_each_attempt_is_logged(
    session, services
) -> None:
    creator_id, cookie = signed_in_cookie(session, "maker@example.com")
    video = _failed_render(session, services, creator_id)
    async with open_tab(cookie) as tab:
        sent = await tab.send(AdminJobsState, "load", ELSEWHERE)
        assert "/app" in sent and (await tab.state(AdminJobsState)).queues == []
        for handler in ("inspect", "retry", "ask_delete", "delete"):
            sent = await tab.send(AdminJobsState, handler, ROUTE, job_id=video.job_id)
            assert "/app" in sent, handler
        assert (await tab.state(AdminJobsState)).confirm_delete_id == ""
        await tab.send(AdminJobsState, "watch_queues", ROUTE)
        assert (await tab.state(AdminJobsState))._watch_id == ""
    denied = session.exec(
        select(AuditLog).where(AuditLog.action == ADMIN_DENIED, AuditLog.user_id == creator_id)
    ).all()
    attempted = {row.details["attempted"].split()[0] for row in denied}
    assert attempted == {
        "AdminJobsState.load",
        "AdminJobsState.inspect",
        "AdminJobsState.retry",
        "AdminJobsState.ask_delete",
        "AdminJobsState.delete",
        "AdminJobsState.watch_queues",
    }
    session.expire_all()
    assert session.get(Video, video.id).status == VideoStatus.FAILED


async def test_the_queues_refresh_live_while_the_page_is_open(session, services) -> None:
    _, cookie = signed_in_cookie(session, "root@example.com", admin=True)
    async with open_tab(cookie) as tab:
        loop = asyncio.create_task(tab.send(AdminJobsState, "load", ROUTE))
        await _until(tab, lambda s: s._watch_id != "")
        assert {q["name"]: q["queued"] for q in (await tab.state(AdminJobsState)).queues} == {
            "default": 0,
            "publish": 0,
            "render": 0,
        }
        Queue("render", connection=services.queue.connection).enqueue("builtins.len", "abc")
        await _until(tab, lambda s: {q["name"]: q["queued"] for q in s.queues}["render"] == 1)
        assert not loop.done()
        await tab.send(AdminJobsState, "close_detail", "/app")  # the tab went to another page
        await asyncio.wait_for(loop, REFRESH_SECONDS * 3)
        assert (await tab.state(AdminJobsState))._watch_id == ""


async def _until(tab, predicate, timeout: float = REFRESH_SECONDS * 3) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate(await tab.state(AdminJobsState)):
        assert asyncio.get_running_loop().time() < deadline, "the page did not refresh"
        await asyncio.sleep(0.2)
