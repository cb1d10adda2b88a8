"""Colour palettes ("looks") a video's generated background, cards and thumbnails are drawn in.

A look is data: three background colours for the moving gradient, a card colour for the hook and
typographic cards, and an accent for their big text. ``"auto"`` picks one from the video's seed,
so the videos of one campaign vary while each video stays the same when it is rendered again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

AUTO_LOOK = "auto"


@dataclass(frozen=True)
class Look:
    """Colours as ``0xRRGGBB`` (the form lavfi sources take)."""

    label: str
    background: tuple[str, str, str]
    card: str
    accent: str


LOOKS: dict[str, Look] = {
    "sunset": Look("Sunset", ("0x3a1c71", "0xd76d77", "0xffaf7b"), "0x2b1055", "0xffd166"),
    "ocean": Look("Ocean", ("0x0f2027", "0x2c5364", "0x20a4a0"), "0x0b3c5d", "0x7ef9ff"),
    "neon": Look("Neon", ("0x1d2b64", "0x6a3093", "0xf8cdda"), "0x14002e", "0x39ff14"),
    "forest": Look("Forest", ("0x0b486b", "0x11998e", "0x38ef7d"), "0x0a2f24", "0xfff275"),
    "ember": Look("Ember", ("0x232526", "0x414345", "0xf2994a"), "0x1b1b1b", "0xff6b35"),
    "midnight": Look("Midnight", ("0x000428", "0x004e92", "0x00c9ff"), "0x020b2e", "0xffe066"),
}


def look_options() -> dict[str, str]:
    """``{name: label}`` of every look, "auto" first, for a select box."""
    return {AUTO_LOOK: "Automatic (varies per video)", **{k: v.label for k, v in LOOKS.items()}}


def resolve_look(name: str, seed: int) -> Look:
    """The named look; "auto", "" or an unknown name give one chosen by ``seed``."""
    if name in LOOKS:
        return LOOKS[name]
    names = sorted(LOOKS)
    return LOOKS[names[random.Random(seed).randrange(len(names))]]


def ass_colour(hex_rgb: str, alpha: int = 0) -> str:
    """``0xRRGGBB`` as ASS ``&HAABBGGRR`` (alpha 0 is opaque)."""
    rgb = hex_rgb.removeprefix("0x").removeprefix("#")
    return f"&H{alpha:02X}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".upper()
