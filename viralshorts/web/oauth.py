"""Sign in with Google or GitHub: authorization code flow with state and PKCE (S256), via authlib.

``/start`` keeps state, code verifier and ``next`` in a short-lived encrypted HttpOnly cookie
(Fernet, keyed from SECRET_KEY) scoped to the OAuth paths, so the callback only accepts the
flow this browser began. Endpoints come from the settings, so tests point them at a local fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from cryptography.fernet import Fernet, InvalidToken
from httpx import HTTPError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from viralshorts.db import session_scope
from viralshorts.domain.accounts import safe_next_path, sign_in_oauth
from viralshorts.errors import AuthenticationError
from viralshorts.settings import Settings, get_settings
from viralshorts.web.auth import client_ip, signed_in_response

FLOW_SECONDS = 600
HTTP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scope: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in; ``email`` is always one it has verified."""

    account_id: str
    email: str
    display_name: str


def provider_for(name: str, settings: Settings) -> Provider | None:
    """The provider called ``name`` when its client id and secret are configured, else None."""
    if name == "google" and settings.google_login_enabled:
        return Provider(
            "google",
            settings.google_client_id,
            settings.google_client_secret,
            f"{settings.google_auth_base.rstrip('/')}/o/oauth2/v2/auth",
            settings.google_token_url,
            "openid email profile",
        )
    if name == "github" and settings.github_login_enabled:
        base = settings.github_auth_base.rstrip("/")
        return Provider(
            "github",
            settings.github_client_id,
            settings.github_client_secret,
            f"{base}/login/oauth/authorize",
            f"{base}/login/oauth/access_token",
            "read:user user:email",
        )
    return None


def _fernet(settings: Settings) -> Fernet:
    digest = hashlib.sha256(b"oauth-flow:" + settings.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _flow_cookie(provider: Provider) -> str:
    return f"vs_oauth_{provider.name}"


def _client(provider: Provider, settings: Settings) -> AsyncOAuth2Client:
    redirect_uri = f"{settings.public_base_url.rstrip('/')}/api/auth/oauth/{provider.name}/callback"
    return AsyncOAuth2Client(
        provider.client_id,
        provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
        timeout=HTTP_TIMEOUT,
    )


def _provider_or_404(request: Request) -> Provider | Response:
    name = request.path_params["provider"]
    provider = provider_for(name, get_settings())
    if provider is None:
        message = f"Sign-in with {name} is not configured on this server."
        return PlainTextResponse(message, status_code=404)
    return provider


async def oauth_start(request: Request) -> Response:
    """``GET /api/auth/oauth/{provider}/start?next=..``: redirect to the provider's consent page."""
    provider = _provider_or_404(request)
    if isinstance(provider, Response):
        return provider
    settings = get_settings()
    verifier = secrets.token_urlsafe(48)
    async with _client(provider, settings) as client:
        url, state = client.create_authorization_url(provider.authorize_url, code_verifier=verifier)
    flow = {"state": state, "verifier": verifier, "next": request.query_params.get("next", "")}
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        _flow_cookie(provider),
        _fernet(settings).encrypt(json.dumps(flow).encode()).decode(),
        max_age=FLOW_SECONDS,
        path="/api/auth/oauth/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
    )
    return response


def _read_flow(request: Request, provider: Provider) -> dict[str, str] | None:
    sealed = request.cookies.get(_flow_cookie(provider), "")
    try:
        flow = json.loads(_fernet(get_settings()).decrypt(sealed.encode(), ttl=FLOW_SECONDS))
    except (InvalidToken, ValueError):
        return None
    state = request.query_params.get("state", "")
    return flow if state and secrets.compare_digest(state, flow.get("state", "")) else None


async def _google_identity(client: AsyncOAuth2Client, settings: Settings) -> Identity | None:
    info = (await client.get(settings.google_userinfo_url)).raise_for_status().json()
    if not info.get("email") or info.get("email_verified") is not True:
        return None
    return Identity(str(info["sub"]), info["email"], info.get("name") or "")


async def _github_identity(client: AsyncOAuth2Client, settings: Settings) -> Identity | None:
    base = settings.github_api_base.rstrip("/")
    headers = {"Accept": "application/vnd.github+json"}
    profile = (await client.get(f"{base}/user", headers=headers)).raise_for_status().json()
    emails = (await client.get(f"{base}/user/emails", headers=headers)).raise_for_status().json()
    verified = [e for e in emails if e.get("verified")]
    verified.sort(key=lambda e: not e.get("primary"))  # the primary address first
    if not verified:
        return None
    name = profile.get("name") or profile.get("login") or ""
    return Identity(str(profile["id"]), verified[0]["email"], name)


async def _identity(provider: Provider, code: str, verifier: str) -> Identity | None:
    settings = get_settings()
    async with _client(provider, settings) as client:
        await client.fetch_token(provider.token_url, code=code, code_verifier=verifier)
        if provider.name == "google":
            return await _google_identity(client, settings)
        return await _github_identity(client, settings)


def _failed(reason: str, next_path: str = "") -> Response:
    target = f"/sign-in?error={reason}&next={quote(safe_next_path(next_path), safe='')}"
    return RedirectResponse(target, status_code=303)


def _sign_in(provider: Provider, identity: Identity, request: Request, next_path: str) -> Response:
    with session_scope() as session:
        user = sign_in_oauth(
            session,
            provider=provider.name,
            provider_account_id=identity.account_id,
            email=identity.email,
            display_name=identity.display_name,
            ip=client_ip(request),
        )
    return signed_in_response(user, request, next_path)


async def oauth_callback(request: Request) -> Response:
    """``GET /api/auth/oauth/{provider}/callback``: check state, redeem the code, sign in."""
    provider = _provider_or_404(request)
    if isinstance(provider, Response):
        return provider
    flow = _read_flow(request, provider)
    code = request.query_params.get("code", "")
    if flow is None or not code or "error" in request.query_params:
        return _failed("oauth_cancelled", flow["next"] if flow else "")
    response = await _finish_flow(provider, flow, code, request)
    response.delete_cookie(_flow_cookie(provider), path="/api/auth/oauth/")
    return response


async def _finish_flow(
    provider: Provider, flow: dict[str, Any], code: str, request: Request
) -> Response:
    try:
        identity = await _identity(provider, code, flow["verifier"])
    except (OAuthError, HTTPError, ValueError, KeyError):
        return _failed("oauth_failed", flow["next"])
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
