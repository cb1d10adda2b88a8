"""The admin pages' own sub-navigation, shared by every /app/admin* page."""

from __future__ import annotations

import reflex as rx

USERS_ROUTE = "/app/admin"
JOBS_ROUTE = "/app/admin/jobs"
WEBHOOKS_ROUTE = "/app/admin/webhooks"
AUDIT_ROUTE = "/app/admin/audit"

# (label, route) in the order the tabs show.
ADMIN_SECTIONS: list[tuple[str, str]] = [
    ("Users & workspaces", USERS_ROUTE),
    ("Queues & failed jobs", JOBS_ROUTE),
    ("Webhooks", WEBHOOKS_ROUTE),
    ("Audit log", AUDIT_ROUTE),
]


def _section_link(label: str, route: str, current: str) -> rx.Component:
    is_current = route == current
    return rx.link(
        label,
        href=route,
        underline="none",
        size="2",
        weight="bold" if is_current else "regular",
        color_scheme="violet" if is_current else "gray",
        high_contrast=is_current,
        padding_x="0.75rem",
        padding_y="0.4rem",
        border_radius="var(--radius-3)",
        background=rx.color("violet", 3) if is_current else "transparent",
        aria_current="page" if is_current else "false",
    )


def admin_nav(current: str) -> rx.Component:
    """The row of admin sections, with ``current`` (one of the routes above) marked."""
    return rx.el.nav(
        rx.hstack(
            *[_section_link(label, route, current) for label, route in ADMIN_SECTIONS],
            spacing="1",
            wrap="wrap",
        ),
        aria_label="Admin sections",
        width="100%",
    )
