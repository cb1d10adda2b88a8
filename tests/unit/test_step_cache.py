"""The render cache: atomic writes, last use kept by reads, pruning of what went unused."""

from __future__ import annotations

import os
import time
from pathlib import Path

from viralshorts.domain.rendering.step_cache import StepCache, touch
from viralshorts.jobs.maintenance import prune_cache
from viralshorts.settings import Settings

DAY = 86400.0


def _age(path: Path, days: float) -> None:
    past = time.time() - days * DAY
    os.utime(path, (past, past))


def test_prune_deletes_only_files_unused_for_long_enough(tmp_path: Path) -> None:
    cache = StepCache(tmp_path)
    old, fresh = cache.path("render", "a", ".mp4"), cache.path("voice", "b", ".wav")
    old.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 10)
    _age(old, 9)
    _age(fresh, 2)

    result = cache.prune(7 * DAY)

    assert (result.files, result.bytes) == (1, 1000)
    assert not old.exists()
    assert fresh.exists()


def test_reading_or_touching_a_cached_step_keeps_it(tmp_path: Path) -> None:
    cache = StepCache(tmp_path)
    script, wav = cache.path("script", "s", ".json"), cache.path("voice", "v", ".wav")
    cache.write_json(script, {"hook": "Hi"})
    wav.write_bytes(b"RIFF")
    _age(script, 30)
    _age(wav, 30)

    assert cache.read_json(script) == {"hook": "Hi"}
    touch(wav)

    assert cache.prune(7 * DAY).files == 0
    assert script.exists() and wav.exists()


def test_a_missing_cache_folder_prunes_nothing(tmp_path: Path) -> None:
    assert StepCache(tmp_path / "nowhere").prune(DAY).files == 0


def test_the_worker_prunes_by_the_setting_and_zero_keeps_everything(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    stale = cache.path("stock", "pexels-1", ".mp4")
    stale.write_bytes(b"clip")
    _age(stale, 3)

    assert prune_cache(Settings(media_root=tmp_path, render_cache_days=0)) is None
    assert stale.exists()
    result = prune_cache(Settings(media_root=tmp_path, render_cache_days=2))
    assert result is not None and result.files == 1
    assert not stale.exists()
