"""The OAuthSignIn port for Google and GitHub over HTTP, with authlib (state + PKCE S256).

Endpoints come from the settings, so tests point them at a local fake. Errors of the HTTP
package authlib uses (``httpx2``, or ``httpx`` on older authlib) and the provider's own token
errors (GitHub answers HTTP 200 with ``error=...``) become an ``IntegrationError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import OAuthIdentity
from viralshorts.settings import Settings

try:  # authlib 1.7+ talks through httpx2 and raises its errors
    import httpx2

    _NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError, OSError)
except ImportError:  # pragma: no cover - older authlib on plain httpx
    _NETWORK_ERRORS = (httpx.HTTPError, OSError)

HTTP_TIMEOUT = 15.0


@dataclass(frozen=True)
class _Provider:
    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scope: str


def _provider(name: str, settings: Settings) -> _Provider | None:
    if name == "google" and settings.google_login_enabled:
        return _Provider(
            "google",
            settings.google_client_id,
            settings.google_client_secret.get_secret_value(),
            f"{settings.google_auth_base.rstrip('/')}/o/oauth2/v2/auth",
            settings.google_token_url,
            "openid email profile",
        )
    if name == "github" and settings.github_login_enabled:
        base = settings.github_auth_base.rstrip("/")
        return _Provider(
            "github",
            settings.github_client_id,
            settings.github_client_secret.get_secret_value(),
            f"{base}/login/oauth/authorize",
            f"{base}/login/oauth/access_token",
            "read:user user:email",
        )
    return None


def _client(provider: _Provider, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        provider.client_id,
        provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
        timeout=HTTP_TIMEOUT,
    )


async def _google_identity(client: Any, settings: Settings) -> OAuthIdentity | None:
    info = (await client.get(settings.google_userinfo_url)).raise_for_status().json()
    if not info.get("email") or info.get("email_verified") is not True:
        return None
    return OAuthIdentity(str(info["sub"]), info["email"], info.get("name") or "")


async def _github_identity(client: Any, settings: Settings) -> OAuthIdentity | None:
    base = settings.github_api_base.rstrip("/")
    headers = {"Accept": "application/vnd.github+json"}
    profile = (await client.get(f"{base}/user", headers=headers)).raise_for_status().json()
    emails = (await client.get(f"{base}/user/emails", headers=headers)).raise_for_status().json()
    verified = [e for e in emails if e.get("verified")]
    verified.sort(key=lambda e: not e.get("primary"))  # the primary address first
    if not verified:
        return None
    name = profile.get("name") or profile.get("login") or ""
    return OAuthIdentity(str(profile["id"]), verified[0]["email"], name)


class AuthlibOAuthSignIn:
    """Google and GitHub sign-in as configured in the settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def is_configured(self, provider: str) -> bool:
        """True when the provider's client id and secret are set."""
        return _provider(provider, self._settings) is not None

    def _configured(self, name: str) -> _Provider:
        provider = _provider(name, self._settings)
        if provider is None:
            raise IntegrationError(
                f"Sign-in with {name} is not configured.",
                retryable=False,
                code="oauth_not_configured",
                params={"provider": name},
            )
        return provider

    def authorization_url(
        self, provider: str, *, redirect_uri: str, code_verifier: str
    ) -> tuple[str, str]:
        """The consent page URL (with state and the S256 challenge) and its state."""
        config = self._configured(provider)
        client = _client(config, redirect_uri)
        url, state = client.create_authorization_url(
            config.authorize_url, code_verifier=code_verifier
        )
        return url, state

    async def identity(
        self, provider: str, *, redirect_uri: str, code: str, code_verifier: str
    ) -> OAuthIdentity | None:
        """Redeem the code and read the verified email (see the port)."""
        config = self._configured(provider)
        try:
            async with _client(config, redirect_uri) as client:
                await client.fetch_token(config.token_url, code=code, code_verifier=code_verifier)
                if config.name == "google":
                    return await _google_identity(client, self._settings)
                return await _github_identity(client, self._settings)
        except _NETWORK_ERRORS as exc:
            raise IntegrationError(
                f"Could not reach {provider} to finish signing in.",
                code="oauth_provider_unreachable",
                params={"provider": provider, "reason": type(exc).__name__},
            ) from exc
        except (OAuthError, ValueError, KeyError, TypeError) as exc:
            raise IntegrationError(
                f"{provider} did not accept the sign-in.",
                retryable=False,
                code="oauth_token_refused",
                params={"provider": provider, "reason": type(exc).__name__},
            ) from exc
