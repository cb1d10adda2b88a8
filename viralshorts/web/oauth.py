"""Sign in with Google or GitHub: the routes of the authorization code flow (state + PKCE).

``/start`` keeps state, code verifier and ``next`` in a short-lived encrypted HttpOnly cookie
scoped to the OAuth paths, so the callback only accepts the flow this browser began. The HTTP
client (``OAuthSignIn``) and the cookie's encryption (``SealedBox``) are ports built by the
composition root; a provider that fails or does not answer sends the person back to sign-in
with a message, never a 500.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from viralshorts.db import session_scope
from viralshorts.domain.accounts import safe_next_path, sign_in_oauth
from viralshorts.errors import AuthenticationError, IntegrationError
from viralshorts.integrations.ports import OAuthIdentity, OAuthSignIn, SealedBox
from viralshorts.integrations.services import build_oauth_sign_in, build_sealed_box
from viralshorts.settings import get_settings
from viralshorts.web.auth import client_ip, signed_in_response

FLOW_SECONDS = 600
FLOW_COOKIE_PATH = "/api/auth/oauth/"
PROVIDERS = ("google", "github")


def _oauth() -> OAuthSignIn:
    return build_oauth_sign_in(get_settings())


def _box() -> SealedBox:
    return build_sealed_box("oauth-flow", get_settings())


def _flow_cookie(provider: str) -> str:
    return f"vs_oauth_{provider}"


def _redirect_uri(provider: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/api/auth/oauth/{provider}/callback"


def _configured_provider(request: Request) -> str | Response:
    name = request.path_params["provider"]
    if name not in PROVIDERS or not _oauth().is_configured(name):
        message = f"Sign-in with {name} is not configured on this server."
        return PlainTextResponse(message, status_code=404)
    return name


async def oauth_start(request: Request) -> Response:
    """``GET /api/auth/oauth/{provider}/start?next=..``: redirect to the provider's consent page."""
    provider = _configured_provider(request)
    if isinstance(provider, Response):
        return provider
    verifier = secrets.token_urlsafe(48)
    url, state = _oauth().authorization_url(
        provider, redirect_uri=_redirect_uri(provider), code_verifier=verifier
    )
    flow = {"state": state, "verifier": verifier, "next": request.query_params.get("next", "")}
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        _flow_cookie(provider),
        _box().seal(json.dumps(flow).encode()),
        max_age=FLOW_SECONDS,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().served_over_https,
    )
    return response


def _read_flow(request: Request, provider: str) -> dict[str, str] | None:
    sealed = request.cookies.get(_flow_cookie(provider), "")
    opened = _box().open(sealed, max_age_seconds=FLOW_SECONDS) if sealed else None
    try:
        flow = json.loads(opened) if opened else None
    except ValueError:
        return None
    if not isinstance(flow, dict):
        return None
    state = request.query_params.get("state", "")
    return flow if state and secrets.compare_digest(state, str(flow.get("state", ""))) else None


def _failed(reason: str, next_path: str = "") -> Response:
    target = f"/sign-in?error={reason}&next={quote(safe_next_path(next_path), safe='')}"
    return RedirectResponse(target, status_code=303)


def _sign_in(provider: str, identity: OAuthIdentity, request: Request, next_path: str) -> Response:
    with session_scope() as session:
        user = sign_in_oauth(
            session,
            provider=provider,
            provider_account_id=identity.account_id,
            email=identity.email,
            display_name=identity.display_name,
            ip=client_ip(request),
        )
    return signed_in_response(user, request, next_path)


async def oauth_callback(request: Request) -> Response:
    """``GET /api/auth/oauth/{provider}/callback``: check state, redeem the code, sign in."""
    provider = _configured_provider(request)
    if isinstance(provider, Response):
        return provider
    flow = _read_flow(request, provider)
    code = request.query_params.get("code", "")
    if flow is None or not code or "error" in request.query_params:
        return _failed("oauth_cancelled", flow["next"] if flow else "")
    response = await _finish_flow(provider, flow, code, request)
    response.delete_cookie(_flow_cookie(provider), path=FLOW_COOKIE_PATH)
    return response


async def _finish_flow(
    provider: str, flow: dict[str, Any], code: str, request: Request
) -> Response:
    try:
        identity = await _oauth().identity(
            provider,
            redirect_uri=_redirect_uri(provider),
            code=code,
            code_verifier=str(flow.get("verifier", "")),
        )
    except IntegrationError as exc:
        unreachable = exc.code == "oauth_provider_unreachable"
        return _failed("oauth_unreachable" if unreachable else "oauth_failed", flow["next"])
    if identity is None:
        return _failed("oauth_no_email", flow["next"])
    try:
        return await run_in_threadpool(_sign_in, provider, identity, request, flow["next"])
    except AuthenticationError:
        return _failed("oauth_disabled", flow["next"])


def oauth_routes() -> list[Route]:
    """Start and callback routes for every provider name (unconfigured ones answer 404)."""
    return [
        Route("/api/auth/oauth/{provider}/start", oauth_start, methods=["GET"]),
        Route("/api/auth/oauth/{provider}/callback", oauth_callback, methods=["GET"]),
    ]
