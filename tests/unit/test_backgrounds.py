"""Choosing backgrounds: rotation without repeats, uploads, stock with fallbacks, generated."""

from pathlib import Path

from viralshorts.domain.rendering.backgrounds import (
    MediaItem,
    Rotation,
    generated_lavfi,
    generated_segments,
    stock_segments,
    upload_segments,
)
from viralshorts.domain.rendering.planning import Span
from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import StockClip


def _spans(count: int, keywords: tuple[str, ...] = ("ocean",)) -> list[Span]:
    return [Span(i * 2.0, 2.0, i, 0, f"line {i}", keywords) for i in range(count)]


class FakeStock:
    """An in-memory StockFootage: results by query word, optional failure, download log."""

    def __init__(self, library: dict[str, list[str]], fail: IntegrationError | None = None):
        self.library = library
        self.fail = fail
        self.downloads: list[str] = []
        self.searches: list[str] = []

    def search(self, query: str, *, min_duration: float, count: int) -> list[StockClip]:
        self.searches.append(query)
        if self.fail:
            raise self.fail
        ids = [i for word in query.split() for i in self.library.get(word, [])]
        return [StockClip("fake", i, f"http://x/{i}", 720, 1280, 10.0) for i in ids[:count]]

    def download(self, clip: StockClip, dest: Path) -> Path:
        self.downloads.append(clip.clip_id)
        dest.write_bytes(b"clip " + clip.clip_id.encode())
        return dest


def test_rotation_uses_every_item_before_repeating_any() -> None:
    rotation = Rotation(["a", "b", "c"], seed=4)
    first, second = [rotation.next() for _ in range(3)], [rotation.next() for _ in range(3)]
    assert sorted(first) == ["a", "b", "c"]
    assert sorted(second) == ["a", "b", "c"]


def test_rotation_is_deterministic_for_a_seed() -> None:
    picks = [[Rotation(list("abcdef"), seed=9).next() for _ in range(1)] for _ in range(2)]
    assert picks[0] == picks[1]


def test_uploads_never_repeat_while_unused_ones_remain(tmp_path: Path) -> None:
    items = [MediaItem(tmp_path / f"c{i}.mp4", 20.0) for i in range(3)]
    segments = upload_segments(_spans(5), items, seed=1)
    sources = [s.source for s in segments]
    assert len(set(sources[:3])) == 3
    assert all(s.kind == "clip" for s in segments)


def test_clip_offsets_leave_room_for_the_whole_span(tmp_path: Path) -> None:
    items = [MediaItem(tmp_path / "long.mp4", 9.0)]
    for segment in upload_segments(_spans(6), items, seed=3):
        assert 0.0 <= segment.clip_offset <= 9.0 - segment.duration


def test_images_become_still_segments(tmp_path: Path) -> None:
    segments = upload_segments(_spans(2), [MediaItem(tmp_path / "a.jpg", None)], seed=0)
    assert [s.kind for s in segments] == ["image", "image"]


def test_no_uploads_falls_back_to_generated() -> None:
    assert {s.kind for s in upload_segments(_spans(2), [], seed=0)} == {"generated"}


def test_generated_patterns_vary_by_seed_and_repeat_for_the_same_seed() -> None:
    patterns = {generated_lavfi(seed) for seed in range(12)}
    assert len(patterns) == 12
    assert generated_lavfi(5) == generated_lavfi(5)
    segments = generated_segments(_spans(4), seed=2)
    assert len({s.lavfi for s in segments}) == 4
    assert [s.lavfi for s in generated_segments(_spans(4), seed=2)] == [s.lavfi for s in segments]


def test_stock_clips_are_not_repeated_while_others_remain(tmp_path: Path) -> None:
    stock = FakeStock({"ocean": ["1", "2"], "city": ["3"]})
    spans = [*_spans(2), Span(4.0, 2.0, 2, 0, "x", ("city",)), *_spans(1)]
    segments = stock_segments(spans, stock, cache_dir=tmp_path, seed=0, notify=lambda m: None)
    names = [s.source.name for s in segments if s.source]
    assert names[:3] == ["fake-1.mp4", "fake-2.mp4", "fake-3.mp4"]
    assert len(names) == 4
    assert sorted(stock.downloads) == ["1", "2", "3"]


def test_stock_downloads_are_cached_across_videos(tmp_path: Path) -> None:
    stock = FakeStock({"ocean": ["1"]})
    for _ in range(2):
        stock_segments(_spans(1), stock, cache_dir=tmp_path, seed=0, notify=lambda m: None)
    assert stock.downloads == ["1"]


def test_no_stock_key_uses_generated_and_says_so(tmp_path: Path) -> None:
    messages: list[str] = []
    segments = stock_segments(_spans(2), None, cache_dir=tmp_path, seed=0, notify=messages.append)
    assert {s.kind for s in segments} == {"generated"}
    assert "not configured" in messages[0]


def test_no_results_falls_back_to_generated_for_that_span(tmp_path: Path) -> None:
    stock = FakeStock({"ocean": ["1"]})
    messages: list[str] = []
    spans = [Span(0.0, 2.0, 0, 0, "x", ("desert",)), *_spans(1)]
    segments = stock_segments(spans, stock, cache_dir=tmp_path, seed=0, notify=messages.append)
    assert [s.kind for s in segments] == ["generated", "clip"]
    assert "No stock footage" in messages[0]


def test_rate_limiting_stops_stock_for_the_rest_of_the_video(tmp_path: Path) -> None:
    stock = FakeStock({"ocean": ["1"]}, fail=IntegrationError("Pexels rate limit reached"))
    messages: list[str] = []
    segments = stock_segments(_spans(3), stock, cache_dir=tmp_path, seed=0, notify=messages.append)
    assert {s.kind for s in segments} == {"generated"}
    assert len(stock.searches) == 1
    assert "rate limit" in messages[0]
    assert "generated" in messages[0]


def test_a_clip_in_several_scenes_plays_on_where_it_stopped(tmp_path: Path) -> None:
    items = [MediaItem(tmp_path / "a.mp4", 20.0)]
    segments = upload_segments(_spans(4), items, seed=5)
    first = segments[0].clip_offset
    assert [s.clip_offset for s in segments] == [first, first + 2.0, first + 4.0, first + 6.0]
    assert 0.0 <= first <= 20.0 - 8.0  # room for every planned scene


def test_a_clip_that_runs_out_starts_again_from_its_beginning(tmp_path: Path) -> None:
    items = [MediaItem(tmp_path / "short.mp4", 5.0)]
    offsets = [s.clip_offset for s in upload_segments(_spans(4), items, seed=2)]
    assert offsets == [0.0, 2.0, 0.0, 2.0]
