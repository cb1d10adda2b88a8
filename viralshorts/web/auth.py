"""HTTP side of sign-in: trade a one-time ticket for the HttpOnly session cookie, sign out.

Reflex cannot set an HttpOnly cookie (``rx.Cookie`` is written by JavaScript), so the UI checks
the password inside an event, issues a 60 s single-use ticket and sends the browser to
``/api/auth/finish``; the OAuth callback ends the same way through ``signed_in_response``.
Routes that do database work are plain ``def`` functions: Starlette runs them in a thread.
Sign-out is a ``POST`` from our own origin (a form the page submits), so another site cannot
sign a visitor out with a link or an image.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from viralshorts.db import session_scope
from viralshorts.domain.accounts import (
    SESSION_COOKIE,
    create_login_session,
    end_session,
    redeem_sign_in_ticket,
    safe_next_path,
    user_for_token,
)
from viralshorts.errors import ConfigurationError
from viralshorts.integrations.ports import OneTimeStore
from viralshorts.integrations.services import get_services
from viralshorts.models import User
from viralshorts.settings import get_settings

SIGN_OUT_PATH = "/api/auth/sign-out"
EXPIRED_TICKET_PAGE = (
    "<!doctype html><title>Sign-in link expired</title>"
    "<p role='alert'>This sign-in link has expired or was already used.</p>"
    "<p><a href='/sign-in?next={next}'>Sign in again</a></p>"
)


def sign_in_tickets() -> OneTimeStore:
    """The store of one-time sign-in tickets from the composition root."""
    tickets = get_services().tickets
    if tickets is None:
        raise ConfigurationError(
            "no store for sign-in tickets is configured", code="ticket_store_missing"
        )
    return tickets


def client_ip(request: Request) -> str:
    """The client's address: the peer, or with ``TRUSTED_PROXY_HOPS=n`` the n-th address from
    the right of X-Forwarded-For (what the n trusted proxies saw), as Reflex does."""
    peer = request.client.host if request.client else ""
    hops = get_settings().trusted_proxy_hops
    if hops <= 0:
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    chain = [part.strip() for part in forwarded.split(",") if part.strip()]
    return chain[-hops] if len(chain) >= hops else peer


def same_origin(request: Request) -> bool:
    """True when the browser says the request comes from one of our own pages.

    Browsers send ``Origin`` on every POST; ``Sec-Fetch-Site`` is checked too when present.
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin", "")
    return bool(origin) and origin.rstrip("/") in get_settings().allowed_origins


def _cookie_options() -> dict[str, object]:
    return {
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": get_settings().served_over_https,
    }


def signed_in_response(user: User, request: Request, next_path: str | None) -> Response:
    """Start a session for ``user`` and 303 to a safe ``next_path`` with the session cookie set."""
    with session_scope() as session:
        raw = create_login_session(
            session,
            user=user,
            user_agent=request.headers.get("user-agent", ""),
            ip=client_ip(request),
        )
    response = RedirectResponse(safe_next_path(next_path), status_code=303)
    max_age = get_settings().session_max_days * 86400
    response.set_cookie(SESSION_COOKIE, raw, max_age=max_age, **_cookie_options())  # type: ignore[arg-type]
    return response


def finish(request: Request) -> Response:
    """``GET /api/auth/finish?ticket=..&next=..``: redeem the ticket, set the cookie, redirect."""
    next_path = safe_next_path(request.query_params.get("next"))
    with session_scope() as session:
        user = redeem_sign_in_ticket(
            session, sign_in_tickets(), request.query_params.get("ticket", "")
        )
    if user is None:
        page = EXPIRED_TICKET_PAGE.format(next=quote(next_path, safe=""))
        return HTMLResponse(page, status_code=400, headers={"Cache-Control": "no-store"})
    return signed_in_response(user, request, next_path)


def signed_out(request: Request) -> Response:
    """``POST /api/auth/sign-out`` from our own pages: end this browser's session, clear the
    cookie, go to sign-in. From anywhere else: 403, nothing changes."""
    if not same_origin(request):
        return PlainTextResponse("Sign out from the app's own page.", status_code=403)
    with session_scope() as session:
        token = request.cookies.get(SESSION_COOKIE, "")
        end_session(session, token, sessions=get_services().sessions)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, **_cookie_options())  # type: ignore[arg-type]
    return response


def user_from_request(request: Request) -> User | None:
    """The signed-in user from the ``vs_session`` cookie, or None (blocking: call from a thread)."""
    with session_scope() as session:
        return user_for_token(session, request.cookies.get(SESSION_COOKIE, ""))


def auth_routes() -> list[Route]:
    """The sign-in routes, OAuth included, for ``build_api()``."""
    from viralshorts.web.oauth import oauth_routes

    return [
        Route("/api/auth/finish", finish, methods=["GET"]),
        Route(SIGN_OUT_PATH, signed_out, methods=["POST"]),
        *oauth_routes(),
    ]
