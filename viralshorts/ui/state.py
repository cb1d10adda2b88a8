"""Shared UI state: who is signed in. Imports nothing else from the UI.

The session cookie ``vs_session`` is HttpOnly (set by an HTTP route, see viralshorts/web/auth.py),
so this state reads it from the websocket handshake headers (``self.router.headers.cookie``,
never sent to the browser) and keeps only the user id, in a backend-only var.

Protect a page with ``on_load=AuthState.require_user`` (or ``AuthState.require_admin``).
Another state gets the signed-in user inside a handler with::

    auth = await self.get_state(AuthState)
    user_id = auth._user_id  # None when nobody is signed in

Router headers are captured once per websocket connection, so signing in or out always ends
with a full page load (``window.location.assign``), never ``rx.redirect``.
"""

import asyncio
import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.accounts import (
    SESSION_COOKIE,
    end_all_sessions,
    end_session,
    user_for_token,
)
from viralshorts.domain.session_checks import checked
from viralshorts.domain.workspace_members import stored_workspace_id
from viralshorts.domain.workspaces import PERMISSIONS, Action, current_workspace
from viralshorts.integrations.services import get_services


def _token_from_cookie_header(header: str) -> str:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header or "")
    except CookieError:
        return ""
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


_Found = tuple[tuple[int, str, str, bool], tuple[int, str, str]]


def _lookup(token: str) -> _Found | None:
    """The user's (id, email, name, is_admin) and their workspace's (id, name, role).

    Every event's check comes here with the cookie of its own socket; the answer is cached
    for at most a second and dropped when a session ends (``domain/session_checks.py``).
    """
    value = checked(get_services().sessions, token, _lookup_encoded)
    if value is None:
        return None
    user, workspace = json.loads(value)
    return tuple(user), tuple(workspace)  # type: ignore[return-value]


def _lookup_encoded(token: str) -> tuple[int, str] | None:
    found = _lookup_in_database(token)
    return None if found is None else (found[0][0], json.dumps(found))


def _lookup_in_database(token: str) -> _Found | None:
    with session_scope() as session:
        user = user_for_token(session, token)
        if user is None or user.id is None:
            return None
        chosen = stored_workspace_id(session, token)
        workspace = current_workspace(session, user.id, chosen)
        return (user.id, user.email, user.display_name, user.is_admin), workspace


def _end_session(token: str) -> None:
    with session_scope() as session:
        end_session(session, token, sessions=get_services().sessions)


def _end_all_sessions(user_id: int) -> None:
    with session_scope() as session:
        end_all_sessions(session, user_id, sessions=get_services().sessions)


# A POST from our own page (the route refuses other origins): the browser follows the 303 to
# /sign-in with a full page load, so the websocket reconnects without the cookie.
_SIGNED_OUT_SCRIPT = (
    "(() => { const f = document.createElement('form'); f.method = 'post';"
    " f.action = '/api/auth/sign-out'; document.body.appendChild(f); f.submit(); })()"
)


class AuthState(rx.State):
    """Every protected page's ``on_load`` calls ``require_user`` (or ``require_admin``)."""

    _user_id: int | None = None
    # The workspace this tab acts in and the user's role there (the personal one for now).
    _workspace_id: int | None = None
    _workspace_role: str = ""
    workspace_name: str = ""
    user_email: str = ""
    user_name: str = ""
    is_admin: bool = False
    signed_in: bool = False

    @rx.var
    def can_edit(self) -> bool:
        """Whether the role here makes and changes campaigns, videos and media (not a viewer).

        Only hides controls: the domain refuses a viewer's forged event on its own.
        """
        return self._workspace_role in {r.value for r in PERMISSIONS[Action.MANAGE_CAMPAIGNS]}

    def _session_token(self) -> str:
        return _token_from_cookie_header(self.router.headers.cookie)

    async def _load_user(self) -> bool:
        found = await asyncio.to_thread(_lookup, self._session_token())
        if found is None:
            self._clear()
            return False
        (self._user_id, self.user_email, name, self.is_admin), workspace = found
        self._workspace_id, self.workspace_name, self._workspace_role = workspace
        self.user_name = name or self.user_email.split("@")[0]
        self.signed_in = True
        return True

    def _clear(self) -> None:
        self._user_id = self._workspace_id = None
        self.user_email = self.user_name = self.workspace_name = self._workspace_role = ""
        self.is_admin = self.signed_in = False

    def _sign_in_redirect(self) -> rx.event.EventSpec:
        url = self.router.url
        here = url.path + (f"?{url.query}" if url.query else "")
        return rx.redirect(f"/sign-in?next={quote(here or '/app', safe='')}")

    @rx.event
    async def require_user(self):
        """Fill the user vars from the session cookie, or send the browser to sign in."""
        if not await self._load_user():
            return self._sign_in_redirect()
        return None

    @rx.event
    async def require_admin(self):
        """Like ``require_user``; a signed-in non-admin is sent to ``/app``."""
        if not await self._load_user():
            return self._sign_in_redirect()
        if not self.is_admin:
            return rx.redirect("/app")
        return None

    @rx.event
    async def redirect_if_signed_in(self):
        """On the sign-in/up pages: a signed-in user goes straight to ``/app``."""
        if await self._load_user():
            return rx.redirect("/app")
        return None

    @rx.event
    async def sign_out(self):
        """End this browser's session, then reload without the cookie."""
        await asyncio.to_thread(_end_session, self._session_token())
        self._clear()
        return rx.call_script(_SIGNED_OUT_SCRIPT)

    @rx.event
    async def sign_out_everywhere(self):
        """End every session of this user, then reload without the cookie."""
        if await self._load_user() and self._user_id is not None:
            await asyncio.to_thread(_end_all_sessions, self._user_id)
        self._clear()
        return rx.call_script(_SIGNED_OUT_SCRIPT)
