"""Every page and its route, registered in one place."""

import reflex as rx


def landing() -> rx.Component:
    return rx.center(rx.heading("ViralShortsOps", size="8"), height="100vh")


def register(app: rx.App) -> None:
    """Add every page to ``app``."""
    app.add_page(landing, route="/", title="ViralShortsOps")
