"""PexelsStockFootage against the local fake Pexels server (real HTTP, real MP4 files)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.pexels_server import API_KEY, FakePexels, FakeVideo, make_portrait_clips
from viralshorts.domain.rendering.backgrounds import stock_segments
from viralshorts.domain.rendering.planning import Span
from viralshorts.errors import IntegrationError
from viralshorts.integrations.ffmpeg_tools import FfmpegProber
from viralshorts.integrations.pexels import PexelsStockFootage
from viralshorts.settings import Settings


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_portrait_clips(tmp_path_factory.mktemp("pexels-clips"))


@pytest.fixture()
def fake(clips: list[Path]) -> Iterator[FakePexels]:
    videos = [
        FakeVideo(101, {"ocean", "sea"}, clips[0], duration=12),
        FakeVideo(102, {"ocean", "waves"}, clips[1], duration=3),
        FakeVideo(103, {"city"}, clips[2], duration=8),
    ]
    with FakePexels(videos) as server:
        yield server


def _stock(fake: FakePexels, key: str = API_KEY) -> PexelsStockFootage:
    return PexelsStockFootage(Settings(pexels_api_key=key, pexels_api_base=fake.base_url))


def test_search_returns_portrait_renditions_at_least_720p(fake: FakePexels) -> None:
    found = _stock(fake).search("ocean", min_duration=2, count=5)
    assert [c.clip_id for c in found] == ["101", "102"]
    assert all((c.width, c.height) == (720, 1280) for c in found)
    assert all(c.provider == "pexels" for c in found)
    assert fake.state.requests[0] == ("/videos/search", API_KEY)


def test_search_puts_clips_long_enough_first(fake: FakePexels) -> None:
    found = _stock(fake).search("ocean waves", min_duration=5, count=5)
    assert [c.duration for c in found] == [12.0, 3.0]


def test_search_with_no_results_is_empty(fake: FakePexels) -> None:
    assert _stock(fake).search("volcano", min_duration=1, count=3) == []


def test_download_writes_a_playable_file(fake: FakePexels, tmp_path: Path) -> None:
    stock = _stock(fake)
    clip = stock.search("city", min_duration=1, count=1)[0]
    dest = stock.download(clip, tmp_path / "city.mp4")
    probe = FfmpegProber(Settings()).probe(dest)
    assert (probe.width, probe.height, probe.video_codec) == (720, 1280, "h264")
    assert not list(tmp_path.glob("*.partial"))


def test_a_wrong_key_is_not_retryable(fake: FakePexels) -> None:
    with pytest.raises(IntegrationError, match="API key") as caught:
        _stock(fake, key="wrong").search("ocean", min_duration=1, count=1)
    assert caught.value.retryable is False


def test_rate_limiting_is_retryable(fake: FakePexels) -> None:
    fake.state.fail_next.append(429)
    with pytest.raises(IntegrationError, match="rate limit") as caught:
        _stock(fake).search("ocean", min_duration=1, count=1)
    assert caught.value.retryable is True


def test_no_key_says_pexels_is_not_configured(fake: FakePexels) -> None:
    with pytest.raises(IntegrationError, match="not configured"):
        _stock(fake, key="").search("ocean", min_duration=1, count=1)
    assert fake.state.requests == []


def test_stock_backgrounds_download_each_clip_once(fake: FakePexels, tmp_path: Path) -> None:
    spans = [Span(i * 2.0, 2.0, i, 0, "", ("ocean",)) for i in range(3)]
    stock = _stock(fake)
    first = stock_segments(spans, stock, cache_dir=tmp_path, seed=1, notify=lambda m: None)
    again = stock_segments(spans, stock, cache_dir=tmp_path, seed=1, notify=lambda m: None)
    assert [s.source.name for s in first[:2]] == ["pexels-101.mp4", "pexels-102.mp4"]
    assert [s.source for s in again] == [s.source for s in first]
    assert sorted(fake.downloads()) == ["/files/clip0.mp4", "/files/clip1.mp4"]


def test_rate_limited_stock_falls_back_to_generated(fake: FakePexels, tmp_path: Path) -> None:
    fake.state.fail_next.append(429)
    messages: list[str] = []
    spans = [Span(0.0, 2.0, 0, 0, "", ("ocean",)), Span(2.0, 2.0, 1, 0, "", ("city",))]
    segments = stock_segments(
        spans, _stock(fake), cache_dir=tmp_path, seed=1, notify=messages.append
    )
    assert [s.kind for s in segments] == ["generated", "generated"]
    assert fake.searches() == 1
    assert "rate limit" in messages[0]
