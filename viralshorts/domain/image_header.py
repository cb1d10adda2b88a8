"""Image dimensions read from a file's header, without decoding a single pixel.

A 775 KB PNG can claim 16000x16000 pixels; anything that decodes it (ffprobe included) needs
about 800 MB for the one frame. Reading the few header bytes first lets the media library say
no before a decoder ever sees the file. Formats: PNG (and APNG), JPEG, GIF, WebP, BMP, TIFF,
QOI and PSD: the compressed still formats ffmpeg decodes whose headers are simple to read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_HEAD_BYTES = 64
# Markers without a length field: TEM, RSTn, SOI, EOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # DHT, JPG and DAC are not frames


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says; ``width``/``height`` are 0 when it cannot say."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


def _png(head: bytes) -> tuple[int, int]:
    if head[12:16] != b"IHDR":
        return 0, 0
    return struct.unpack(">II", head[16:24])


def _gif(head: bytes) -> tuple[int, int]:
    return struct.unpack("<HH", head[6:10])


def _webp(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        return width, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return 0, 0


def _bmp(head: bytes) -> tuple[int, int]:
    if int.from_bytes(head[14:18], "little") == 12:  # the old OS/2 core header
        return struct.unpack("<HH", head[18:22])
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)  # a negative height means "stored top-down"


def _qoi(head: bytes) -> tuple[int, int]:
    return struct.unpack(">II", head[4:12])


def _psd(head: bytes) -> tuple[int, int]:
    height, width = struct.unpack(">II", head[14:22])
    return width, height


_SIMPLE: tuple[tuple[bytes, str, Callable[[bytes], tuple[int, int]]], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", _png),
    (b"GIF87a", "gif", _gif),
    (b"GIF89a", "gif", _gif),
    (b"BM", "bmp", _bmp),
    (b"qoif", "qoi", _qoi),
    (b"8BPS", "psd", _psd),
)


def _jpeg(path: Path) -> tuple[int, int]:
    """Walk the JPEG markers to the first frame header (SOFn); EXIF thumbnails are skipped."""
    with path.open("rb") as handle:
        handle.seek(2)
        while True:
            byte = handle.read(1)
            while byte == b"\xff":  # fill bytes before a marker
                byte = handle.read(1)
            if not byte:
                return 0, 0
            marker = byte[0]
            if marker in _JPEG_STANDALONE:
                continue
            length = int.from_bytes(handle.read(2), "big")
            if length < 2 or marker == 0xDA:  # cut short, or image data before a frame header
                return 0, 0
            if marker in _JPEG_SOF:
                frame = handle.read(5)
                return (struct.unpack(">HH", frame[1:5])[::-1]) if len(frame) == 5 else (0, 0)
            handle.seek(length - 2, 1)


def _tiff(path: Path, head: bytes) -> tuple[int, int]:
    order = "<" if head[:2] == b"II" else ">"
    sizes: dict[int, int] = {}
    with path.open("rb") as handle:
        handle.seek(struct.unpack(order + "I", head[4:8])[0])
        count_bytes = handle.read(2)
        count = struct.unpack(order + "H", count_bytes)[0] if len(count_bytes) == 2 else 0
        for _ in range(count):
            entry = handle.read(12)
            if len(entry) < 12:
                break
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4)
                value = entry[8:10] if kind == 3 else entry[8:12]
                sizes[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value)[0]
    return sizes.get(256, 0), sizes.get(257, 0)


def _detect(head: bytes) -> tuple[str, Callable[[Path, bytes], tuple[int, int]]] | None:
    for magic, name, reader in _SIMPLE:
        if head.startswith(magic):
            return name, lambda _path, data, read=reader: read(data)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", lambda path, _data: _jpeg(path)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", lambda _path, data: _webp(data)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff", _tiff
    return None


def read_image_header(path: Path) -> ImageHeader | None:
    """The format and dimensions an image file claims, read from its first bytes.

    Args:
        path: The file to look at; it is opened, never decoded.

    Returns:
        ``None`` when the file is not one of the formats above (a video, audio, or another
        kind of file). A header that is cut short or malformed gives ``width == height == 0``.
    """
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES).ljust(_HEAD_BYTES, b"\x00")
    found = _detect(head)
    if found is None:
        return None
    name, reader = found
    try:
        width, height = reader(path, head)
    except (struct.error, OSError, ValueError):
        width = height = 0
    return ImageHeader(format=name, width=width, height=height)
