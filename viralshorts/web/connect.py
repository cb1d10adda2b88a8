"""Connecting a platform account: the routes of the authorization code flow.

``/api/connect/{platform}/start`` checks the session and the role, then sends the browser to
the platform's consent page; the flow (state, PKCE verifier, workspace, a hash of this browser's
session) stays server-side (``domain.connected_accounts``). The callback accepts only the flow
this browser began, once. Every outcome goes back to the Accounts page: ``?connected=<id>`` or
``?error=<code>`` (the page words it, ``domain.account_words.CONNECT_ERRORS``), never a 500.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from viralshorts.db import session_scope
from viralshorts.domain import connected_accounts
from viralshorts.domain.accounts import SESSION_COOKIE, user_for_token
from viralshorts.domain.workspace_members import stored_workspace_id
from viralshorts.domain.workspaces import actor_for, current_workspace
from viralshorts.errors import (
    ConfigurationError,
    IntegrationError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ServiceUnavailableError,
)
from viralshorts.integrations.services import get_services

log = logging.getLogger(__name__)

ACCOUNTS_PAGE = "/app/accounts"


def _back(**query: str | int) -> Response:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return RedirectResponse(f"{ACCOUNTS_PAGE}?{params}", status_code=303)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, PermissionDeniedError):
        return exc.code if exc.code == "connect_state_invalid" else "permission_denied"
    if isinstance(exc, ConfigurationError):
        return "platform_not_configured"
    if isinstance(exc, QuotaExceededError):
        return "account_limit"
    if isinstance(exc, ServiceUnavailableError):
        return "service_busy"
    if isinstance(exc, IntegrationError):
        return "connect_unreachable" if exc.retryable else "connect_refused"
    return "signed_out"  # NotFoundError: no longer a member of the flow's workspace


def start(request: Request) -> Response:
    """``GET /api/connect/{platform}/start``: to the consent page, or back with an error."""
    platform = request.path_params["platform"]
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        with session_scope() as session:
            user = user_for_token(session, token)
            if user is None or user.id is None:
                return _back(error="signed_out")
            workspace_id, _name, _role = current_workspace(
                session, user.id, stored_workspace_id(session, token)
            )
            actor = actor_for(session, user_id=user.id, workspace_id=workspace_id)
            url = connected_accounts.start_connect(
                session, get_services(), actor=actor, platform=platform, browser_session=token
            )
    except (
        PermissionDeniedError,
        ConfigurationError,
        ServiceUnavailableError,
        QuotaExceededError,
    ) as exc:
        return _back(error=_error_code(exc))
    return RedirectResponse(url, status_code=303)


def callback(request: Request) -> Response:
    """``GET /api/connect/{platform}/callback?code&state``: connect the account, or say why not."""
    platform = request.path_params["platform"]
    query = request.query_params
    if "error" in query:
        return _back(error="connect_cancelled")
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        with session_scope() as session:
            user = user_for_token(session, token)
            if user is None or user.id is None:
                return _back(error="signed_out")
            account = connected_accounts.finish_connect(
                session,
                get_services(),
                user_id=user.id,
                platform=platform,
                state=query.get("state", ""),
                code=query.get("code", ""),
                browser_session=token,
            )
    except (
        PermissionDeniedError,
        ConfigurationError,
        ServiceUnavailableError,
        IntegrationError,
        NotFoundError,
        QuotaExceededError,
    ) as exc:
        log.info("connecting %s failed: %s (%s)", platform, exc.code, exc)
        return _back(error=_error_code(exc))
    return _back(connected=account.id or 0)


def connect_routes() -> list[Route]:
    """Start and callback for every platform (an unconfigured one comes back with an error)."""
    return [
        Route("/api/connect/{platform}/start", start, methods=["GET"]),
        Route("/api/connect/{platform}/callback", callback, methods=["GET"]),
    ]
