"""Image dimensions from file headers: real files made by ffmpeg, and forged bomb headers."""

from __future__ import annotations

import struct
import subprocess

import pytest

from tests.image_samples import bomb_png, forged_jpeg
from viralshorts.domain.image_header import ImageHeader, read_image_header

FFMPEG_STILL = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]


@pytest.mark.parametrize(
    ("suffix", "codec_args", "expected_format"),
    [
        ("png", [], "png"),
        ("jpg", [], "jpeg"),
        ("gif", [], "gif"),
        ("webp", [], "webp"),
        ("webp", ["-c:v", "libwebp", "-lossless", "1"], "webp"),
        ("bmp", [], "bmp"),
        ("tiff", [], "tiff"),
        ("qoi", [], "qoi"),
    ],
)
def test_real_images_give_their_size(tmp_path, suffix, codec_args, expected_format):
    path = tmp_path / f"still.{suffix}"
    subprocess.run(
        [*FFMPEG_STILL, "-i", "testsrc=size=70x46", "-frames:v", "1", *codec_args, str(path)],
        check=True,
        timeout=60,
    )
    assert read_image_header(path) == ImageHeader(expected_format, 70, 46)


def test_a_png_bomb_is_measured_without_decoding(tmp_path):
    path = bomb_png(tmp_path / "bomb.png", 16000, 16000)
    assert path.stat().st_size < 1024 * 1024
    header = read_image_header(path)
    assert header == ImageHeader("png", 16000, 16000)
    assert header.pixels == 256_000_000


def test_a_jpeg_frame_header_is_found_past_other_segments(tmp_path):
    header = read_image_header(forged_jpeg(tmp_path / "big.jpg", 20000, 12000))
    assert header == ImageHeader("jpeg", 20000, 12000)


def test_forged_gif_webp_and_psd_headers(tmp_path):
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + struct.pack("<HH", 60000, 50000) + bytes(20))
    vp8x = tmp_path / "a.webp"
    canvas = (16383).to_bytes(3, "little") + (9999).to_bytes(3, "little")
    vp8x.write_bytes(b"RIFF" + bytes(4) + b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4) + canvas)
    psd = tmp_path / "a.psd"
    psd.write_bytes(b"8BPS\x00\x01" + bytes(6) + b"\x00\x03" + struct.pack(">II", 30000, 40000))
    assert read_image_header(gif) == ImageHeader("gif", 60000, 50000)
    assert read_image_header(vp8x) == ImageHeader("webp", 16384, 10000)
    assert read_image_header(psd) == ImageHeader("psd", 40000, 30000)


def test_cut_short_or_broken_headers_say_zero(tmp_path):
    png = tmp_path / "cut.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    jpeg = tmp_path / "loop.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0\x00\x00" + bytes(10))  # a zero length must not loop
    tiff = tmp_path / "bad.tif"
    tiff.write_bytes(b"II*\x00" + struct.pack("<I", 10_000))
    assert read_image_header(png) == ImageHeader("png", 0, 0)
    assert read_image_header(jpeg) == ImageHeader("jpeg", 0, 0)
    assert read_image_header(tiff) == ImageHeader("tiff", 0, 0)


def test_other_files_are_not_images(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("just words")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert read_image_header(notes) is None
    assert read_image_header(empty) is None
