"""One browser tab driven through Reflex's real event processor, signed in by a real cookie.

Handlers re-check the session cookie, so the tab carries ``vs_session`` in its headers the way
the websocket handshake does. Frontend events (toasts, redirects) are recorded as text.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import reflex as rx
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event import Event
from reflex_base.event.processor import BaseStateEventProcessor
from reflex_base.registry import RegistrationContext
from reflex_base.utils.exceptions import ReflexRuntimeError
from sqlmodel import Session

from tests.factories import new_user
from viralshorts.domain.accounts import SESSION_COOKIE, create_login_session
from viralshorts.models import Role
from viralshorts.ui.state import AuthState

TOKEN = "tab-under-test"
S = TypeVar("S", bound=rx.State)


def _raise(exc: Exception) -> None:
    raise exc


def signed_in_cookie(session: Session, email: str, *, admin: bool = False) -> tuple[int, str]:
    """A user with a live login session; returns ``(user id, Cookie header)``."""
    user = new_user(session, email, role=Role.ADMIN if admin else Role.CREATOR)
    token = create_login_session(session, user=user, user_agent="pytest", ip="127.0.0.1")
    session.commit()
    assert user.id is not None
    return user.id, f"{SESSION_COOKIE}={token}"


@dataclass
class _Namespace:
    """Stands in for the socket namespace: keeps what would be sent to the browser."""

    events: list[str] = field(default_factory=list)

    async def emit_update(self, update: Any, token: str) -> None:
        self.events.extend(str(event) for event in getattr(update, "events", None) or [])


@dataclass
class Tab:
    processor: BaseStateEventProcessor
    manager: StateManagerMemory
    namespace: _Namespace
    cookie: str

    async def send(self, state: type[rx.State], handler: str, path: str, **payload: Any) -> str:
        """Run one event (and its chain); returns the frontend events it sent, as text."""
        router = {
            "pathname": path,
            "query": {},
            "asPath": path,
            "token": TOKEN,
            "headers": {"cookie": self.cookie} if self.cookie else {},
        }
        event = Event(
            name=f"{state.get_full_name()}.{handler}", payload=payload, router_data=router
        )
        seen = len(self.namespace.events)
        async for _ in self.processor.enqueue_stream_delta(TOKEN, event):
            pass
        return "\n".join(self.namespace.events[seen:])

    async def state(self, cls: type[S]) -> S:
        root = await self.manager.get_state(rx.BaseStateToken(ident=TOKEN, cls=cls))
        return await root.get_state(cls)


def ensure_app() -> None:
    """Handlers need a registered app; a test module may already have made the only one."""
    try:
        RegistrationContext.get().app  # noqa: B018
    except (LookupError, ReflexRuntimeError):
        rx.App()


@contextlib.asynccontextmanager
async def open_tab(cookie: str) -> AsyncIterator[Tab]:
    """A tab whose every event carries ``cookie`` (``""`` for a signed-out visitor)."""
    ensure_app()
    namespace = _Namespace()
    processor = BaseStateEventProcessor(
        backend_exception_handler=_raise, graceful_shutdown_timeout=1
    )
    manager = StateManagerMemory()
    processor.configure(state_manager=manager, event_namespace=namespace)  # type: ignore[arg-type]
    async with processor:
        tab = Tab(processor, manager, namespace, cookie)
        await tab.send(AuthState, "require_user", "/app")  # what every page's on_load does first
        yield tab
