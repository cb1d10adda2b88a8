"""Background spans from a script and its word timings."""

import itertools

import pytest

from viralshorts.domain.rendering.planning import (
    keywords_for,
    line_spans,
    plan_spans,
    split_long,
    spoken_lines,
)
from viralshorts.integrations.ports import Script, ScriptLine, WordTiming


def _script() -> Script:
    return Script(
        hook="Octopuses are weird.",
        lines=[
            ScriptLine("They have three hearts and blue blood.", ["octopus", "heart"]),
            ScriptLine("Each arm tastes what it touches.", []),
        ],
        title="t",
        description="d",
        hashtags=[],
    )


def _timed(script: Script, seconds_per_word: float) -> list[WordTiming]:
    words = " ".join(text for text, _ in spoken_lines(script)).split()
    return [
        WordTiming(w, i * seconds_per_word, (i + 1) * seconds_per_word - 0.05)
        for i, w in enumerate(words)
    ]


def test_each_line_runs_from_its_first_word_to_the_next_lines_first_word() -> None:
    script = _script()
    words = _timed(script, 0.5)  # 3 + 7 + 6 words
    spans = line_spans(script, words, total=8.6)
    assert [(s.start, s.end) for s in spans] == [(0.0, 1.5), (1.5, 5.0), (5.0, 8.6)]
    assert [s.line_index for s in spans] == [0, 1, 2]
    assert spans[1].keywords == ("octopus", "heart")


def test_first_span_starts_at_zero_even_when_speech_starts_later() -> None:
    script = _script()
    words = [WordTiming(w.word, w.start + 0.4, w.end + 0.4) for w in _timed(script, 0.5)]
    spans = line_spans(script, words, total=9.0)
    assert spans[0].start == 0.0
    assert spans[1].start == pytest.approx(1.9)


def test_spans_longer_than_the_limit_are_split_into_equal_parts() -> None:
    script = _script()
    spans = plan_spans(script, _timed(script, 1.0), total=16.6, max_seconds=5.0)
    long_line = [s for s in spans if s.line_index == 1]
    assert len(long_line) == 2
    assert [s.part for s in long_line] == [0, 1]
    assert all(s.duration == pytest.approx(3.5) for s in long_line)
    assert all(s.duration <= 5.0 for s in spans)


def test_spans_cover_the_whole_video_back_to_back() -> None:
    script = _script()
    spans = plan_spans(script, _timed(script, 0.9), total=15.0)
    assert spans[0].start == 0.0
    assert spans[-1].end == pytest.approx(15.0)
    for before, after in itertools.pairwise(spans):
        assert after.start == pytest.approx(before.end)


def test_mismatched_timings_fall_back_to_a_share_by_word_count() -> None:
    script = _script()
    spans = line_spans(script, _timed(script, 0.5)[:5], total=16.0)
    assert [round(s.start, 3) for s in spans] == [0.0, 3.0, 10.0]


def test_split_long_keeps_short_spans_whole() -> None:
    spans = line_spans(_script(), [], total=6.0)
    assert split_long(spans, 5.0) == spans


def test_keywords_come_from_the_line_or_its_longest_content_words() -> None:
    assert keywords_for("whatever", ["given", "words", "here", "extra"]) == (
        "given",
        "words",
        "here",
    )
    assert keywords_for("Each arm tastes what it touches.", []) == ("touches", "tastes", "each")


def test_an_empty_script_is_one_span() -> None:
    empty = Script(hook="", lines=[], title="", description="", hashtags=[])
    spans = plan_spans(empty, [], total=3.0)
    assert len(spans) == 1
    assert spans[0].duration == 3.0
