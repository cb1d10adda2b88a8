"""The signed-in app shell: a sidebar at tablet width and up, a top bar with a menu on phones."""

from __future__ import annotations

import reflex as rx

from viralshorts.ui.notifications import bell
from viralshorts.ui.state import AuthState
from viralshorts.ui.workspace_switcher import new_workspace_dialog, workspace_switcher

# (label, route, lucide icon). The sections in LATER are not built yet: a "Later" badge says so.
NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Overview", "/app", "layout_dashboard"),
    ("Campaigns", "/app/campaigns", "megaphone"),
    ("Videos", "/app/videos", "clapperboard"),
    ("Media", "/app/media", "image"),
    ("Workspace", "/app/workspace", "users"),
    ("Calendar", "/app/calendar", "calendar_days"),
    ("Accounts", "/app/accounts", "link"),
    ("Analytics", "/app/analytics", "chart_line"),
    ("Billing", "/app/billing", "credit_card"),
    ("Profile", "/app/profile", "circle_user"),
]
ADMIN_ITEM = ("Admin", "/app/admin", "shield")
LATER: set[str] = set()

# CSS props take rx.breakpoints; a plain dict only works for Radix props such as `columns`.
DESKTOP_ONLY = rx.breakpoints(initial="none", sm="flex")
PHONE_ONLY = rx.breakpoints(initial="flex", sm="none")


def _is_current(route: str) -> rx.Var[bool]:
    path = rx.State.router.url.path.to(str)
    if route == "/app":
        return (path == "/app") | (path == "/app/")
    return path.startswith(route)


def _later_badge(route: str) -> rx.Component:
    if route not in LATER:
        return rx.fragment()
    return rx.badge(
        "Later", size="1", variant="soft", color_scheme="gray", aria_label="not built yet"
    )


def _nav_link(label: str, route: str, icon: str) -> rx.Component:
    current = _is_current(route)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="2"),
            _later_badge(route),
            align="center",
            spacing="3",
        ),
        href=route,
        underline="none",
        color_scheme=rx.cond(current, "violet", "gray"),
        high_contrast=current,
        weight=rx.cond(current, "bold", "regular"),
        background=rx.cond(current, rx.color("violet", 3), "transparent"),
        padding_x="0.75rem",
        padding_y="0.5rem",
        border_radius="var(--radius-3)",
        width="100%",
        aria_current=rx.cond(current, "page", "false"),
    )


def _brand(*, compact: bool = False) -> rx.Component:
    # On a phone the top bar also holds the workspace, the bell and the menu: the name would
    # push them past the screen's edge, so there only the mark shows (the link keeps its name).
    name_display = rx.breakpoints(initial="none", xs="block") if compact else "block"
    return rx.link(
        rx.hstack(
            rx.icon("sparkles", size=20, color=rx.color("violet", 9)),
            rx.text("ViralShortsOps", weight="bold", size="3", display=name_display),
            align="center",
            spacing="2",
        ),
        href="/app",
        aria_label="ViralShortsOps",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )


def _sign_out_buttons() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("log_out", size=16),
            "Sign out",
            on_click=AuthState.sign_out,
            variant="soft",
            color_scheme="gray",
            width="100%",
            aria_label="Sign out",
        ),
        rx.button(
            "Sign out everywhere",
            on_click=AuthState.sign_out_everywhere,
            variant="ghost",
            color_scheme="gray",
            size="1",
            width="100%",
            aria_label="Sign out everywhere",
        ),
        spacing="2",
        width="100%",
    )


def _user_box() -> rx.Component:
    return rx.vstack(
        rx.text(AuthState.user_name, size="2", weight="medium", trim="both"),
        rx.text(AuthState.user_email, size="1", color_scheme="gray", trim="both"),
        _sign_out_buttons(),
        spacing="2",
        width="100%",
        padding_top="1rem",
        border_top=f"1px solid {rx.color('gray', 5)}",
    )


