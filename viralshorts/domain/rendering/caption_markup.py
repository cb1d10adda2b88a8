"""Caption words as a person should read them: no markup that a subtitle player interprets.

A script is free text, but players read tags in caption text: HTML-like ``<b>``/``<font>`` in
SRT, ``{\\an8}``-style override blocks (VLC, mpv and libass read them in SRT too), ``\\N`` line
breaks, ``<c>``/``<v>`` in WebVTT. Such markup is removed from the words before any caption file
is written; what is left is plain text that each writer escapes for its own format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from viralshorts.integrations.ports import Script, WordTiming

# A tag starts like one ("<b", "</", "<!"), so "3 < 5" is left alone; blocks may span words.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])[^<>]*>|\{[^{}]*\}")
_TAG_OPENING = re.compile(r"<(?=[A-Za-z/!?])")
_BREAK_CODE = re.compile(r"\\[Nnh]")
_CUE_ARROW = re.compile(r"-{2,}>")  # "-->" in a cue's text reads as a timing line

_Chars = list[tuple[str, int]]  # each character with the index of the word it belongs to
_SEPARATOR = -1


def _substitute(chars: _Chars, pattern: re.Pattern[str], replacement: str) -> tuple[_Chars, bool]:
    text = "".join(c for c, _ in chars)
    out: _Chars = []
    last = 0
    found = False
    for match in pattern.finditer(text):
        out.extend(chars[last : match.start()])
        if replacement:
            out.append((replacement, chars[match.start()][1]))
        last = match.end()
        found = True
    out.extend(chars[last:])
    return out, found


def _without_markup(chars: _Chars) -> _Chars:
    # Repeat: removing "<b>" from "<<b>b>" (or "{x}" from "{{x}y}") leaves another tag.
    found = True
    while found:
        chars, found = _substitute(chars, _MARKUP, "")
    for pattern, replacement in ((_TAG_OPENING, ""), (_BREAK_CODE, " "), (_CUE_ARROW, "->")):
        chars, _ = _substitute(chars, pattern, replacement)
    return chars


def readable_words(words: list[WordTiming]) -> list[WordTiming]:
    """The words with tags, override blocks, ``\\N``-style codes and control characters removed.

    Args:
        words: Word timings whose text comes from the script.

    Returns:
        The same timings with plain text; a word that was only markup is left out.
    """
    chars: _Chars = []
    for index, word in enumerate(words):
        if index:
            chars.append((" ", _SEPARATOR))
        chars.extend((c, index) for c in word.word if unicodedata.category(c) != "Cc")
    texts = [""] * len(words)
    for char, index in _without_markup(chars):
        if index != _SEPARATOR:
            texts[index] += char
    return [
        replace(word, word=" ".join(text.split()))
        for word, text in zip(words, texts, strict=True)
        if text.strip()
    ]


def readable_text(text: str) -> str:
    """``text`` without markup or control characters, whitespace collapsed (for narration)."""
    chars: _Chars = [(c, 0) for c in text if unicodedata.category(c) != "Cc"]
    return " ".join("".join(c for c, _ in _without_markup(chars)).split())


def readable_script(script: Script) -> Script:
    """The script with markup removed from what is spoken, so the voice never reads tags."""
    lines = [replace(line, text=readable_text(line.text)) for line in script.lines]
    return replace(script, hook=readable_text(script.hook), lines=[ln for ln in lines if ln.text])
