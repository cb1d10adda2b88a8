"""What the admin pages share: running a use case in its own transaction, the admin check of a
handler that delegates, reading a submitted form's fields and a page number, and the messages a
refusal turns into."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import reflex as rx

from viralshorts.db import session_scope
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.ui import guards
from viralshorts.ui.layout import error_callout

# What an admin handler answers: nothing, or events for the browser (a redirect, a message).
Reply = rx.event.EventSpec | list[rx.event.EventSpec] | None
MAX_PAGE = 100_000  # far beyond any real page; a larger number is a forged one


async def run(function: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``function(session, **kwargs)`` in a worker thread, committed when it returns."""

    def call() -> Any:
        with session_scope() as session:
            return function(session, **kwargs)

    return await asyncio.to_thread(call)


async def session_admin_for(state: rx.State, handler: str) -> tuple[int | None, Reply]:
    """``guards.session_admin`` from a helper: a denial is logged under ``handler``'s name."""
    attempted = f"{type(state).__name__}.{handler} {state.router.url.path}"
    return await guards.session_admin(state, attempted)


async def refuse_forged(state: rx.State, handler: str, message: str = guards.BAD_REQUEST) -> Reply:
    """Refuse a forged event with ``message`` (a page with ``error`` and ``notice``), once the
    admin check passed: anyone else gets that check's answer instead."""
    admin_id, leave = await session_admin_for(state, handler)
    if admin_id is None:
        return leave
    state.error, state.notice = message, ""
    return None


async def turn_page(
    state: rx.State,
    handler: str,
    page: object,
    page_var: str,
    read: Callable[[int], Awaitable[None]],
) -> Reply:
    """Put page ``page`` into ``state.<page_var>`` and ``read`` it for the admin; a page number
    that is not one is refused (the page keeps ``error``)."""
    admin_id, leave = await session_admin_for(state, handler)
    if admin_id is None:
        return leave
    number = page_number(page)
    if number is None:
        state.error = guards.BAD_REQUEST
        return None
    setattr(state, page_var, number)
    await read(admin_id)
    return None


def id_from_path(path: str) -> int | None:
    """The id that ends a detail page's path (``/app/admin/users/<id>``); None when it is not a
    database id."""
    return guards.record_id(path.rstrip("/").rsplit("/", 1)[-1])


def form_text(form: object, name: str, *, max_length: int = 1000) -> str | None:
    """A text field of a submitted form (absent: ``""``); None when the form was forged."""
    if not isinstance(form, dict):
        return None
    return guards.text(form.get(name, ""), max_length=max_length)


def page_number(value: object) -> int | None:
    """A page index sent by the browser, or None when it is not one."""
    number = guards.whole_number(value)
    return number if number is not None and 0 <= number <= MAX_PAGE else None


def refusal(exc: ViralShortsError) -> str:
    """What to tell the admin when a use case refused."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.field_errors.values())
    return exc.message


def when(moment: datetime | None, missing: str = "never") -> str:
    """A timestamp as the admin pages show it (UTC)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else missing


def messages(error: rx.Var[str], notice: rx.Var[str]) -> rx.Component:
    """The page's refusal (red) and confirmation (green), each shown while it has text."""
    return rx.vstack(
        error_callout(error),
        rx.cond(notice != "", rx.callout(notice, color_scheme="green", role="status")),
        width="100%",
    )


def reason_input(field_id: str) -> rx.Component:
    """The mandatory "why" every admin change asks for."""
    return rx.vstack(
        rx.el.label(
            "Reason (kept in the audit log)",
            html_for=field_id,
            font_weight="500",
            font_size="0.9rem",
        ),
        rx.input(id=field_id, name="reason", required=True, max_length=500, width="100%"),
        spacing="1",
        width="100%",
    )


def labeled_select(
    field_id: str,
    label: str,
    name: str,
    choices: list[tuple[str, str]],
    default: str | rx.Var[str] = "",
) -> rx.Component:
    """A native select inside a form (its value is read when the form is submitted)."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9rem"),
        rx.el.select(
            *[rx.el.option(text, value=value) for value, text in choices],
            id=field_id,
            name=name,
            default_value=default,
            style={"padding": "0.4rem"},
        ),
        spacing="1",
    )
