"""A local OAuth 2.0 provider speaking Google's and GitHub's sign-in wire protocol.

One real HTTP server (in a thread) serves both:
- Google: ``GET /o/oauth2/v2/auth``, ``POST /token``, ``GET /v1/userinfo`` (PROTOCOLS.md §1.2)
- GitHub: ``GET /login/oauth/authorize``, ``POST /login/oauth/access_token``, ``GET /user``,
  ``GET /user/emails``

The authorize endpoint signs in whoever is set as ``users[provider]`` and redirects back with
``code`` and ``state`` (or ``error=access_denied`` when ``deny`` is set). The token endpoint
checks client credentials, the redirect URI and the PKCE ``code_verifier`` against the S256
challenge. Token errors are answered the way each provider does: Google with HTTP 400 and a
JSON ``{"error": "invalid_grant"}``; GitHub with HTTP **200** and ``error=bad_verification_code``,
form-encoded unless the request asked for JSON (``Accept: application/json``). Codes are
single-use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

GITHUB_ERRORS = {
    "invalid_client": "incorrect_client_credentials",
    "invalid_grant": "bad_verification_code",
}

CLIENTS = {
    "google": ("google-client-id", "google-client-secret"),
    "github": ("github-client-id", "github-client-secret"),
}
AUTHORIZE_PATHS = {"/o/oauth2/v2/auth": "google", "/login/oauth/authorize": "github"}
TOKEN_PATHS = {"/token": "google", "/login/oauth/access_token": "github"}


@dataclass
class FakeUser:
    account_id: str
    email: str
    name: str
    email_verified: bool = True


@dataclass
class ProviderData:
    """What the fake knows; tests set ``users`` and ``deny`` and read ``token_requests``."""

    users: dict[str, FakeUser] = field(default_factory=dict)
    deny: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, tuple[str, FakeUser]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _Handler(BaseHTTPRequestHandler):
    data: ProviderData

    def log_message(self, *_args: Any) -> None:
        return

    def _json(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _github_error(self, error: str) -> None:
        # GitHub's token endpoint says "no" with HTTP 200; the body is form-encoded unless
        # the client asks for JSON.
        body = {"error": GITHUB_ERRORS[error], "error_description": "The code is wrong."}
        if "application/json" in self.headers.get("Accept", ""):
            self._json(200, body)
            return
        payload = urlencode(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _token_error(self, provider: str, status: int, error: str) -> None:
        if provider == "github":
            self._github_error(error)
        else:
            self._json(status, {"error": error, "error_description": "Bad code or verifier."})

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path in AUTHORIZE_PATHS:
            self._authorize(AUTHORIZE_PATHS[url.path], query)
        elif url.path in ("/v1/userinfo", "/user", "/user/emails"):
            self._api(url.path)
        else:
            self._json(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if path in TOKEN_PATHS:
            self._token(TOKEN_PATHS[path], form)
        else:
            self._json(404, {"message": "Not Found"})

    def _authorize(self, provider: str, query: dict[str, str]) -> None:
        client_id, _ = CLIENTS[provider]
        valid = (
            query.get("client_id") == client_id
            and query.get("response_type") == "code"
            and query.get("code_challenge_method") == "S256"
            and query.get("code_challenge")
            and query.get("redirect_uri")
        )
        if not valid:
            self._json(400, {"error": "invalid_request"})
            return
        back = query["redirect_uri"]
        if self.data.deny:
            self._redirect(
                f"{back}?{urlencode({'error': 'access_denied', 'state': query.get('state', '')})}"
            )
            return
        code = secrets.token_urlsafe(16)
        self.data.codes[code] = {
            "provider": provider,
            "redirect_uri": back,
            "challenge": query["code_challenge"],
            "user": self.data.users[provider],
        }
        self._redirect(f"{back}?{urlencode({'code': code, 'state': query.get('state', '')})}")

    def _client_credentials(self, form: dict[str, str]) -> tuple[str, str]:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return user, password
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, provider: str, form: dict[str, str]) -> None:
        self.data.token_requests.append(form)
        if self._client_credentials(form) != CLIENTS[provider]:
            self._token_error(provider, 401, "invalid_client")
            return
        grant = self.data.codes.pop(form.get("code", ""), None)
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant["provider"] != provider
            or grant["redirect_uri"] != form.get("redirect_uri")
            or s256(form.get("code_verifier", "")) != grant["challenge"]
        ):
            self._token_error(provider, 400, "invalid_grant")
            return
        token = secrets.token_urlsafe(24)
        self.data.tokens[token] = (provider, grant["user"])
        self._json(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid email profile",
            },
        )

    def _api(self, path: str) -> None:
        auth = self.headers.get("Authorization", "")
        found = self.data.tokens.get(auth.removeprefix("Bearer ").strip())
        if found is None:
            self._json(401, {"error": "invalid_token"})
            return
        provider, user = found
        if path == "/v1/userinfo" and provider == "google":
            self._json(
                200,
                {
                    "sub": user.account_id,
                    "email": user.email,
                    "name": user.name,
                    "email_verified": user.email_verified,
                },
            )
        elif path == "/user" and provider == "github":
            self._json(
                200,
                {
                    "id": int(user.account_id),
                    "login": user.name.lower().replace(" ", ""),
                    "name": user.name,
                    "email": None,
                },
            )
        elif path == "/user/emails" and provider == "github":
            self._json(
                200,
                [
                    {
                        "email": f"noreply-{user.account_id}@users.noreply.github.com",
                        "primary": False,
                        "verified": True,
                        "visibility": None,
                    },
                    {
                        "email": user.email,
                        "primary": True,
                        "verified": user.email_verified,
                        "visibility": "private",
                    },
                ],
            )
        else:
            self._json(404, {"message": "Not Found"})


class FakeOAuthProvider:
    """Start with ``with FakeOAuthProvider() as fake:``; ``fake.base_url`` is its address."""

    def __init__(self) -> None:
        self.data = ProviderData()
        handler = type("Handler", (_Handler,), {"data": self.data})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeOAuthProvider:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
