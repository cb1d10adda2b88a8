"""``/_upload`` through Reflex's real upload endpoint and event processor, behind our guard.

Reflex authorises an upload by the ``reflex-client-token`` header alone; the guard and the
media handler make it need the uploader's own, still valid, session cookie as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import httpx
import pytest
from reflex_components_core.core._upload import upload as reflex_upload
from sqlmodel import select
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.image_samples import bomb_png
from tests.ui.tabs import TOKEN, Tab, open_tab, signed_in_cookie
from viralshorts.domain.accounts import SESSION_COOKIE
from viralshorts.models import MediaAsset
from viralshorts.ui import media
from viralshorts.web import upload_auth

HANDLER = f"{media.MediaState.get_full_name()}.upload"


@asynccontextmanager
async def upload_client(tab: Tab) -> AsyncIterator[httpx.AsyncClient]:
    endpoint = reflex_upload(SimpleNamespace(event_processor=tab.processor))  # type: ignore[arg-type]
    app = upload_auth.upload_session_guard(
        Starlette(routes=[Route(upload_auth.UPLOAD_PATH, endpoint, methods=["POST"])])
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


async def _post(client: httpx.AsyncClient, png: bytes, cookie: str) -> httpx.Response:
    headers = {"reflex-client-token": TOKEN, "reflex-event-handler": HANDLER}
    if cookie:
        headers["cookie"] = cookie
    files = {"files": ("owl.png", png, "image/png")}
    return await client.post(upload_auth.UPLOAD_PATH, headers=headers, files=files)


async def _handled(tab: Tab, done) -> None:
    """Poll until the background upload handler finished (generous deadline)."""
    for _ in range(400):
        if await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the upload handler never finished")


@pytest.fixture()
def png(tmp_path) -> bytes:
    return bomb_png(tmp_path / "owl.png", 32, 32).read_bytes()


async def test_an_upload_with_the_tabs_own_cookie_is_stored(session, use_redis, png) -> None:
    _, cookie = signed_in_cookie(session, "uploader@example.com")
    async with open_tab(cookie) as tab, upload_client(tab) as client:
        await tab.send(media.MediaState, "load_page", media.ROUTE)
        answer = await _post(client, png, cookie)
        assert answer.status_code < 300

        async def stored() -> bool:
            return bool((await tab.state(media.MediaState)).upload_notice)

        await _handled(tab, stored)
    assert len(session.exec(select(MediaAsset)).all()) == 1


@pytest.mark.parametrize("sent_cookie", ["none", "someone_else", "garbage"])
async def test_the_state_token_alone_stores_nothing(session, use_redis, png, sent_cookie) -> None:
    _, cookie = signed_in_cookie(session, "victim@example.com")
    _, other = signed_in_cookie(session, "attacker@example.com")
    forged = {"none": "", "someone_else": other, "garbage": f"{SESSION_COOKIE}=nope"}[sent_cookie]
    async with open_tab(cookie) as tab, upload_client(tab) as client:
        await tab.send(media.MediaState, "load_page", media.ROUTE)
        answer = await _post(client, png, forged)
        if sent_cookie == "none":
            assert answer.status_code == 401
        else:

            async def refused() -> bool:
                return any("/sign-in" in event for event in tab.namespace.events)

            await _handled(tab, refused)
    assert session.exec(select(MediaAsset)).all() == []


def test_the_guard_hands_each_request_its_own_cookie_once() -> None:
    seen: list[str] = []

    async def inner(request) -> PlainTextResponse:
        seen.append(upload_auth.take_upload_session("tab-1"))
        seen.append(upload_auth.take_upload_session("tab-1"))
        return PlainTextResponse("ok", status_code=int(request.query_params.get("status", 200)))

    app = upload_auth.upload_session_guard(
        Starlette(routes=[Route(upload_auth.UPLOAD_PATH, inner, methods=["POST"])])
    )
    client = TestClient(app)
    headers = {"reflex-client-token": "tab-1", "cookie": f"{SESSION_COOKIE}=abc"}
    assert client.post(upload_auth.UPLOAD_PATH, headers=headers).status_code == 200
    assert seen == ["abc", ""]
    assert (
        client.post(upload_auth.UPLOAD_PATH, headers={"reflex-client-token": "tab-1"}).status_code
        == 401
    )
    # A grant still waiting for its handler blocks a second upload of the same tab.
    assert upload_auth._grant("tab-1", "waiting")
    assert client.post(upload_auth.UPLOAD_PATH, headers=headers).status_code == 409
    upload_auth._drop("tab-1")
