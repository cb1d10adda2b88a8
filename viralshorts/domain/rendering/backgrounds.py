"""Choose a background for every span: the creator's media, stock footage, or a generated pattern.

Selection is deterministic for a seed, never repeats a clip within a video while unused ones
remain, and falls back to generated patterns when stock footage is not available (saying why).
Generated patterns are lavfi source graphs drawn small (cheap to draw and to encode) that the
renderer scales up to the output size.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from viralshorts.domain.rendering.planning import Span
from viralshorts.domain.rendering.step_cache import touch
from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import Segment, StockClip, StockFootage

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
PALETTES: tuple[tuple[str, str, str], ...] = (
    ("0x1d2b64", "0xf8cdda", "0x6a3093"),
    ("0x0f2027", "0x2c5364", "0x20a4a0"),
    ("0x42275a", "0x734b6d", "0xff9a8b"),
    ("0x141e30", "0x243b55", "0x5ee7df"),
    ("0x3a1c71", "0xd76d77", "0xffaf7b"),
    ("0x000428", "0x004e92", "0x00c9ff"),
    ("0x232526", "0x414345", "0xf2994a"),
    ("0x11998e", "0x38ef7d", "0x0b486b"),
)
T = TypeVar("T")
Notify = Callable[[str], None]


@dataclass(frozen=True)
class MediaItem:
    """One of the creator's files, already probed: ``duration`` is None for a still image."""

    path: Path
    duration: float | None

    @property
    def is_image(self) -> bool:
        return self.duration is None or self.path.suffix.lower() in IMAGE_SUFFIXES


class Rotation(Generic[T]):
    """Hands out items in a seeded order; an item comes back only after all others were used."""

    def __init__(self, items: Sequence[T], seed: int) -> None:
        self._items = list(items)
        self._rng = random.Random(seed)
        self._queue: list[T] = []

    def next(self) -> T:
        """The next item (raises IndexError when there are none at all)."""
        if not self._items:
            raise IndexError("nothing to choose from")
        if not self._queue:
            self._queue = self._rng.sample(self._items, len(self._items))
        return self._queue.pop(0)


