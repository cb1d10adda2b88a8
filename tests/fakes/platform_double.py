"""An in-memory PublishingPlatform for the connected-accounts tests (the domain's seam).

It behaves like a platform's OAuth server behind the port: ``authorize_url`` records the
S256 challenge and ``consent`` plays the person pressing Allow (a single-use code);
``exchange_code`` checks the redirect URI and the PKCE verifier; ``refresh`` can rotate the
refresh token (TikTok) and refuses a spent or revoked one with PlatformAuthError, or answers
like a platform that is down (``down = True``). Uploading is not its business.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from viralshorts.errors import PlatformAuthError, PlatformError
from viralshorts.integrations.ports import CreatorLimits, PlatformProfile, PlatformTokens
from viralshorts.models import utcnow


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class _Grant:
    profile: PlatformProfile
    refresh_token: str
    access_token: str


@dataclass
class PlatformDouble:
    name: str = "tiktok"
    scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")
    sandbox: bool = True
    rotate_refresh_tokens: bool = True
    expires_in: int = 7200
    down: bool = False
    person: PlatformProfile = field(
        default_factory=lambda: PlatformProfile("open-1", "Ada Creates", "https://x/a.png")
    )
    refresh_calls: int = 0
    revoked: list[str] = field(default_factory=list)
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict)  # by live refresh token
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------ the person's browser

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        query = {
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": s256(code_verifier),
            "code_challenge_method": "S256",
        }
        return f"https://{self.name}.example/authorize?{urlencode(query)}"

    def consent(self, authorize_url: str) -> str:
        """Press Allow: the callback URL the platform sends the browser to."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        code = secrets.token_urlsafe(12)
        self._codes[code] = {**query, "profile": self.person}
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    # ------------------------------------------------------------ the port

    def _issue(self, profile: PlatformProfile) -> PlatformTokens:
        grant = _Grant(profile, "rt-" + secrets.token_urlsafe(12), "at-" + secrets.token_hex(8))
        self._grants[grant.refresh_token] = grant
        return PlatformTokens(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            expires_at=utcnow() + timedelta(seconds=self.expires_in),
            scopes=self.scopes,
        )

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> PlatformTokens:
        grant = self._codes.pop(code, None)
        if (
            grant is None
            or grant["redirect_uri"] != redirect_uri
            or grant["code_challenge"] != s256(code_verifier)
        ):
            raise PlatformError("invalid_grant: bad code or verifier", retryable=False)
        return self._issue(grant["profile"])

    def refresh(self, tokens: PlatformTokens) -> PlatformTokens:
        with self._lock:
            self.refresh_calls += 1
            if self.down:
                raise PlatformError("503 Service Unavailable", retryable=True)
            grant = self._grants.get(tokens.refresh_token)
            if grant is None:
                raise PlatformAuthError("invalid_grant: refresh token revoked", retryable=False)
            if not self.rotate_refresh_tokens:
                grant.access_token = "at-" + secrets.token_hex(8)
                return PlatformTokens(
                    access_token=grant.access_token,
                    expires_at=utcnow() + timedelta(seconds=self.expires_in),
                )
            del self._grants[tokens.refresh_token]  # the previous one stops working
            return self._issue(grant.profile)

    def revoke(self, tokens: PlatformTokens) -> None:
        self.revoked.append(tokens.access_token)
        self._grants.pop(tokens.refresh_token, None)

    def profile(self, tokens: PlatformTokens) -> PlatformProfile:
        for grant in self._grants.values():
            if grant.access_token == tokens.access_token:
                return grant.profile
        raise PlatformAuthError("access_token_invalid", retryable=False)

    def creator_limits(self, tokens: PlatformTokens, profile_extra: dict[str, Any]) -> Any:
        return CreatorLimits(privacy_options=("SELF_ONLY",), max_duration_seconds=600)

    def publish(self, *_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError

    def stats(self, *_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError
