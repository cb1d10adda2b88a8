"""Streaming reads for platform uploads: size and a stream from any offset, local and S3 (moto)."""

import tracemalloc
from pathlib import Path

import pytest

from tests.integrations.test_storage import _file, local, moto_endpoint, s3  # noqa: F401
from viralshorts.errors import NotFoundError

KEY = "videos/1/2/stream.mp4"
DATA = bytes(range(256)) * 4096  # 1 MiB with a pattern, so an offset error shows


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    store = request.getfixturevalue(request.param)
    store.put_file(KEY, _file(tmp_path, "v.mp4", DATA), "video/mp4")
    return store


def test_size_and_streams_from_any_offset(storage):
    assert storage.size(KEY) == len(DATA)
    for offset in (0, 1, 300_001, len(DATA) - 5):
        with storage.open_stream(KEY, offset) as stream:
            assert stream.read(7) == DATA[offset : offset + 7]
            assert stream.read() == DATA[offset + 7 :]


def test_missing_objects_are_not_found(storage):
    with pytest.raises(NotFoundError):
        storage.size("videos/1/2/none.mp4")
    with pytest.raises(NotFoundError):
        storage.open_stream("videos/1/2/none.mp4", 0)


def test_reading_a_large_object_in_chunks_keeps_memory_bounded(storage, tmp_path: Path):
    big = b"\0" * (24 * 1024 * 1024)
    storage.put_file("videos/1/2/big.mp4", _file(tmp_path, "big.mp4", big), "video/mp4")
    tracemalloc.start()
    total = 0
    with storage.open_stream("videos/1/2/big.mp4", 0) as stream:
        while chunk := stream.read(256 * 1024):
            total += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == len(big)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while streaming 24 MiB"
