"""Captions from word timings: short cues, ASS with the spoken word highlighted, SRT/VTT sidecars.

Pure Python. Timing sources live in ``timings.py`` and are re-exported here, so the renderer
imports everything caption-related from this one module. Every writer first removes markup the
script may carry (``caption_markup.readable_words``), then escapes for its own format.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from viralshorts.domain.rendering.caption_markup import readable_words
from viralshorts.domain.rendering.timings import (
    CLOSING_MARKS,
    align_words,
    estimate_word_timings,
    resolve_word_timings,
)
from viralshorts.integrations.ports import WordTiming
from viralshorts.settings import PROJECT_ROOT

__all__ = [
    "CAPTION_STYLES",
    "EVENT_FORMAT",
    "FONTS_DIR",
    "FONT_FAMILY",
    "STYLE_FORMAT",
    "Cue",
    "align_words",
    "build_ass",
    "build_srt",
    "build_vtt",
    "estimate_word_timings",
    "group_cues",
    "readable_words",
    "resolve_word_timings",
]

FONTS_DIR = PROJECT_ROOT / "assets" / "fonts"
FONT_FAMILY = "League Spartan Black"
LONG_GAP_SECONDS = 0.35
BREAK_AFTER = (",", ".", "!", "?", ";", ":", "—")
SENTENCE_END = (".", "!", "?")
SIDECAR_LINE_CHARS = 42


@dataclass(frozen=True)
class Cue:
    """Words shown together on screen."""

    start: float
    end: float
    words: list[WordTiming]

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


def _ends_phrase(word: str, marks: tuple[str, ...]) -> bool:
    return word.rstrip(CLOSING_MARKS).endswith(marks)


def _chunk(
    words: list[WordTiming], *, max_words: int, max_chars: int, marks: tuple[str, ...]
) -> list[Cue]:
    """Cut ``words`` into cues at punctuation, long gaps, and the word/character limits."""
    cues: list[list[WordTiming]] = []
    for word in words:
        current = cues[-1] if cues else None
        if current is None or _must_break(current, word, max_words, max_chars, marks):
            cues.append([word])
        else:
            current.append(word)
    return [Cue(c[0].start, c[-1].end, c) for c in cues]


def _must_break(
    current: list[WordTiming],
    word: WordTiming,
    max_words: int,
    max_chars: int,
    marks: tuple[str, ...],
) -> bool:
    last = current[-1]
    chars = sum(len(w.word) + 1 for w in current) + len(word.word)
    return (
        len(current) >= max_words
        or chars > max_chars
        or _ends_phrase(last.word, marks)
        or word.start - last.end > LONG_GAP_SECONDS
    )


def group_cues(words: list[WordTiming], *, max_words: int = 3, max_chars: int = 16) -> list[Cue]:
    """Group words into on-screen cues of 1..``max_words`` words.

    Args:
        words: Monotonic word timings.
        max_words: Most words in one cue.
        max_chars: Most characters in one cue (a longer single word gets a cue of its own).

    Returns:
        Cues in time order; a cue never spans punctuation or a long pause.
    """
    return _chunk(words, max_words=max_words, max_chars=max_chars, marks=BREAK_AFTER)


# ---------------------------------------------------------------- ASS


STYLE_FORMAT = (
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
    "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
EVENT_FORMAT = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"

# libass sizes a font by its ascent + descent; League Spartan's capitals are 0.445 of that
# (measured: 89 px tall at size 200 on a 1920-line frame).
CAP_HEIGHT_RATIO = 0.445


@dataclass(frozen=True)
class CaptionStyle:
    """How one named caption style looks. Colours are ASS ``&HBBGGRR&``.

    ``max_words`` and ``max_chars`` bound one cue so that it fits the safe width on one line at
    this size (about 0.4 em per capital); a longer single word is drawn smaller to fit.
    """

    font_size: int
    text_colour: str
    active_colour: str
    outline: int
    shadow: int
    active_scale: int
    uppercase: bool
    spoken_colour: str = ""  # karaoke: words already spoken keep this colour
    max_words: int = 3
    max_chars: int = 11

    @property
    def cap_height(self) -> int:
        """Height in output pixels of a capital letter that is not the active word."""
        return round(self.font_size * CAP_HEIGHT_RATIO)


# Sizes are in 1920-line script pixels, chosen for a phone held at arm's length: "bold" capitals
# are 80 px tall on a 1080-wide frame (they were 52 px, which read small on frames of a render).
CAPTION_STYLES: dict[str, CaptionStyle] = {
    "bold": CaptionStyle(180, "&HFFFFFF&", "&H00E5FF&", 9, 4, 112, uppercase=True, max_chars=10),
    "clean": CaptionStyle(150, "&HFFFFFF&", "&HFFD24A&", 6, 0, 106, uppercase=False, max_chars=13),
    "karaoke": CaptionStyle(
        170, "&HE0E0E0&", "&H3CFF5A&", 8, 3, 108, uppercase=True, spoken_colour="&H3CFF5A&",
        max_chars=10,
    ),
    "minimal": CaptionStyle(130, "&HFFFFFF&", "&H9BE8FF&", 5, 0, 100, uppercase=False,
                            max_chars=15),
    "huge": CaptionStyle(240, "&HFFFFFF&", "&H00E5FF&", 11, 5, 106, uppercase=True,
                         max_words=2, max_chars=7),
}  # fmt: skip

# The band captions live in: below the top third, above the bottom ~20% (platform UI) and
# left of the right-hand ~12% action rail.
SAFE_CENTRE_Y = 0.60
SAFE_LEFT_MARGIN = 0.06
SAFE_RIGHT_MARGIN = 0.14


def ass_time(seconds: float) -> str:
    """``H:MM:SS.cc`` as ASS wants it (centiseconds)."""
    cs = max(0, round(seconds * 100))
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def escape_ass(text: str) -> str:
    """Make a word safe inside an ASS Dialogue: no override blocks, escapes or line breaks.

    libass has escapes for braces but none for a backslash, so a backslash becomes the
    look-alike SET MINUS sign; line breaks become spaces.
    """
    text = " ".join(text.split())
    return text.replace("\\", "\u2216").replace("{", "\\{").replace("}", "\\}")


def _header(style: CaptionStyle, width: int, height: int) -> str:
    margin_l = round(width * SAFE_LEFT_MARGIN)
    margin_r = round(width * SAFE_RIGHT_MARGIN)
    fields = (
        f"Style: Caption,{FONT_FAMILY},{style.font_size},{style.text_colour[:-1]},"
        f"{style.active_colour[:-1]},&H000000,&H80000000,-1,0,0,0,100,100,0,0,1,"
        f"{style.outline},{style.shadow},5,{margin_l},{margin_r},0,1"
    )
    return "\n".join(
        [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 0",
            "ScaledBorderAndShadow: yes",
            "",
            "[V4+ Styles]",
            STYLE_FORMAT,
            fields,
            "",
            "[Events]",
            EVENT_FORMAT,
        ]
    )


def _word_text(word: str, style: CaptionStyle) -> str:
    return escape_ass(word.upper() if style.uppercase else word)


def _state_text(cue: Cue, active: int, style: CaptionStyle, fit: str = "") -> str:
    """The cue with word ``active`` highlighted (and, in karaoke, spoken words coloured);
    ``fit`` is the cue's own size override, repeated after each reset."""
    parts = []
    for i, word in enumerate(cue.words):
        text = _word_text(word.word, style)
        if i == active:
            scale = f"\\fscx{style.active_scale}\\fscy{style.active_scale}"
            text = f"{{\\c{style.active_colour}{scale}}}{text}{{\\r{fit}}}"
        elif i < active and style.spoken_colour:
            text = f"{{\\c{style.spoken_colour}}}{text}{{\\r{fit}}}"
        parts.append(text)
    return " ".join(parts)


