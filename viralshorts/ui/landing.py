"""The public landing page: what the product does today, and the way in.

Every sentence here must be true of the product as it is: no feature is described before it
works, and what depends on the site's own setup (platform apps, Stripe, an AI model) says so
(``tests/ui/test_landing_copy.py``).
"""

from __future__ import annotations

import reflex as rx

FEATURES: list[tuple[str, str, str]] = [
    (
        "megaphone",
        "One campaign per channel idea",
        "Keep a channel's niche, tone, language, voice, caption style and background "
        "together, and make its videos from there.",
    ),
    (
        "sparkles",
        "AI-written scripts",
        "Give a topic; get a hook, a short script, a title, a description and hashtags, "
        "written by an AI model where the site has one turned on and by built-in English "
        "templates where not. Or paste your own script.",
    ),
    (
        "mic",
        "Natural voice and word-by-word captions",
        "A natural Piper voice reads the script; the captions highlight each word as it is "
        "spoken and stay clear of each platform's buttons.",
    ),
    (
        "image",
        "Backgrounds and music",
        "Moving generated backgrounds or your own uploaded clips and images behind the voice, "
        "with a bundled music track or your own under it.",
    ),
    (
        "clapperboard",
        "Vertical videos with live progress",
        "Each video is rendered as a 1080x1920 MP4 while you watch its progress step by step; "
        "if one fails you see why and can try again.",
    ),
    (
        "download",
        "Preview, edit and download",
        "Watch the video in your browser, edit its script and render it again, and download "
        "the MP4, its thumbnail and its captions (.srt).",
    ),
    (
        "send",
        "Publish now or on a schedule",
        "Connect YouTube channels, TikTok and Instagram accounts and post a finished video to "
        "several of them at once, now or at a time in your timezone. Checks before posting say "
        "what a platform would refuse, and editors' posts can wait for an admin's approval.",
    ),
    (
        "calendar_days",
        "A calendar of every post",
        "See posts by week, month or as a list, move or cancel them, and fill a week of a "
        "campaign's posting times with its ready videos after a preview.",
    ),
    (
        "chart_line",
        "Numbers back from each platform",
        "Views, likes, comments, shares and saves come back from the platforms on a schedule: "
        "views per day by platform, top videos and campaigns, and a CSV export.",
    ),
]
HEADLINE = "Make and publish the videos for your faceless short-video channels"
PITCH = (
    "ViralShortsOps writes the script, voices it, captions it word by word and renders a "
    "vertical video, then posts it as a YouTube Short, a TikTok or an Instagram Reel, now or "
    "on a schedule, and brings its numbers back."
)
SETUP_NOTE = (
    "Which platforms you can connect, and whether paid plans are offered, depends on how this "
    "site is set up; the app says what is not configured where it matters."
)


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
            HEADLINE,
            size={"initial": "8", "sm": "9"},
            as_="h1",
            text_align="center",
        ),
        rx.text(
            PITCH,
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
                padding_bottom="2rem",
            ),
            rx.text(
                SETUP_NOTE,
                color_scheme="gray",
                size="2",
                text_align="center",
                max_width="44rem",
                margin_x="auto",
                padding_x="1rem",
                padding_bottom="4rem",
            ),
        ),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('violet', 2)} 0%, transparent 40rem)",
    )
