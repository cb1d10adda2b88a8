"""The public landing page: what the product does, and the way in."""

from __future__ import annotations

import reflex as rx

FEATURES: list[tuple[str, str, str]] = [
    (
        "sparkles",
        "AI-written scripts",
        "Give a topic; get a hook, a tight script, a title, a description and hashtags. "
        "Works offline with built-in templates, or with an OpenAI-compatible model.",
    ),
    (
        "mic",
        "Neural voice and word-by-word captions",
        "A natural Piper voice reads the script offline; captions highlight each word as it "
        "is spoken and stay clear of each platform's buttons.",
    ),
    (
        "server",
        "Rendered on workers",
        "Vertical 1080x1920 videos are rendered on background workers with live progress, "
        "retries and a clear reason when something fails.",
    ),
    (
        "send",
        "Publish now or on a schedule",
        "Post to YouTube Shorts, TikTok and Instagram Reels, or let each campaign's posting "
        "schedule do it for you.",
    ),
    (
        "chart_line",
        "Analytics",
        "Views, likes, comments and shares come back from each platform into one dashboard.",
    ),
    (
        "wallet",
        "Plans that fit",
        "Start free; upgrade for more videos a month, longer videos and more connected accounts.",
    ),
]


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=26, color=rx.color("violet", 9)),
            rx.heading(title, size="4", as_="h3"),
            rx.text(text, color_scheme="gray", size="2"),
            spacing="2",
        ),
        height="100%",
    )


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.icon("sparkles", size=22, color=rx.color("violet", 9)),
            rx.text("ViralShortsOps", weight="bold", size="4"),
            align="center",
            spacing="2",
        ),
        rx.link(rx.button("Sign in", variant="soft", tab_index=-1), href="/sign-in"),
        justify="between",
        align="center",
        width="100%",
        padding="1rem 1.5rem",
    )


def _hero() -> rx.Component:
    return rx.vstack(
        rx.heading(
            "Run faceless short-video channels from one dashboard",
            size={"initial": "8", "sm": "9"},
            as_="h1",
            text_align="center",
        ),
        rx.text(
            "ViralShortsOps writes the script, voices it, captions it word by word, renders a "
            "vertical video and publishes it to YouTube Shorts, TikTok and Instagram Reels.",
            size="4",
            color_scheme="gray",
            text_align="center",
            max_width="44rem",
        ),
        rx.hstack(
            rx.link(rx.button("Get started", size="3", tab_index=-1), href="/sign-up"),
            rx.link(
                rx.button("Sign in", size="3", variant="outline", tab_index=-1), href="/sign-in"
            ),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        align="center",
        spacing="5",
        padding_top=rx.breakpoints(initial="3rem", sm="5rem"),
        padding_bottom="3rem",
        padding_x="1rem",
    )


def landing_page() -> rx.Component:
    return rx.box(
        _header(),
        rx.el.main(
            _hero(),
            rx.grid(
                *[_feature(*item) for item in FEATURES],
                columns={"initial": "1", "sm": "2", "md": "3"},
                spacing="4",
                width="100%",
                max_width="68rem",
                margin_x="auto",
                padding_x="1rem",
                padding_bottom="4rem",
            ),
        ),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('violet', 2)} 0%, transparent 40rem)",
    )