def _display_end(cues: list[Cue], index: int) -> float:
    """Keep a cue up until the next one when the pause between them is short (no flicker)."""
    cue = cues[index]
    if index + 1 < len(cues) and cues[index + 1].start - cue.end <= LONG_GAP_SECONDS:
        return cues[index + 1].start
    return cue.end


def _fit(cue: Cue, style: CaptionStyle) -> str:
    """A smaller font size for a cue wider than the style allows (one long word), else ""."""
    if len(cue.text) <= style.max_chars:
        return ""
    return f"\\fs{style.font_size * style.max_chars // len(cue.text)}"


def _cue_events(cue: Cue, end: float, style: CaptionStyle, position: str) -> list[str]:
    fit = _fit(cue, style)
    position = position[:-1] + fit + "}"
    events = []
    for i in range(len(cue.words)):
        start = cue.start if i == 0 else cue.words[i].start
        stop = cue.words[i + 1].start if i + 1 < len(cue.words) else end
        if round(stop * 100) <= round(start * 100):
            continue  # shorter than a centisecond: the next state covers it
        text = position + _state_text(cue, i, style, fit)
        events.append(f"Dialogue: 0,{ass_time(start)},{ass_time(stop)},Caption,,0,0,0,,{text}")
    return events


def build_ass(
    words: list[WordTiming],
    *,
    style: str,
    width: int = 1080,
    height: int = 1920,
) -> str:
    """An Advanced SubStation script: 1-3 word cues, the spoken word highlighted.

    Each cue becomes one Dialogue event per word, in which exactly that word is highlighted.

    Args:
        words: Monotonic word timings; markup in their text is removed, the rest escaped.
        style: One of ``CAPTION_STYLES`` ("bold", "clean", "karaoke", "minimal", "huge").
        width: Video width in pixels.
        height: Video height in pixels.

    Returns:
        The ASS file's text; render it with ``fontsdir=FONTS_DIR``.
    """
    look = CAPTION_STYLES[style]
    x = round(width * (SAFE_LEFT_MARGIN + (1 - SAFE_LEFT_MARGIN - SAFE_RIGHT_MARGIN) / 2))
    position = f"{{\\an5\\pos({x},{round(height * SAFE_CENTRE_Y)})}}"
    cues = group_cues(readable_words(words), max_words=look.max_words, max_chars=look.max_chars)
    events = []
    for index, cue in enumerate(cues):
        events.extend(_cue_events(cue, _display_end(cues, index), look, position))
    return "\n".join([_header(look, width, height), *events]) + "\n"


