"""Shared UI state: who is signed in. Imports nothing else from the UI.

The session cookie is HttpOnly (set by an HTTP route, see viralshorts/web/auth.py), so this state
reads it from the websocket handshake headers and keeps only the user id, server-side.
"""

import reflex as rx


class AuthState(rx.State):
    """Every page's ``on_load`` calls ``require_user`` (or ``require_admin``)."""

    _user_id: int | None = None
    user_email: str = ""
    user_name: str = ""
    is_admin: bool = False
    signed_in: bool = False
