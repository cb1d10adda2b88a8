"""Checks every event handler makes: an event is a public endpoint, its arguments are forgeable.

The browser can send any handler any JSON. Reflex converts an argument to the handler's
annotation when it can and otherwise passes what was sent (a string for an ``int``), so a
handler checks the session and each argument itself and answers a bad one with a message.
"""

from __future__ import annotations

import asyncio
import sys

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.domain.audit import ADMINS_ONLY, admit_site_admin
from viralshorts.domain.workspaces import Actor
from viralshorts.models import WorkspaceRole
from viralshorts.ui.state import AuthState
from viralshorts.web.upload_auth import take_upload_session

MAX_ID = 2**31 - 1  # the database's integer ids; a larger number would be a database error
BAD_REQUEST = "That request did not make sense. Reload the page and try again."


async def session_user(state: rx.State) -> tuple[int | None, rx.event.EventSpec | None]:
    """The signed-in user's id after checking the session cookie again.

    Returns:
        ``(user_id, None)``, or ``(None, redirect to sign in)`` when the session ended (signed
        out in another tab, expired, account disabled).
    """
    auth = await state.get_state(AuthState)
    leave = await auth.require_user()
    if leave is not None or auth._user_id is None:
        return None, leave or rx.redirect("/sign-in")
    return auth._user_id, None


def _admitted(user_id: int, attempted: str) -> bool:
    with session_scope() as session:  # commits the denial row when refused
        return admit_site_admin(session, user_id=user_id, attempted=attempted)


async def session_admin(
    state: rx.State, attempted: str = ""
) -> tuple[int | None, rx.event.EventSpec | list[rx.event.EventSpec] | None]:
    """The signed-in site admin's id, after checking the session and the site role again.

    Every admin handler (page loads included) starts with this. A refusal is written to the
    audit log as ``admin.denied`` with ``attempted`` (default: the calling handler's name and
    this tab's route).

    Returns:
        ``(user_id, None)``; ``(None, redirect to sign in)`` when the session ended; or
        ``(None, [redirect to /app, "admins only" message])`` for anyone else.
    """
    if not attempted:
        # The caller is the event handler itself: its name is what was asked for.
        handler = sys._getframe(1).f_code.co_name
        attempted = f"{type(state).__name__}.{handler} {state.router.url.path}"
    user_id, leave = await session_user(state)
    if user_id is None:
        return None, leave
    if await asyncio.to_thread(_admitted, user_id, attempted):
        return user_id, None
    return None, [rx.redirect("/app"), rx.toast.error(ADMINS_ONLY)]


async def session_actor(state: rx.State) -> tuple[Actor | None, rx.event.EventSpec | None]:
    """The signed-in user acting in their current workspace, after checking the session again.

    Returns:
        ``(actor, None)``, or ``(None, redirect to sign in)`` when the session ended, or
        ``(None, full load of /app)`` when the session's workspace is no longer the one this
        tab showed.
    """
    shown = (await state.get_state(AuthState))._workspace_id
    user_id, leave = await session_user(state)
    if user_id is None:
        return None, leave
    auth = await state.get_state(AuthState)
    if auth._workspace_id is None:
        return None, rx.redirect("/sign-in")
    if shown is not None and auth._workspace_id != shown:
        # Removed from (or switched away from) the workspace this tab shows: never act for it
        # in another one. A full load shows the workspace the session now has.
        return None, rx.call_script("window.location.assign('/app')")
    role = WorkspaceRole(auth._workspace_role)
    return Actor(user_id=user_id, workspace_id=auth._workspace_id, role=role), None


async def upload_session_actor(state: rx.State) -> tuple[Actor | None, rx.event.EventSpec | None]:
    """Like ``session_actor``, for an upload handler: the ``/_upload`` request must itself
    have carried this tab's session cookie (see ``web/upload_auth.py``), not only its token.

    Returns:
        ``(actor, None)``, or ``(None, redirect to sign in)``.
    """
    request_token = take_upload_session(state.router.session.client_token)
    auth = await state.get_state(AuthState)
    if not request_token or request_token != auth._session_token():
        auth._clear()
        return None, auth._sign_in_redirect()
    return await session_actor(state)


def record_id(value: object) -> int | None:
    """A database id sent by the browser (``7`` or ``"7"``), or ``None`` if it is not one."""
    number = whole_number(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def whole_number(value: object) -> int | None:
    """``3`` or ``"3"`` as an int; ``None`` for anything else (``True``, ``"²"``, ``"3.0"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def flag(value: object) -> bool | None:
    """A checkbox or switch value: a real ``True``/``False``, else ``None``."""
    return value if isinstance(value, bool) else None


def text(value: object, *, max_length: int = 10_000) -> str | None:
    """Typed text, or ``None`` when it is not a string or is longer than any field allows."""
    return value if isinstance(value, str) and len(value) <= max_length else None
