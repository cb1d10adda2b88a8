"""Word timings, cue grouping, and the ASS/SRT/VTT caption files."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest

from viralshorts.domain.rendering.caption_markup import readable_script
from viralshorts.domain.rendering.captions import (
    CAPTION_STYLES,
    FONT_FAMILY,
    FONTS_DIR,
    align_words,
    build_ass,
    build_srt,
    build_vtt,
    escape_ass,
    estimate_word_timings,
    group_cues,
    resolve_word_timings,
)
from viralshorts.domain.rendering.timings import count_syllables
from viralshorts.integrations.ports import Script, ScriptLine, SpeechResult, WordTiming

TEXT = "Stop scrolling! Octopuses have three hearts, and their blood is blue."
ACTIVE = re.compile(r"\{\\c&H[0-9A-F]{6}&\\fscx\d+\\fscy\d+\}")


def words_of(text: str, seconds_each: float = 0.4) -> list[WordTiming]:
    return [
        WordTiming(w, round(i * seconds_each, 3), round((i + 1) * seconds_each, 3))
        for i, w in enumerate(text.split())
    ]


def monotonic(timings: list[WordTiming]) -> bool:
    ordered = all(a.end <= b.start for a, b in itertools.pairwise(timings))
    return ordered and all(t.start <= t.end for t in timings)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("cat", 1), ("banana", 3), ("make", 1), ("little", 2), ("octopuses,", 4), ("—", 0)],
)
def test_count_syllables(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables


def test_estimate_is_monotonic_and_fills_the_duration() -> None:
    timings = estimate_word_timings(TEXT, 5.0, start=2.0)
    assert [t.word for t in timings] == TEXT.split()
    assert monotonic(timings)
    assert timings[0].start == 2.0
    assert timings[-1].end == pytest.approx(7.0)


def test_estimate_weights_words_by_syllables_and_pauses_at_punctuation() -> None:
    timings = estimate_word_timings("cat extraordinarily, dog", 3.0)
    cat, long_word, dog = timings
    assert (long_word.end - long_word.start) > 5 * (cat.end - cat.start)
    assert cat.end == long_word.start  # no pause without punctuation
    assert dog.start - long_word.end > 0.1  # the comma leaves a pause


def test_estimate_of_nothing_is_nothing() -> None:
    assert estimate_word_timings("   ", 3.0) == []


def test_align_keeps_script_punctuation_and_heard_times() -> None:
    heard = [
        WordTiming("stop", 0.1, 0.4),
        WordTiming("scrolling", 0.45, 0.9),
        WordTiming("octopus", 1.2, 1.7),  # misheard "Octopuses"
        WordTiming("have", 1.75, 1.9),
        WordTiming("hearts", 2.4, 2.8),  # "three" was missed
        WordTiming("um", 2.85, 2.9),  # not in the script
    ]
    aligned = align_words(heard, "Stop scrolling! Octopuses have three hearts, ok.", duration=4.0)
    assert [t.word for t in aligned] == [
        "Stop",
        "scrolling!",
        "Octopuses",
        "have",
        "three",
        "hearts,",
        "ok.",
    ]
    assert aligned[0] == WordTiming("Stop", 0.1, 0.4)
    assert (aligned[2].start, aligned[2].end) == (1.2, 1.7)
    assert 1.9 <= aligned[4].start <= aligned[4].end <= 2.4  # interpolated into the gap
    assert aligned[5] == WordTiming("hearts,", 2.4, 2.8)
    assert 2.8 <= aligned[6].start <= aligned[6].end <= 4.0
    assert monotonic(aligned)


def test_resolve_prefers_the_engines_own_timings(tmp_path: Path) -> None:
    own = words_of("hello there")
    speech = SpeechResult(tmp_path / "a.wav", 1.0, own)
    assert resolve_word_timings(speech, "Hello there.", transcriber=None, language="en") == own


def test_resolve_estimates_without_a_transcriber(tmp_path: Path) -> None:
    speech = SpeechResult(tmp_path / "a.wav", 3.0, None)
    words = resolve_word_timings(speech, TEXT, transcriber=None, language="en")
    assert words == estimate_word_timings(TEXT, 3.0)


def test_cues_respect_word_and_character_limits() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen"
    cues = group_cues(words_of(text))
    assert all(1 <= len(c.words) <= 3 for c in cues)
    assert all(len(c.text) <= 16 for c in cues)
    assert [w for c in cues for w in c.words] == words_of(text)
    assert all(c.start == c.words[0].start and c.end == c.words[-1].end for c in cues)


def test_cues_break_at_punctuation_long_gaps_and_long_words() -> None:
    timed = [*words_of("Wait, what is this?"), WordTiming("incomprehensibilities", 1.7, 2.5)]
    timed += [WordTiming("later", 3.5, 3.8), WordTiming("on", 3.8, 4.0)]
    texts = [c.text for c in group_cues(timed)]
    assert texts == ["Wait,", "what is this?", "incomprehensibilities", "later on"]


def test_ass_highlights_exactly_the_spoken_word() -> None:
    timings = estimate_word_timings(TEXT, 5.0)
    ass = build_ass(timings, style="bold")
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == len(timings)  # one event per word-state
    for event, word in zip(events, timings, strict=True):
        assert len(ACTIVE.findall(event)) == 1
        highlighted = event.split(ACTIVE.findall(event)[0])[1].split("{\\r}")[0]
        assert highlighted == word.word.upper()
    starts = [e.split(",")[1] for e in events]
    assert starts == sorted(starts)


def test_ass_uses_the_shipped_font_and_the_safe_zone() -> None:
    ass = build_ass(words_of("hello world"), style="clean", width=1080, height=1920)
    assert f"Style: Caption,{FONT_FAMILY}," in ass
    assert "PlayResX: 1080" in ass
    assert "PlayResY: 1920" in ass
    x, y = map(int, re.search(r"\\pos\((\d+),(\d+)\)", ass).groups())
    assert 0.35 * 1920 < y < 0.70 * 1920
    assert x < 0.5 * 1080  # centred left of the right-hand action rail
    margin_r = int(ass.split("Style: Caption,")[1].split(",")[19])
    assert margin_r >= 0.12 * 1080
    assert any(p.suffix.lower() in {".ttf", ".otf"} for p in FONTS_DIR.iterdir())
    assert (FONTS_DIR / "license" / "OFL.txt").is_file()


def test_ass_escapes_override_characters_and_line_breaks() -> None:
    # Braces that do not pair are no override block: they are shown, escaped.
    timed = [WordTiming("x}", 0.0, 0.5), WordTiming("{y", 0.5, 0.7), WordTiming("a\\b", 0.7, 1.0)]
    ass = build_ass(timed, style="minimal")
    texts = [line.split(",,", 1)[1] for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert all("x\\} \\{y a\u2216b" in re.sub(r"(?<!\\)\{[^}]*\}", "", t) for t in texts)
    assert escape_ass("{x}") == "\\{x\\}"
    assert escape_ass("new\nline\r\nend") == "new line end"


def test_ass_times_are_centiseconds() -> None:
    ass = build_ass([WordTiming("late", 3725.454, 3726.0)], style="karaoke")
    assert "Dialogue: 0,1:02:05.45,1:02:06.00,Caption" in ass


@pytest.mark.parametrize("style", sorted(CAPTION_STYLES))
def test_every_named_style_builds(style: str) -> None:
    ass = build_ass(words_of("one two three four"), style=style)
    assert ass.count("Dialogue:") == 4


def test_karaoke_keeps_spoken_words_coloured() -> None:
    ass = build_ass(words_of("one two a"), style="karaoke")
    last = [line for line in ass.splitlines() if line.startswith("Dialogue:")][-1]
    spoken = CAPTION_STYLES["karaoke"].spoken_colour
    assert last.count(f"{{\\c{spoken}}}") == 2


def test_srt_has_numbered_cues_of_two_short_lines() -> None:
    text = (
        "Octopuses have three hearts and blue blood that carries copper instead of iron. "
        "Two hearts pump blood to the gills. Wild!"
    )
    srt = build_srt(estimate_word_timings(text, 12.0))
    blocks = srt.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [str(n) for n in range(1, len(blocks) + 1)]
    for block in blocks:
        timing, *lines = block.splitlines()[1:]
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", timing)
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)
    assert blocks[0].splitlines()[1].startswith("00:00:00,000 --> ")
    assert blocks[-1].splitlines()[-1] == "Wild!"
    assert srt.strip().endswith("Wild!")


def test_vtt_has_a_header_and_dotted_times() -> None:
    vtt = build_vtt(words_of("Hello there. General Kenobi!"))
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:00.000 --> 00:00:00.800\nHello there.\n" in vtt
    assert "00:00:00.800 --> 00:00:01.600\nGeneral Kenobi!\n" in vtt


def test_libass_renders_with_the_shipped_font(tmp_path: Path) -> None:
    ass_file = tmp_path / "captions.ass"
    ass_file.write_text(build_ass(words_of("Hello"), style="bold"))
    command = [
        "ffmpeg", "-v", "verbose", "-f", "lavfi", "-i", "color=c=black:s=1080x1920:d=0.1",
        "-vf", f"subtitles={ass_file}:fontsdir={FONTS_DIR}", "-frames:v", "1", "-f", "null", "-",
    ]  # fmt: skip
    log = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    chosen = [line for line in log.splitlines() if "fontselect:" in line]
    assert chosen
    assert all("LeagueSpartan-Black" in line for line in chosen), chosen


HOSTILE = (
    "Hello <img src=x onerror=alert(1)> world {\\fs300}big \\Nline <b>bold</b> "
    "<<i>i>nested {{\\fs1}\\an8}safe end\x00\x1b[31m ctrl --> 3 < 5 & AC/DC"
)
SURVIVING = ["Hello", "world", "big", "line", "bold", "nested", "safe", "end[31m", "ctrl"]


def _in_order(text: str, words: list[str]) -> bool:
    rest = text
    for word in words:
        if word not in rest:
            return False
        rest = rest.split(word, 1)[1]
    return True


@pytest.mark.parametrize("build", [build_srt, build_vtt])
def test_sidecars_carry_no_markup_a_player_would_interpret(build) -> None:
    text = build(words_of(HOSTILE))
    body = "\n".join(line for line in text.splitlines() if " --> " not in line)
    for markup in ("<img", "<b>", "<i>", "{", "}", "\\", "\x00", "\x1b", "-->"):
        assert markup not in body, (markup, text)
    assert _in_order(body, [*SURVIVING, "3", "5", "AC/DC"])


def test_srt_keeps_plain_comparisons_and_ampersands() -> None:
    srt = build_srt(words_of(HOSTILE))
    assert "3 < 5 & AC/DC" in srt


def test_vtt_escapes_what_webvtt_reserves() -> None:
    assert "3 &lt; 5 &amp; AC/DC" in build_vtt(words_of(HOSTILE))


def test_ass_shows_the_words_without_the_scripts_markup() -> None:
    hostile = build_ass(words_of("{\\fs300\\c&H0000FF&}Hi <b>there</b> \\Nfriend"), style="bold")
    assert hostile == build_ass(words_of("Hi there friend"), style="bold")


def test_ass_override_blocks_are_only_ours() -> None:
    ours = re.compile(
        r"\{\\an5\\pos\(\d+,\d+\)\}|\{\\c&H[0-9A-F]{6}&(\\fscx\d+\\fscy\d+)?\}|\{\\r\}"
    )
    ass = build_ass(words_of(HOSTILE + " x}y back\\slash a{open"), style="karaoke")
    for line in ass.splitlines():
        if not line.startswith("Dialogue:"):
            continue
        text = line.split(",,", 1)[1]
        blocks = re.findall(r"(?<!\\)\{[^}]*\}", text)
        assert all(ours.fullmatch(b) for b in blocks), blocks
        visible = re.sub(r"(?<!\\)\{[^}]*\}", "", text)
        assert "\\" not in visible.replace("\\{", "").replace("\\}", ""), visible
    words = [w.upper() for w in [*SURVIVING, "x\\}y", "back\u2216slash", "a\\{open"]]
    assert _in_order(re.sub(r"(?<!\\)\{[^}]*\}", "", ass), words)


def test_the_voice_is_never_given_markup_to_read() -> None:
    script = Script(
        hook="<img src=x onerror=alert(1)>Did you know?",
        lines=[ScriptLine("{\\fs300}Cats\\Npurr <b>loudly</b>."), ScriptLine("<br/>")],
        title="t",
        description="",
        hashtags=[],
    )
    spoken = readable_script(script)
    assert spoken.narration == "Did you know? Cats purr loudly."
    assert len(spoken.lines) == 1  # a line that was only markup says nothing


def test_styles_read_on_a_phone_and_huge_is_the_largest() -> None:
    heights = {name: style.cap_height for name, style in CAPTION_STYLES.items()}
    assert min(heights.values()) >= 54  # capitals were 34-52 px on a 1080-wide frame
    assert heights["bold"] >= 78
    assert max(heights, key=heights.get) == "huge"


@pytest.mark.parametrize("style", sorted(CAPTION_STYLES))
def test_cues_keep_to_the_styles_width(style: str) -> None:
    look = CAPTION_STYLES[style]
    ass = build_ass(words_of("Octopuses have three hearts and their blood is blue"), style=style)
    for line in ass.splitlines():
        if line.startswith("Dialogue:"):
            text = re.sub(r"\{[^}]*\}", "", line.split(",,", 2)[-1].split("}", 1)[-1])
            assert len(text.split()) <= look.max_words
            assert len(text) <= look.max_chars or " " not in text


def test_a_word_too_long_for_the_style_is_drawn_smaller() -> None:
    ass = build_ass(words_of("incomprehensibilities"), style="huge")
    size = int(re.search(r"\\fs(\d+)", ass).group(1))
    assert size < CAPTION_STYLES["huge"].font_size
    assert size * len("incomprehensibilities") <= CAPTION_STYLES["huge"].font_size * 7
