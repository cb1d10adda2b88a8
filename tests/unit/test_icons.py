"""The site icon: /favicon.ico and friends exist, are well formed, and match their generator."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from viralshorts.ui import pages

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"


def _generator():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "scripts" / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_favicon_ico_holds_png_images_of_the_listed_sizes() -> None:
    data = (ASSETS / "favicon.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 3)
    sizes = []
    for index in range(count):
        side, _, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        image = data[offset : offset + length]
        assert image.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", image[16:24]) == (side, side)
        sizes.append(side)
    assert sizes == [16, 32, 48]


def test_the_committed_icons_are_what_the_generator_draws() -> None:
    make_icons = _generator()
    assert (ASSETS / "favicon.ico").read_bytes() == make_icons.ico((16, 32, 48))
    assert (ASSETS / "icon-180.png").read_bytes() == make_icons.png(180)
    assert (ASSETS / "favicon.svg").read_text() == make_icons.SVG


def test_every_page_head_names_icons_that_exist() -> None:
    links = "".join(str(link) for link in pages.icon_links())
    for href in pages.ICON_FILES.values():
        assert f'"{href}"' in links
        assert (ASSETS / href.lstrip("/")).is_file()
