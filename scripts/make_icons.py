"""Draw the app icon (a white four-point sparkle on a violet rounded square) into assets/.

Writes ``assets/favicon.ico`` (16, 32 and 48 px PNG entries), ``assets/icon-180.png`` (the
touch icon) and ``assets/favicon.svg``. Pure Python: no image library is needed.
Run: ``python scripts/make_icons.py``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
VIOLET = (110, 86, 207)  # Radix violet 9, the colour of the logo in the app
WHITE = (255, 255, 255)
SAMPLES = 4  # per axis, for smooth edges
SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="#6e56cf"/>
<path fill="#fff"
 d="M32 9 C34 25 39 30 55 32 C39 34 34 39 32 55 C30 39 25 34 9 32 C25 30 30 25 32 9Z"/>
</svg>
"""


def _coverage(x: float, y: float) -> tuple[bool, bool]:
    """(inside the rounded square, inside the sparkle) for a point in [-1, 1]²."""
    radius, edge = 0.44, 1.0 - 0.44
    dx, dy = max(abs(x) - edge, 0.0), max(abs(y) - edge, 0.0)
    in_square = dx * dx + dy * dy <= radius * radius
    sx, sy = abs(x) / 0.72, abs(y) / 0.72
    in_star = sx**0.5 + sy**0.5 <= 1.0
    return in_square, in_star


def _pixel(px: int, py: int, size: int) -> bytes:
    square = star = 0
    for i in range(SAMPLES):
        for j in range(SAMPLES):
            x = (px + (i + 0.5) / SAMPLES) / size * 2 - 1
            y = (py + (j + 0.5) / SAMPLES) / size * 2 - 1
            in_square, in_star = _coverage(x, y)
            square += in_square
            star += in_square and in_star
    total = SAMPLES * SAMPLES
    mix = star / square if square else 0.0
    rgb = [round(v * (1 - mix) + w * mix) for v, w in zip(VIOLET, WHITE, strict=True)]
    return bytes([*rgb, round(255 * square / total)])


def png(size: int) -> bytes:
    """The icon as an RGBA PNG of ``size`` x ``size`` pixels."""
    rows = b"".join(
        b"\x00" + b"".join(_pixel(x, y, size) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def ico(sizes: tuple[int, ...]) -> bytes:
    """An .ico file holding one PNG image per size (every current browser reads these)."""
    images = [png(size) for size in sizes]
    directory, offset = b"", 6 + 16 * len(images)
    for size, image in zip(sizes, images, strict=True):
        side = size if size < 256 else 0
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + directory + b"".join(images)


def main() -> None:
    """Write the three icon files into ``assets/``."""
    (ASSETS / "favicon.ico").write_bytes(ico((16, 32, 48)))
    (ASSETS / "icon-180.png").write_bytes(png(180))
    (ASSETS / "favicon.svg").write_text(SVG)


if __name__ == "__main__":
    main()