def _nav_links() -> rx.Component:
    return rx.vstack(
        *[_nav_link(*item) for item in NAV_ITEMS],
        rx.cond(AuthState.is_admin, _nav_link(*ADMIN_ITEM)),
        spacing="1",
        width="100%",
    )


def _sidebar() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(_brand(), bell(), justify="between", align="center", width="100%"),
            workspace_switcher(width="100%", justify="between"),
            rx.el.nav(_nav_links(), aria_label="Main"),
            spacing="5",
            width="100%",
        ),
        _user_box(),
        direction="column",
        justify="between",
        display=DESKTOP_ONLY,
        width="15rem",
        flex_shrink="0",
        height="100vh",
        position="sticky",
        top="0",
        padding="1.25rem 1rem",
        background=rx.color("gray", 2),
        border_right=f"1px solid {rx.color('gray', 5)}",
    )


def _menu_item(label: str, route: str, icon: str) -> rx.Component:
    return rx.menu.item(
        rx.hstack(
            rx.icon(icon, size=16), rx.text(label), _later_badge(route), align="center", spacing="2"
        ),
        on_click=rx.redirect(route),
    )


def _phone_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(rx.icon("menu"), variant="soft", aria_label="Open menu"),
        ),
        rx.menu.content(
            *[_menu_item(*item) for item in NAV_ITEMS],
            rx.cond(AuthState.is_admin, _menu_item(*ADMIN_ITEM)),
            rx.menu.separator(),
            rx.text(AuthState.workspace_name, size="1", weight="medium", padding_x="0.75rem"),
            rx.text(AuthState.user_email, size="1", color_scheme="gray", padding_x="0.75rem"),
            rx.menu.item("Sign out", on_click=AuthState.sign_out),
            rx.menu.item("Sign out everywhere", on_click=AuthState.sign_out_everywhere),
            align="end",
        ),
    )


def _top_bar() -> rx.Component:
    return rx.flex(
        _brand(compact=True),
        rx.hstack(
            workspace_switcher(max_width="9rem", size="1"),
            bell(reads=False),
            _phone_menu(),
            align="center",
        ),
        display=PHONE_ONLY,
        justify="between",
        align="center",
        padding="0.75rem 1rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        position="sticky",
        top="0",
        z_index="10",
    )


def app_shell(title: str | rx.Var[str], *children: rx.Component) -> rx.Component:
    """The signed-in page frame; nothing protected renders until the user is known."""
    return rx.cond(
        AuthState.signed_in,
        rx.flex(
            _sidebar(),
            rx.box(
                _top_bar(),
                rx.el.main(
                    rx.vstack(
                        rx.heading(title, size="7", as_="h1"),
                        *children,
                        spacing="5",
                        width="100%",
                        max_width="72rem",
                    ),
                    padding=rx.breakpoints(initial="1rem", sm="2rem"),
                ),
                flex="1",
                min_width="0",
            ),
            new_workspace_dialog(),
            min_height="100vh",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading"),
    )


def card(*children: rx.Component, **props: object) -> rx.Component:
    """A padded card used by every page for consistent spacing."""
    return rx.card(rx.vstack(*children, spacing="3", width="100%"), width="100%", **props)


def error_callout(message: rx.Var[str], **props: object) -> rx.Component:
    """A red alert showing ``message``, shown only while it is not empty."""
    return rx.cond(message != "", rx.callout(message, color_scheme="red", role="alert", **props))


def empty_state(icon: str, heading: str, text: str, *actions: rx.Component) -> rx.Component:
    """An honest "nothing here yet" block with optional next steps."""
    return card(
        rx.center(
            rx.vstack(
                rx.icon(icon, size=32, color=rx.color("violet", 9)),
                rx.heading(heading, size="4", as_="h2"),
                rx.text(text, color_scheme="gray", text_align="center", max_width="36rem"),
                *actions,
                align="center",
                spacing="3",
            ),
            padding_y="2rem",
        ),
    )
