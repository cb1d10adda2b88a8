"""Content-addressed cache files for the render pipeline's steps, written atomically.

A step's output lives at ``<root>/<step>/<content hash><suffix>``; a file appears there whole
or not at all, so a worker that dies mid-step leaves nothing half-written to be reused. A file's
modification time is its last use (reads touch it), and ``prune`` deletes files unused for a
while: the cache is a local, per-machine speed-up, never the only copy of anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        """The cached JSON at ``path`` (marked as used), or None when there is none or it is
        unreadable."""
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        touch(path)
        return value

    def write_json(self, path: Path, value: Any) -> None:
        """Write ``value`` as JSON to ``path`` atomically."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(value), encoding="utf-8")

    def prune(self, unused_for_seconds: float) -> PruneResult:
        """Delete cached files not used for ``unused_for_seconds``; report what went."""
        cutoff = time.time() - unused_for_seconds
        files = freed = 0
        for path in self.root.rglob("*"):
            with contextlib.suppress(OSError):  # gone meanwhile, or a folder
                stat = path.stat()
                if path.is_file() and stat.st_mtime < cutoff:
                    path.unlink()
                    files, freed = files + 1, freed + stat.st_size
        return PruneResult(files=files, bytes=freed)


@dataclass(frozen=True)
class PruneResult:
    files: int
    bytes: int


def touch(*paths: Path) -> None:
    """Mark cached files as just used (so ``prune`` keeps them)."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.utime(path)


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
