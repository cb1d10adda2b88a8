"""Security headers on the Starlette routes and on anything the middleware wraps."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from viralshorts.settings import Settings, get_settings
from viralshorts.web.routes import build_api
from viralshorts.web.security import (
    content_security_policy,
    inline_script_hashes,
    security_headers,
)

PAGE = "<html><script>window.__ctx = 1;</script><script src='/a.js'></script></html>"


@pytest.fixture()
def env(monkeypatch):
    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def _wrapped(static_dir: Path | None = None) -> TestClient:
    app = Starlette(routes=[Route("/", lambda _r: HTMLResponse(PAGE))])
    wrap = security_headers((lambda: static_dir) if static_dir else None)
    return TestClient(wrap(build_api()) if static_dir is None else wrap(app))


def _directives(policy: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.partition(" ")[2] for d in policy.split("; ")}


def test_every_route_gets_the_headers(env) -> None:
    env(PUBLIC_BASE_URL="http://testserver")
    client = _wrapped()
    for path in ("/api/health", "/api/media/x.mp4", "/no-such-route"):
        headers = client.get(path).headers
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        policy = _directives(headers["content-security-policy"])
        assert policy["frame-ancestors"] == "'none'"
        assert policy["connect-src"] == "'self'"
        assert "strict-transport-security" not in headers  # plain http


def test_hsts_only_over_https(env) -> None:
    env(PUBLIC_BASE_URL="https://shorts.example")
    headers = _wrapped().get("/api/health").headers
    assert headers["strict-transport-security"].startswith("max-age=31536000")


def test_inline_scripts_of_the_built_pages_are_allowed_by_hash(tmp_path: Path, env) -> None:
    env(PUBLIC_BASE_URL="http://testserver")
    (tmp_path / "index.html").write_text(PAGE)
    policy = _directives(_wrapped(tmp_path).get("/").headers["content-security-policy"])
    expected = inline_script_hashes(PAGE)
    assert len(expected) == 1  # the src= script needs no hash
    assert set(policy["script-src"].split()) == {"'self'", "'unsafe-eval'", *expected}


def test_without_a_build_inline_scripts_are_allowed() -> None:
    policy = _directives(content_security_policy(Settings(_env_file=None)))
    assert "'unsafe-inline'" in policy["script-src"]


def test_s3_media_origin_is_allowed_for_presigned_urls() -> None:
    s3 = Settings(
        _env_file=None, storage_backend="s3", s3_bucket="b", s3_endpoint_url="http://minio:9000/x"
    )
    policy = _directives(content_security_policy(s3))
    assert "http://minio:9000" in policy["media-src"].split()
    assert "http://minio:9000" in policy["img-src"].split()
    local = _directives(content_security_policy(Settings(_env_file=None)))
    assert local["media-src"] == "'self' blob: data:"


def test_websockets_pass_through_untouched() -> None:
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    import asyncio

    asyncio.run(security_headers()(app)({"type": "websocket"}, None, None))
    assert seen == ["websocket"]
