"""Image files for tests: decompression bombs and forged headers, made in milliseconds."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A valid PNG of ``width`` x ``height`` black pixels: zlib turns the zero rows into < 1%."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    compressor, zeros = zlib.compressobj(6), bytes(1 << 23)
    remaining, data = height * (1 + width * 3), bytearray()
    while remaining > 0:
        data += compressor.compress(zeros[: min(remaining, len(zeros))])
        remaining -= len(zeros)
    data += compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(data)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def forged_jpeg(path: Path, width: int, height: int) -> Path:
    """A JPEG header (with an EXIF-sized APP1 segment first) whose frame claims the size."""
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 300) + b"Exif\x00\x00" + bytes(294)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    path.write_bytes(b"\xff\xd8" + app1 + b"\xff\xff" + sof0 + b"\xff\xda" + bytes(64))
    return path