def segment_seed(seed: int, span: Span) -> int:
    """A stable per-span seed, so the same spec always draws the same pictures."""
    digest = hashlib.sha256(f"{seed}:{span.line_index}:{span.part}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def generated_lavfi(seed: int, colours: tuple[str, str, str] | None = None) -> str:
    """A lavfi graph for a slow, colourful motion pattern (varied by ``seed``), drawn small.

    Patterns are drawn at 3-15 fps and at 1/6 of the output size or less; the renderer scales
    them up and repeats frames to 30 fps, which x264 encodes almost for free. It has no
    duration: the renderer limits each input to its segment. With a look's ``colours`` it is
    always a gradient in those colours (calm behind an illustration), their order varied.
    """
    rng = random.Random(seed)
    if colours is not None:
        c0, c1, c2 = rng.sample(colours, 3)
        speed = rng.uniform(0.006, 0.012)
        return f"gradients=s=180x320:r=15:c0={c0}:c1={c1}:c2={c2}:n=3:speed={speed:.4f}:seed={seed}"
    c0, c1, c2 = PALETTES[rng.randrange(len(PALETTES))]
    # Weighted by cost: plasma is the dearest to encode (about 2.5x a gradient's bits).
    kind = rng.choices(("gradients", "blobs", "plasma"), weights=(6, 2, 1))[0]
    if kind == "gradients":
        speed = rng.uniform(0.006, 0.015)
        return f"gradients=s=180x320:r=15:c0={c0}:c1={c1}:c2={c2}:n=3:speed={speed:.4f}:seed={seed}"
    if kind == "blobs":
        noise = f"noise=alls=20:allf=t:all_seed={seed % 65536}"
        return f"color=c={c0}:s=36x64:r=3,{noise},gblur=sigma=2"
    fx, fy, fz = (rng.uniform(7, 14) for _ in range(3))
    red, green, blue = (int(c0[2 + 2 * i : 4 + 2 * i], 16) for i in range(3))
    return (
        f"color=c=black:s=72x128:r=10,format=gbrp,"
        f"geq=r='{max(red, 60)}+45*sin(X/{fx:.1f}+T*0.2)'"
        f":g='{max(green, 60)}+45*sin(Y/{fy:.1f}+T*0.15)'"
        f":b='{max(blue, 60)}+45*sin((X+Y)/{fz:.1f}+T*0.25)'"
    )


Colours = tuple[str, str, str] | None


def generated_segments(spans: list[Span], seed: int, colours: Colours = None) -> list[Segment]:
    """A generated pattern for every span (in the look's ``colours`` when given)."""
    return [_generated(span, seed, colours) for span in spans]


def _generated(span: Span, seed: int, colours: Colours = None) -> Segment:
    own_seed = segment_seed(seed, span)
    lavfi = generated_lavfi(own_seed, colours)
    return Segment(span.start, span.duration, "generated", seed=own_seed, lavfi=lavfi)


def upload_segments(
    spans: list[Span], items: list[MediaItem], seed: int, colours: Colours = None
) -> list[Segment]:
    """The creator's clips and stills in rotation; generated patterns if there are none."""
    if not items:
        return generated_segments(spans, seed, colours)
    rotation = Rotation(items, seed)
    chosen = [rotation.next() for _ in spans]
    cursor = ClipCursor(seed)
    for span, item in zip(spans, chosen, strict=True):
        cursor.plan(item.path, span.duration)
    return [_media_segment(span, item, cursor) for span, item in zip(spans, chosen, strict=True)]


class ClipCursor:
    """Where in each clip its next scene starts: a clip shown in several scenes plays on from
    where its previous scene stopped, so the renderer reads it once, front to back, with one
    decoder (a 1080p decoder per scene held ~50 MB each, and decoded from a keyframe every
    time). The first scene starts at a seeded offset that leaves room for all planned ones
    (at the clip's start when there is not room for all)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._planned: dict[Path, float] = {}
        self._next: dict[Path, float] = {}

    def plan(self, path: Path, seconds: float) -> None:
        """Announce that ``path`` will show for ``seconds`` more (before any ``offset_for``)."""
        self._planned[path] = self._planned.get(path, 0.0) + seconds

    def offset_for(self, path: Path, clip_seconds: float, span: Span) -> float:
        """The offset into the clip for ``span``; back to the start when the clip runs out."""
        if path not in self._next:
            spare = clip_seconds - self._planned.get(path, span.duration)
            rng = random.Random(segment_seed(self._seed, span))
            self._next[path] = round(rng.uniform(0, spare), 3) if spare > 0.5 else 0.0
        offset = self._next[path]
        if offset + span.duration > clip_seconds:
            offset = 0.0
        self._next[path] = round(offset + span.duration, 3)
        return offset


def _media_segment(span: Span, item: MediaItem, cursor: ClipCursor) -> Segment:
    if item.is_image:
        return Segment(span.start, span.duration, "image", source=item.path, label=item.path.name)
    offset = cursor.offset_for(item.path, item.duration or 0.0, span)
    return Segment(
        span.start, span.duration, "clip", item.path, clip_offset=offset, label=item.path.name
    )


def stock_segments(
    spans: list[Span],
    stock: StockFootage | None,
    *,
    cache_dir: Path,
    seed: int,
    notify: Notify,
    colours: Colours = None,
) -> list[Segment]:
    """Stock clips matched to each span's keywords; generated patterns where stock fails."""
    if stock is None:
        notify("Stock footage is not configured (no Pexels API key): using generated backgrounds.")
        return generated_segments(spans, seed, colours)
    picker = StockPicker(stock, cache_dir=cache_dir, notify=notify)
    cursor = ClipCursor(seed)
    return [picker.segment_for(span, cursor) or _generated(span, seed, colours) for span in spans]


class StockPicker:
    """Searches, de-duplicates and downloads stock clips for one video."""

    def __init__(self, stock: StockFootage, *, cache_dir: Path, notify: Notify) -> None:
        self._stock = stock
        self._cache_dir = cache_dir
        self._notify = notify
        self._results: dict[str, list[StockClip]] = {}
        self._seen: dict[str, StockClip] = {}
        self._uses: dict[str, int] = {}
        self._disabled = False

    def segment_for(self, span: Span, cursor: ClipCursor) -> Segment | None:
        """A stock clip for ``span``, or None (the caller draws a generated pattern)."""
        if self._disabled:
            return None
        try:
            clip = self._choose(span)
            if clip is None:
                return None
            path = self._download(clip)
        except IntegrationError as exc:
            return self._give_up(exc)
        return _media_segment(span, MediaItem(path, clip.duration or None), cursor)

    def _choose(self, span: Span) -> StockClip | None:
        query = " ".join(span.keywords) or "abstract background"
        if query not in self._results:
            found = self._stock.search(query, min_duration=span.duration, count=8)
            self._results[query] = found
            self._seen.update((clip.clip_id, clip) for clip in found)
            if not found:
                self._notify(
                    f"No stock footage for \u201c{query}\u201d: using a generated background."
                )
        candidates = self._results[query] or list(self._seen.values())
        if not candidates:
            return None
        unused = [c for c in [*candidates, *self._seen.values()] if c.clip_id not in self._uses]
        clip = unused[0] if unused else min(self._seen.values(), key=self._use_count)
        self._uses[clip.clip_id] = self._use_count(clip) + 1
        return clip

    def _use_count(self, clip: StockClip) -> int:
        return self._uses.get(clip.clip_id, 0)

    def _download(self, clip: StockClip) -> Path:
        dest = self._cache_dir / f"{clip.provider}-{clip.clip_id}.mp4"
        if dest.exists():
            touch(dest)
        else:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            self._stock.download(clip, dest)
        return dest

    def _give_up(self, exc: IntegrationError) -> None:
        self._disabled = True
        self._notify(f"Stock footage unavailable ({exc}): using generated backgrounds.")
