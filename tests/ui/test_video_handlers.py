"""The video pages' event handlers as a forger calls them, through Reflex's real event processor.

Every handler is a public endpoint: the browser can send any JSON in any argument, from a tab
whose session ended. Real PostgreSQL and Redis; a real session cookie in the event's headers.
Exceptions are re-raised by the processor, so a traceback fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import reflex as rx
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event import Event
from reflex_base.event.processor import BaseStateEventProcessor

from tests.factories import make_creator
from tests.ui import reflex_app  # noqa: F401  (the App that toasts and the live loop need)
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session, end_session
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.espeak_tts import espeak_available
from viralshorts.integrations.services import build_services, get_services, use_services
from viralshorts.models import User, Video
from viralshorts.models.enums import RenderStep, VideoStatus
from viralshorts.settings import get_settings
from viralshorts.ui.guards import BAD_REQUEST
from viralshorts.ui.video_detail import VideoDetailState
from viralshorts.ui.video_new import NewVideoState
from viralshorts.ui.videos import VideosState

TOKEN = "forger-tab"
FORGED_IDS = ("²", "x", "1.5", 2**40, -3, True, None, [1], {"id": 1})


# These handlers end by starting the live-progress loop, which runs while the tab stays on the
# page: ``send`` returns once the handler's own update is out and leaves the loop running.
STARTS_LOOP = ("load_page", "retry", "rerender")
PAGE_STATES = (VideosState, VideoDetailState)


@dataclass
class Tab:
    processor: BaseStateEventProcessor
    manager: StateManagerMemory
    cookie: str
    loops: list[asyncio.Task] = field(default_factory=list)

    def _event(self, state: type[rx.State], handler: str, path: str, payload: dict) -> Event:
        router = {
            "pathname": path,
            "query": {},
            "asPath": path,
            "token": TOKEN,
            "headers": {"cookie": self.cookie},
        }
        return Event(name=f"{state.get_full_name()}.{handler}", payload=payload, router_data=router)

    async def send(self, state: type[rx.State], handler: str, path: str, **payload: Any) -> None:
        """Run one event to the end of its handler (a live loop it starts keeps running)."""
        stream = self.processor.enqueue_stream_delta(
            TOKEN, self._event(state, handler, path, payload)
        )
        if handler not in STARTS_LOOP or state not in PAGE_STATES:
            async for _ in stream:
                pass
            return
        before = (await self.state(state))._watch_id

        async def drain() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(drain())
        self.loops.append(task)
        # Done when the chain ended (no loop, or one was running already) or a new loop claimed.
        for _ in range(500):
            watch_id = (await self.state(state))._watch_id
            if task.done() or watch_id not in ("", before):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{handler} never finished")

    async def leave(self) -> None:
        """Go to another page: every live loop ends at its next tick."""
        for state in PAGE_STATES:
            await self.send(state, "keep_video", "/app/campaigns")
        await asyncio.wait_for(asyncio.gather(*self.loops), 10)

    async def state(self, state: type[rx.State]) -> Any:
        root = await self.manager.get_state(rx.BaseStateToken(ident=TOKEN, cls=state))
        return await root.get_state(state)


def _raise(exc: Exception) -> None:
    raise exc


def _sign_in(session, user_id: int) -> str:
    user = session.get(User, user_id)
    token = create_login_session(session, user=user, user_agent="pytest", ip="127.0.0.1")
    session.commit()
    return token


@contextlib.asynccontextmanager
async def _tab(token: str) -> AsyncIterator[Tab]:
    processor = BaseStateEventProcessor(
        backend_exception_handler=_raise, graceful_shutdown_timeout=1
    )
    manager = StateManagerMemory()
    processor.configure(state_manager=manager)
    async with processor:
        tab = Tab(processor, manager, f"{SESSION_COOKIE}={token}")
        try:
            yield tab
        finally:
            await tab.leave()


def _video(session, user_id: int, campaign_id: int, status: str, **values: Any) -> Video:
    video = Video(
        workspace_id=personal_workspace_id(session, user_id),
        user_id=user_id,
        campaign_id=campaign_id,
        topic="Owls",
        status=status,
        step=RenderStep.DONE if status == VideoStatus.READY else RenderStep.RENDER,
        progress=100 if status == VideoStatus.READY else 40,
        **values,
    )
    session.add(video)
    session.commit()
    return video


@pytest.fixture()
def creator(session, use_redis) -> tuple[int, int, str]:
    user_id, campaign_id = make_creator(session, "forger@example.com")
    return user_id, campaign_id, _sign_in(session, user_id)


async def test_list_actions_answer_forged_ids_with_a_message(session, creator) -> None:
    user_id, campaign_id, token = creator
    failed = _video(session, user_id, campaign_id, VideoStatus.FAILED, error="boom")
    async with _tab(token) as tab:
        for forged in FORGED_IDS:
            for handler in ("cancel", "retry", "ask_delete", "delete"):
                await tab.send(VideosState, handler, "/app/videos", video_id=forged)
                page = await tab.state(VideosState)
                if handler != "ask_delete":
                    assert page.action_error == BAD_REQUEST, (handler, forged)
                assert page.confirm_delete_id == 0
    session.refresh(failed)
    assert failed.status == VideoStatus.FAILED


async def test_filters_refuse_what_is_not_a_filter(session, creator) -> None:
    _, _, token = creator
    async with _tab(token) as tab:
        for value in ("²", "bogus", 2**40, ["ready"], "1; drop"):
            await tab.send(VideosState, "set_status_filter", "/app/videos", value=value)
            await tab.send(VideosState, "set_campaign_filter", "/app/videos", value=value)
            page = await tab.state(VideosState)
            assert (page.status_filter, page.campaign_filter) == ("", "")


async def test_list_filters_from_a_forged_url_show_everything(session, creator) -> None:
    user_id, campaign_id, token = creator
    _video(session, user_id, campaign_id, VideoStatus.READY)
    async with _tab(token) as tab:
        await tab.send(VideosState, "load_page", "/app/campaigns")  # leaves at once: not the page
        page = await tab.state(VideosState)
        assert len(page.rows) == 1


async def test_delete_from_the_list_takes_its_confirm_step(session, creator) -> None:
    user_id, campaign_id, token = creator
    ready = _video(session, user_id, campaign_id, VideoStatus.READY).id
    running = _video(session, user_id, campaign_id, VideoStatus.RUNNING).id
    async with _tab(token) as tab:
        await tab.send(VideosState, "delete", "/app/videos", video_id=ready)
        assert (await tab.state(VideosState)).action_error == BAD_REQUEST
        assert session.get(Video, ready, populate_existing=True) is not None

        await tab.send(VideosState, "ask_delete", "/app/videos", video_id=str(running))
        await tab.send(VideosState, "delete", "/app/videos", video_id=running)
        assert "Cancel this video" in (await tab.state(VideosState)).action_error

        await tab.send(VideosState, "ask_delete", "/app/videos", video_id=ready)
        await tab.send(VideosState, "delete", "/app/videos", video_id=ready)
        assert (await tab.state(VideosState)).action_error == ""
    session.expire_all()
    assert session.get(Video, ready) is None
    assert session.get(Video, running) is not None


async def test_another_users_video_gets_not_found_not_a_traceback(session, creator) -> None:
    _, _, token = creator
    other_id, other_campaign = make_creator(session, "owner@example.com")
    theirs = _video(session, other_id, other_campaign, VideoStatus.FAILED, title="Mine")
    path = f"/app/videos/{theirs.id}"
    async with _tab(token) as tab:
        await tab.send(VideoDetailState, "load_page", path)
        assert (await tab.state(VideoDetailState)).found is False
        await tab.send(VideoDetailState, "set_text", path, name="title", value="Stolen")
        for handler in ("save_details", "rerender", "retry", "ask_delete", "delete"):
            await tab.send(VideoDetailState, handler, path)
        page = await tab.state(VideoDetailState)
        assert "not yours" in page.action_error
        await tab.send(VideosState, "retry", "/app/videos", video_id=theirs.id)
        assert "not found" in (await tab.state(VideosState)).action_error.lower()
        await tab.send(VideosState, "ask_delete", "/app/videos", video_id=theirs.id)
        await tab.send(VideosState, "delete", "/app/videos", video_id=theirs.id)
        assert "not found" in (await tab.state(VideosState)).action_error.lower()
    session.refresh(theirs)
    assert (theirs.title, theirs.status) == ("Mine", VideoStatus.FAILED)


async def test_detail_page_of_a_forged_path_is_not_found(session, creator) -> None:
    _, _, token = creator
    async with _tab(token) as tab:
        for path in ("/app/videos/²", f"/app/videos/{2**40}", "/app/videos/-1"):
            await tab.send(VideoDetailState, "load_page", path)
            assert (await tab.state(VideoDetailState)).found is False, path


async def test_edit_fields_take_only_text(session, creator) -> None:
    user_id, campaign_id, token = creator
    video = _video(session, user_id, campaign_id, VideoStatus.READY, title="Owls")
    path = f"/app/videos/{video.id}"
    async with _tab(token) as tab:
        await tab.send(VideoDetailState, "load_page", path)
        for name, value in (("title", 5), ("title", ["x"]), ("_video_id", "1"), ("found", "x")):
            await tab.send(VideoDetailState, "set_text", path, name=name, value=value)
        page = await tab.state(VideoDetailState)
        assert (page.title, page._video_id, page.found) == ("Owls", video.id, True)


async def test_a_failed_video_can_be_retried_from_its_page(session, creator) -> None:
    user_id, campaign_id, token = creator
    failed = _video(session, user_id, campaign_id, VideoStatus.FAILED, error="boom")
    path = f"/app/videos/{failed.id}"
    async with _tab(token) as tab:
        await tab.send(VideoDetailState, "load_page", path)
        page = await tab.state(VideoDetailState)
        assert page.row["can_retry"] and page.row["can_delete"]
        await tab.send(VideoDetailState, "retry", path)
        page = await tab.state(VideoDetailState)
        assert page.action_error == ""
        assert page.row["status"] == VideoStatus.QUEUED
        assert not page.row["can_delete"]


async def test_delete_from_the_page_takes_its_confirm_step(session, creator) -> None:
    user_id, campaign_id, token = creator
    ready = _video(session, user_id, campaign_id, VideoStatus.READY).id
    path = f"/app/videos/{ready}"
    async with _tab(token) as tab:
        await tab.send(VideoDetailState, "load_page", path)
        await tab.send(VideoDetailState, "delete", path)
        assert (await tab.state(VideoDetailState)).action_error == BAD_REQUEST
        assert session.get(Video, ready, populate_existing=True) is not None
        await tab.send(VideoDetailState, "ask_delete", path)
        await tab.send(VideoDetailState, "delete", path)
        assert (await tab.state(VideoDetailState)).action_error == ""
    session.expire_all()
    assert session.get(Video, ready) is None


async def test_rerender_says_what_it_costs_and_warns_about_length(session, creator) -> None:
    user_id, campaign_id, token = creator
    script = {"hook": "Owls.", "lines": [{"text": "They hoot.", "keywords": []}]}
    video = _video(
        session, user_id, campaign_id, VideoStatus.READY, script=script, target_seconds=30
    )
    path = f"/app/videos/{video.id}"
    async with _tab(token) as tab:
        await tab.send(VideoDetailState, "load_page", path)
        page = await tab.state(VideoDetailState)
        assert "1 video of your quota" in page.cost_note
        assert "target is 30 s" in page.length_note  # "Owls. They hoot." is far too short
        long_lines = "\n".join(["Owls can turn their heads much further than we can."] * 12)
        await tab.send(VideoDetailState, "set_text", path, name="lines", value=long_lines)
        assert (await tab.state(VideoDetailState)).length_note == ""


async def test_a_session_ended_elsewhere_stops_every_action(session, creator) -> None:
    user_id, campaign_id, token = creator
    failed = _video(session, user_id, campaign_id, VideoStatus.FAILED, error="boom")
    async with _tab(token) as tab:
        await tab.send(VideosState, "load_page", "/app/videos")
        end_session(session, token, sessions=get_services().sessions)
        session.commit()
        await tab.send(VideosState, "retry", "/app/videos", video_id=failed.id)
        assert (await tab.state(VideosState)).action_error == ""
    session.refresh(failed)
    assert failed.status == VideoStatus.FAILED


def _form(campaign: int, **values: Any) -> dict[str, Any]:
    form = {
        "campaign_id": str(campaign),
        "topic": "Owls",
        "facts": "Owls cannot move their eyes.\nAn owl turns its head 270 degrees.",
        "custom_script": "",
        "count": "1",
        "target_seconds": "20",
        "language": "en",
        "voice": "piper:joe",
        "voice_speed": "1",
        "caption_style": "bold",
        "background_source": "generated",
        "music": "none",
    }
    return {**form, **values}


async def test_new_video_form_answers_forged_values_next_to_the_field(session, creator) -> None:
    _, campaign_id, token = creator
    path = "/app/videos/new"
    forged = {
        "count": "²",
        "target_seconds": "9" * 40,
        "voice_speed": "nan",
        "campaign_id": str(2**40),
    }
    async with _tab(token) as tab:
        await tab.send(NewVideoState, "load_page", path)
        await tab.send(NewVideoState, "submit", path, form_data=_form(campaign_id, **forged))
        page = await tab.state(NewVideoState)
        assert set(page.field_errors) == set(forged)
        for form_data in ("x", [1], _form(campaign_id, topic=["x"]), _form(campaign_id, count={})):
            await tab.send(NewVideoState, "submit", path, form_data=form_data)
            assert (await tab.state(NewVideoState)).quota_error == BAD_REQUEST
        for name, value in (("count", ["1"]), (["count"], "2"), ("count", True)):
            await tab.send(NewVideoState, "set_field", path, name=name, value=value)
        assert (await tab.state(NewVideoState)).form["count"] == "1"
    assert session.query(Video).count() == 0


async def test_new_video_form_offers_what_works_and_warns_about_length(session, creator) -> None:
    _, _, token = creator
    path = "/app/videos/new"
    async with _tab(token) as tab:
        await tab.send(NewVideoState, "load_page", path)
        page = await tab.state(NewVideoState)
        languages = {option["value"]: option for option in page.languages}
        assert "disabled" not in languages["en"]
        voices = [option["value"] for option in page.voices]
        assert voices[0] == "piper:joe"
        if espeak_available():  # every language has a basic offline voice
            assert not any("disabled" in option for option in page.languages)
            assert "espeak:es" in voices
        else:
            assert languages["es"]["disabled"] == "true"
            assert "has not turned on" in languages["es"]["label"]
        assert "nothing else is made up" in page.facts_hint
        script = " ".join(["Owls hoot at night and hunt in silence."] * 20)
        await tab.send(NewVideoState, "set_field", path, name="custom_script", value=script)
        assert "target is 30 s" in (await tab.state(NewVideoState)).length_note


class _UnreachableQueue:
    """A render queue that does not answer (Redis down)."""

    def enqueue_render(self, video_id: int, user_id: int, *, attempt: int = 1) -> str:
        raise ServiceUnavailableError("The render queue does not answer.", code="queue_down")

    def cancel(self, job_id: str) -> None:
        raise ServiceUnavailableError("The render queue does not answer.", code="queue_down")

    def is_alive(self, job_id: str) -> bool:
        return False


async def test_a_busy_queue_is_a_warning_and_the_saved_videos_stay(session, creator) -> None:
    _, campaign_id, token = creator
    services = build_services(get_settings())
    use_services(dataclasses.replace(services, queue=_UnreachableQueue()))
    path = "/app/videos/new"
    async with _tab(token) as tab:
        await tab.send(NewVideoState, "load_page", path)
        await tab.send(NewVideoState, "submit", path, form_data=_form(campaign_id))
        page = await tab.state(NewVideoState)
        assert (page.quota_error, page.field_errors, page.submitting) == ("", {}, False)
    assert session.query(Video).count() == 1