# ---------------------------------------------------------------- SRT / VTT sidecars


def _sidecar_cues(words: list[WordTiming]) -> list[Cue]:
    words = readable_words(words)
    return _chunk(
        words, max_words=len(words) or 1, max_chars=2 * SIDECAR_LINE_CHARS, marks=SENTENCE_END
    )


def _two_lines(text: str) -> str:
    """Break a cue longer than one line at the space that best balances two fitting lines."""
    if len(text) <= SIDECAR_LINE_CHARS:
        return text
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    fitting = [i for i in spaces if max(i, len(text) - i - 1) <= SIDECAR_LINE_CHARS]
    cut = min(fitting or spaces, key=lambda i: abs(i - len(text) / 2))
    return f"{text[:cut]}\n{text[cut + 1 :]}"


def _clock(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def build_srt(words: list[WordTiming]) -> str:
    """SubRip captions: sentence-ish cues of at most two 42-character lines, without markup."""
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{_two_lines(c.text)}\n"
        for n, c in enumerate(_sidecar_cues(words), start=1)
    ]
    return "\n".join(blocks)


def _vtt_text(text: str) -> str:
    return html.escape(_two_lines(text), quote=False)


def build_vtt(words: list[WordTiming]) -> str:
    """WebVTT captions with the same cues as ``build_srt``; ``&``, ``<`` and ``>`` escaped."""
    blocks = [
        f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{_vtt_text(c.text)}\n"
        for c in _sidecar_cues(words)
    ]
    return "\n".join(["WEBVTT\n", *blocks])
