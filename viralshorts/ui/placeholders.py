"""Honest pages for the sections that are not built yet.

Each says what will be there and that it does not work today, so no one mistakes it for a
working feature (the navigation marks these sections "Later" too).
"""

from __future__ import annotations

import reflex as rx

from viralshorts.ui.layout import app_shell, empty_state


def calendar_page() -> rx.Component:
    return app_shell(
        "Calendar",
        empty_state(
            "calendar_days",
            "The calendar is not built yet",
            "Later it will show each campaign's planned and published posts by day. Posting "
            "days and times saved on a campaign are kept for then; nothing is posted "
            "automatically today.",
        ),
    )
