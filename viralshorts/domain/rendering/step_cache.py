"""Content-addressed cache files for the render pipeline's steps, written atomically.

A step's output lives at ``<root>/<step>/<content hash><suffix>``; a file appears there whole
or not at all, so a worker that dies mid-step leaves nothing half-written to be reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def content_hash(value: Any) -> str:
    """A stable sha256 hex digest of a JSON-able value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def file_hash(path: Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StepCache:
    """Content-addressed files under ``<root>/<step>/``; every write is atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, step: str, key: str, suffix: str) -> Path:
        """Where the cached output of ``step`` for ``key`` lives (it may not exist yet)."""
        folder = self.root / step
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key}{suffix}"

    def read_json(self, path: Path) -> Any:
        """The cached JSON at ``path``, or None when there is none (or it is unreadable)."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_json(self, path: Path, value: Any) -> None:
        """Write ``value`` as JSON to ``path`` atomically."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(value), encoding="utf-8")


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path beside ``final`` that replaces it only if the block succeeds."""
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=final.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
