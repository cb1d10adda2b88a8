"""The live-progress loop of the video list, through Reflex's real event processor.

Real PostgreSQL and Redis; the Reflex app is a bare ``rx.App()`` so the token manager exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event import Event
from reflex_base.event.processor import BaseStateEventProcessor

from tests.factories import new_campaign, new_user
from tests.ui.reflex_app import APP
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session
from viralshorts.errors import ServiceUnavailableError
from viralshorts.integrations.redis_progress import progress_channel
from viralshorts.integrations.services import build_services, use_services
from viralshorts.models import Video
from viralshorts.models.enums import RenderStep, VideoStatus
from viralshorts.settings import get_settings
from viralshorts.ui.state import AuthState
from viralshorts.ui.videos import VideosState

TOKEN = "tab-1"
# Pub/sub channels are server-wide (not per Redis DB index): ids no other run uses.
USER_ID, VIDEO_ID = 987_654, 876_543
_SEEDED: dict[str, int] = {}  # the seeded user's personal workspace


def _raise(exc: Exception) -> None:
    raise exc


# The tab's session cookie; the handlers check the session again on every event.
_TAB_COOKIE: dict[str, str] = {"cookie": ""}


def _event(handler: str, path: str, **payload: object) -> Event:
    router = {
        "pathname": path,
        "query": {},
        "asPath": path,
        "token": TOKEN,
        "headers": dict(_TAB_COOKIE),
    }
    return Event(
        name=f"{VideosState.get_full_name()}.{handler}", payload=payload, router_data=router
    )


async def _page_state(manager: StateManagerMemory) -> VideosState:
    root = await manager.get_state(rx.BaseStateToken(ident=TOKEN, cls=VideosState))
    return await root.get_state(VideosState)


async def _wait_for(predicate, manager: StateManagerMemory) -> VideosState:
    for _ in range(50):
        state = await _page_state(manager)
        if predicate(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError("the state never got there")


async def _wait_for_subscriber(client) -> None:
    """Until the page's loop listens on the workspace's channel (a message before is missed)."""
    channel = progress_channel(_SEEDED["workspace_id"])
    for _ in range(100):
        if dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) > 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the page never subscribed")


def _seed(session, status: str = VideoStatus.RUNNING) -> None:
    user = new_user(session, "live@example.com", id=USER_ID)
    token = create_login_session(session, user=user, user_agent="pytest", ip="127.0.0.1")
    session.commit()
    _TAB_COOKIE["cookie"] = f"{SESSION_COOKIE}={token}"
    campaign = new_campaign(session, USER_ID, name="Owls", niche="owl facts")
    _SEEDED["workspace_id"] = campaign.workspace_id
    session.add(
        Video(
            id=VIDEO_ID,
            workspace_id=campaign.workspace_id,
            user_id=USER_ID,
            campaign_id=campaign.id,
            topic="Owls",
            status=status,
            step=RenderStep.VOICE,
            progress=10,
        )
    )
    session.commit()


@contextlib.asynccontextmanager
async def _signed_in_tab() -> AsyncIterator[tuple[BaseStateEventProcessor, StateManagerMemory]]:
    """Reflex's real event processor, with tab ``TOKEN`` signed in as ``USER_ID`` and connected."""
    processor = BaseStateEventProcessor(
        backend_exception_handler=_raise, graceful_shutdown_timeout=1
    )
    manager = StateManagerMemory()
    processor.configure(state_manager=manager)
    async with processor:
        async with manager.modify_state(rx.BaseStateToken(ident=TOKEN, cls=AuthState)) as root:
            auth = await root.get_state(AuthState)
            auth._user_id, auth._workspace_id = USER_ID, _SEEDED["workspace_id"]
            auth._workspace_role = "owner"
        await APP.event_namespace._token_manager.link_token_to_sid(TOKEN, "sid-1")
        yield processor, manager


