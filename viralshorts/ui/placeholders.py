"""Honest empty states for the sections that are not built yet: they say what will be there."""

from __future__ import annotations

import reflex as rx

from viralshorts.ui.layout import app_shell, empty_state


def calendar_page() -> rx.Component:
    return app_shell(
        "Calendar",
        empty_state(
            "calendar_days",
            "Publishing is not configured yet",
            "The calendar will show every scheduled and published post by day, from your "
            "campaigns' posting schedules. Nothing is scheduled to publish yet.",
            rx.link("Set posting days and times on a campaign", href="/app/campaigns"),
        ),
    )


def accounts_page() -> rx.Component:
    return app_shell(
        "Accounts",
        empty_state(
            "link",
            "Publishing is not configured yet",
            "Here you will connect YouTube, TikTok and Instagram accounts so videos can be "
            "published to them. No account can be connected yet.",
        ),
    )


def analytics_page() -> rx.Component:
    return app_shell(
        "Analytics",
        empty_state(
            "chart_line",
            "No analytics yet",
            "Views, likes, comments and shares will appear here once videos are published to a "
            "connected account. Nothing has been published yet.",
        ),
    )


def billing_page() -> rx.Component:
    return app_shell(
        "Billing",
        empty_state(
            "credit_card",
            "Billing is not configured yet",
            "Plans and payments will be managed here. Until billing is set up, every account "
            "uses the free plan's limits.",
        ),
    )
