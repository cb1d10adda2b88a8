"""Scenes: the 2-4 s stretches a video is cut into, and what each one shows (pure functions).

A scene starts on a word: the first word of a line, of a sentence, or of a clause, from the
word timings. Every line keeps the illustration picked for it over all of its scenes; the hook
line shows the hook card instead. A line shorter than two seconds is one short scene (merging
it would drop its picture).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from viralshorts.domain.rendering.planning import (
    Span,
    keywords_for,
    plan_spans,
    spoken_lines,
)
from viralshorts.domain.rendering.timings import CLOSING_MARKS
from viralshorts.integrations.ports import Overlay, Script, WordTiming

SCENE_MIN_SECONDS = 2.0
SCENE_MAX_SECONDS = 4.0
SCENE_TARGET_SECONDS = 3.0
SENTENCE_MARKS = (".", "!", "?")
CLAUSE_MARKS = (",", ";", ":", "\u2014", "\u2013")
ENTRANCES = ("pop", "slide", "float")
# Where illustrations and cards sit: under the platforms' top bar, above the caption band.
VISUAL_CENTRE = (540, 700)
ILLUSTRATION_BOX = 640


class Pick(Protocol):
    """What the illustration matcher chose for a line (``illustrations.IllustrationPick``)."""

    @property
    def path(self) -> Path | None: ...

    @property
    def card_text(self) -> str: ...


@dataclass(frozen=True)
class LineVisual:
    """What one spoken line shows, over all of its scenes."""

    line_index: int
    start: float
    end: float
    kind: str  # "hook" | "illustration" | "card"
    text: str  # the hook, or the card's word or number
    source: Path | None = None


def _mark_rank(word: str) -> int:
    """2 after a sentence, 1 after a clause, 0 elsewhere."""
    bare = word.rstrip(CLOSING_MARKS)
    if bare.endswith(SENTENCE_MARKS):
        return 2
    return 1 if bare.endswith(CLAUSE_MARKS) else 0


def _cut_points(words: Sequence[WordTiming], start: float, end: float) -> list[float]:
    """Where to cut one line's stretch ``start..end`` into scenes of 2-4 s."""
    candidates = [(words[i].start, _mark_rank(words[i - 1].word)) for i in range(1, len(words))]
    cuts, here = [], start
    while end - here > SCENE_MAX_SECONDS:
        window = [
            (t, rank) for t, rank in candidates
            if SCENE_MIN_SECONDS <= t - here <= SCENE_MAX_SECONDS and end - t >= 1.0
        ]  # fmt: skip
        if not window:
            later = [t for t, _ in candidates if t - here >= 1.0 and end - t >= 1.0]
            if not later:
                break
            window = [(min(later, key=lambda t: abs(t - here - SCENE_TARGET_SECONDS)), 0)]
        best = max(window, key=lambda c: (c[1], -abs(c[0] - here - SCENE_TARGET_SECONDS)))[0]
        cuts.append(best)
        here = best
    return cuts


def _line_word_ranges(script: Script, words: list[WordTiming]) -> list[range] | None:
    """The word indices of every spoken line, or None if the timings do not match the text."""
    counts = [len(text.split()) for text, _ in spoken_lines(script)]
    if sum(counts) != len(words) or not words:
        return None
    ranges, index = [], 0
    for count in counts:
        ranges.append(range(index, index + count))
        index += count
    return ranges


def plan_scenes(script: Script, words: list[WordTiming], total: float) -> list[Span]:
    """Scenes covering ``0..total``: a cut at every line, and within a line at sentence or
    clause starts so that no scene runs past four seconds.

    Without usable timings the lines are shared out by word count and cut evenly.
    """
    ranges = _line_word_ranges(script, words)
    if ranges is None:
        return plan_spans(script, words, total, SCENE_MAX_SECONDS)
    lines = spoken_lines(script)
    starts = [words[r[0]].start if r else 0.0 for r in ranges]
    starts[0] = 0.0
    ends = [*starts[1:], total]
    scenes: list[Span] = []
    for index, ((text, given), rng, start, end) in enumerate(
        zip(lines, ranges, starts, ends, strict=True)
    ):
        if end - start <= 1e-3:
            continue
        line_words = [words[i] for i in rng]
        bounds = [start, *_cut_points(line_words, start, end), end]
        keywords = keywords_for(text, given)
        for part, (a, b) in enumerate(itertools.pairwise(bounds)):
            spoken = " ".join(w.word for w in line_words if a <= w.start < b)
            scenes.append(Span(round(a, 3), round(b - a, 3), index, part, spoken, keywords))
    return scenes


def entrance_for(seed: int) -> str:
    """How this video's illustrations and cards enter (the same for every line of it)."""
    return ENTRANCES[random.Random(seed ^ 0x5CE9E).randrange(len(ENTRANCES))]


def line_visuals(script: Script, scenes: list[Span], picks: Sequence[Pick]) -> list[LineVisual]:
    """What each line shows: the hook card for the hook, else its pick (picture or card).

    ``picks`` holds one pick per script line (not the hook), in order.
    """
    has_hook = bool(script.hook.strip())
    visuals = []
    for line_index in sorted({s.line_index for s in scenes}):
        own = [s for s in scenes if s.line_index == line_index]
        start, end = own[0].start, own[-1].end
        if has_hook and line_index == 0:
            visuals.append(LineVisual(line_index, start, end, "hook", script.hook))
            continue
        pick_index = line_index - 1 if has_hook else line_index
        if pick_index >= len(picks):
            continue
        pick = picks[pick_index]
        if pick.path is not None:
            visuals.append(LineVisual(line_index, start, end, "illustration", "", pick.path))
        elif pick.card_text.strip():
            visuals.append(LineVisual(line_index, start, end, "card", pick.card_text.strip()))
    return visuals


def overlays_for(visuals: list[LineVisual], entrance: str) -> list[Overlay]:
    """The illustrations as overlays of the one render pass; slides alternate sides."""
    x, y = VISUAL_CENTRE
    pictures = [v for v in visuals if v.kind == "illustration" and v.source is not None]
    overlays = []
    for n, visual in enumerate(pictures):
        if visual.source is None:
            continue
        side = 1 if n % 2 == 0 else -1
        overlay = Overlay(
            source=visual.source, start=visual.start, end=visual.end, size=ILLUSTRATION_BOX,
            centre_x=x, centre_y=y, entrance=entrance, side=side,
        )  # fmt: skip
        overlays.append(overlay)
    return overlays


def thumbnail_moment(visuals: list[LineVisual]) -> tuple[float, Path | None]:
    """When the thumbnails' background is taken, and the illustration they show (if any):
    the first illustrated line once its picture has entered, else one second in."""
    for visual in visuals:
        if visual.kind == "illustration":
            return round(min(visual.start + 0.8, (visual.start + visual.end) / 2), 3), visual.source
    return 1.0, None