async def test_list_follows_redis_and_stops_when_the_tab_leaves(session, use_redis) -> None:
    _seed(session)
    async with _signed_in_tab() as (processor, manager):
        chain = asyncio.create_task(_drain(processor, _event("load_page", "/app/videos")))
        first = await _wait_for(lambda s: s._watch_id != "" and s.rows, manager)
        assert first.rows[0]["percent"] == 10
        await _wait_for_subscriber(use_redis)
        watch_id = first._watch_id

        message = {
            "video_id": VIDEO_ID,
            "status": "running",
            "step": "render",
            "percent": 55,
            "message": "Rendering",
        }
        use_redis.publish(progress_channel(_SEEDED["workspace_id"]), json.dumps(message))
        live = await _wait_for(lambda s: s.rows[0]["percent"] == 55, manager)
        assert (live.rows[0]["step"], live.rows[0]["message"]) == ("render", "Rendering")

        await processor.enqueue(TOKEN, _event("watch_progress", "/app/videos"))
        await asyncio.sleep(1)
        assert (await _page_state(manager))._watch_id == watch_id, "a second loop started"
        assert not chain.done()

        await processor.enqueue(TOKEN, _event("set_status_filter", "/app/campaigns", value=""))
        await asyncio.wait_for(chain, 5)
        assert (await _page_state(manager))._watch_id == ""


async def test_a_video_started_elsewhere_appears_while_the_list_is_idle(session, use_redis) -> None:
    _seed(session, status=VideoStatus.READY)
    async with _signed_in_tab() as (processor, manager):
        chain = asyncio.create_task(_drain(processor, _event("load_page", "/app/videos")))
        await _wait_for(lambda s: s._watch_id != "" and len(s.rows) == 1, manager)
        await _wait_for_subscriber(use_redis)

        ready = session.get(Video, VIDEO_ID)
        started = Video(
            workspace_id=ready.workspace_id, user_id=USER_ID,
            campaign_id=ready.campaign_id, topic="Owl calls",
            status=VideoStatus.RUNNING, step=RenderStep.SCRIPT, progress=2,
        )  # fmt: skip
        session.add(started)
        session.commit()
        message = {"video_id": started.id, "status": "running", "step": "voice", "percent": 7}
        use_redis.publish(progress_channel(_SEEDED["workspace_id"]), json.dumps(message))
        shown = await _wait_for(lambda s: len(s.rows) == 2, manager)
        assert {row["title"] for row in shown.rows} == {"Owls", "Owl calls"}
        assert not chain.done(), "the loop ended although the tab is still on the page"

        await processor.enqueue(TOKEN, _event("set_status_filter", "/app/campaigns", value=""))
        await asyncio.wait_for(chain, 5)


async def _drain(processor: BaseStateEventProcessor, event: Event) -> None:
    async for _ in processor.enqueue_stream_delta(TOKEN, event):
        pass


class _QueueSubscription:
    def __init__(self, messages: asyncio.Queue[dict[str, Any] | Exception]) -> None:
        self.messages, self.closed = messages, False

    async def next_update(self, *, timeout: float) -> dict[str, Any] | None:
        try:
            item = await asyncio.wait_for(self.messages.get(), timeout)
        except TimeoutError:
            return None
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.closed = True


class _QueueFeed:
    """A ProgressFeed the test writes into: the page must read progress through the port."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any] | Exception] = asyncio.Queue()
        self.subscriptions: list[tuple[int, _QueueSubscription]] = []

    async def subscribe(self, workspace_id: int) -> _QueueSubscription:
        subscription = _QueueSubscription(self.messages)
        self.subscriptions.append((workspace_id, subscription))
        return subscription


async def test_the_page_reads_progress_through_the_services_feed(session, use_redis) -> None:
    _seed(session)
    feed = _QueueFeed()
    use_services(dataclasses.replace(build_services(get_settings()), progress_feed=feed))
    async with _signed_in_tab() as (processor, manager):
        chain = asyncio.create_task(_drain(processor, _event("load_page", "/app/videos")))
        await _wait_for(lambda s: s._watch_id != "" and s.rows, manager)
        assert [workspace for workspace, _ in feed.subscriptions] == [_SEEDED["workspace_id"]]

        await feed.messages.put({"video_id": VIDEO_ID, "status": "running", "percent": 64})
        await _wait_for(lambda s: s.rows[0]["percent"] == 64, manager)
        # A lost subscription is dropped; the page keeps going on database reloads.
        await feed.messages.put(ServiceUnavailableError("gone", code="progress_feed_unavailable"))
        for _ in range(50):
            if feed.subscriptions[0][1].closed:
                break
            await asyncio.sleep(0.1)
        assert feed.subscriptions[0][1].closed
        assert not chain.done()

        await processor.enqueue(TOKEN, _event("set_status_filter", "/app/campaigns", value=""))
        await asyncio.wait_for(chain, 5)
