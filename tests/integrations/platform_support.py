"""Helpers for the platform client tests: a consent click, in-memory video sources,
checkpoints, a clock the Instagram fake reads, and a fake run on its own as the sandbox does."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from viralshorts.integrations.ports import PlatformTokens, PublishingPlatform, VideoSource


def click_allow(authorize_url: str) -> dict[str, str]:
    """Open the consent page, submit its "Allow" form, and return the redirect's query."""
    page = httpx.get(authorize_url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="get" action="([^"]+)"', page.text)
    assert action and ">Allow</button>" in page.text
    fields = {
        unescape(k): unescape(v)
        for k, v in re.findall(r'name="([^"]*)" value="([^"]*)"', page.text)
    }
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = httpx.get(f"{origin}{unescape(action.group(1))}?{urlencode(fields)}")
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def connect(platform: PublishingPlatform, *, redirect_uri: str, verifier: str) -> PlatformTokens:
    """Consent on the fake's page (state ``state-1``) and redeem the code for tokens."""
    url = platform.authorize_url(redirect_uri=redirect_uri, state="state-1", code_verifier=verifier)
    answer = click_allow(url)
    assert answer["state"] == "state-1"
    return platform.exchange_code(
        code=answer["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )


def video_bytes(size: int) -> bytes:
    """Deterministic, non-repeating-looking content of ``size`` bytes."""
    block = bytes(range(256)) * 4096
    return (block * (size // len(block) + 1))[:size]


class KilledError(BaseException):
    """Stands in for a worker killed mid-upload: nothing catches it."""


def memory_source(data: bytes, *, kill_after: int | None = None) -> VideoSource:
    """A source over ``data``; with ``kill_after`` its reads die past that many bytes."""

    def open_at(offset: int) -> Any:
        if kill_after is None:
            return io.BytesIO(data[offset:])
        return _DyingStream(data, offset, kill_after)

    return VideoSource(size=len(data), open_at=open_at, duration_seconds=30.0)


class _DyingStream(io.RawIOBase):
    def __init__(self, data: bytes, offset: int, limit: int) -> None:
        self._data, self._position, self._limit = data, offset, limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._position >= self._limit:
            raise KilledError
        end = min(self._position + size, len(self._data))
        piece = self._data[self._position : end]
        self._position = end
        return piece


class Checkpoints:
    """Records every save_checkpoint call, as the publish job would store it."""

    def __init__(self, start: dict[str, Any] | None = None) -> None:
        self.saved: list[dict[str, Any]] = []
        self.current: dict[str, Any] = dict(start or {})

    def __call__(self, data: dict[str, Any]) -> None:
        self.current = {**self.current, **data}
        self.saved.append(dict(data))

    @property
    def last(self) -> dict[str, Any]:
        """The checkpoint as last saved whole (Instagram saves all of it each time)."""
        return self.saved[-1] if self.saved else {}


class Clock:
    """A settable ``time.time`` for a fake whose numbers grow with time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def standalone_fake(module: str) -> Iterator[str]:
    """``python -m <module> --port N`` as the sandbox runs it; yields its base URL once up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [sys.executable, "-m", module, "--port", str(port)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdout.readline().strip().endswith(f"127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
