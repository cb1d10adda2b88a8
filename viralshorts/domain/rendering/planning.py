"""Turn a script and its word timings into background spans (pure functions, no I/O).

Each spoken line gets the stretch of time from its first word to the next line's first word;
stretches longer than ``max_seconds`` are cut into equal parts so the picture keeps moving.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from viralshorts.integrations.ports import Script, WordTiming

MAX_SPAN_SECONDS = 5.0
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "just",
        "like",
        "more",
        "most",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "us",
        "was",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    }
)


@dataclass(frozen=True)
class Span:
    """A stretch of the video that shows one background."""

    start: float
    duration: float
    line_index: int
    part: int
    text: str
    keywords: tuple[str, ...]

    @property
    def end(self) -> float:
        return self.start + self.duration


def spoken_lines(script: Script) -> list[tuple[str, list[str]]]:
    """The hook and every line, in speaking order, each with its keywords."""
    lines = [(script.hook, [])] if script.hook.strip() else []
    lines += [(line.text, list(line.keywords)) for line in script.lines if line.text.strip()]
    return lines


def keywords_for(text: str, given: list[str], *, limit: int = 3) -> tuple[str, ...]:
    """The line's own keywords, else its longest content words (for a stock search)."""
    if given:
        return tuple(given[:limit])
    words = [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP_WORDS]
    ranked = sorted(dict.fromkeys(words), key=len, reverse=True)
    return tuple(ranked[:limit])


def _line_starts(counts: list[int], words: list[WordTiming], total: float) -> list[float]:
    """Where each line begins: its first word's start, else a share of time by word count."""
    if sum(counts) != len(words) or not words:
        share = total / max(sum(counts), 1)
        return [share * sum(counts[:i]) for i in range(len(counts))]
    starts, index = [], 0
    for count in counts:
        starts.append(words[index].start if count else (starts[-1] if starts else 0.0))
        index += count
    return starts


def line_spans(script: Script, words: list[WordTiming], total: float) -> list[Span]:
    """One span per spoken line, back to back from 0 to ``total`` seconds."""
    lines = spoken_lines(script)
    if not lines:
        return [Span(0.0, total, 0, 0, "", ())]
    counts = [len(text.split()) for text, _ in lines]
    starts = _line_starts(counts, words, total)
    starts[0] = 0.0
    ends = [*starts[1:], total]
    return [
        Span(start, end - start, i, 0, text, keywords_for(text, given))
        for i, ((text, given), start, end) in enumerate(zip(lines, starts, ends, strict=True))
        if end - start > 1e-3
    ]


def split_long(spans: list[Span], max_seconds: float = MAX_SPAN_SECONDS) -> list[Span]:
    """Cut every span longer than ``max_seconds`` into equal parts."""
    result: list[Span] = []
    for span in spans:
        parts = max(1, math.ceil(span.duration / max_seconds - 1e-9))
        size = span.duration / parts
        result += [
            Span(span.start + i * size, size, span.line_index, i, span.text, span.keywords)
            for i in range(parts)
        ]
    return result


def plan_spans(
    script: Script, words: list[WordTiming], total: float, max_seconds: float = MAX_SPAN_SECONDS
) -> list[Span]:
    """Line spans split to at most ``max_seconds`` each; they cover ``0..total`` exactly."""
    return split_long(line_spans(script, words, total), max_seconds)
