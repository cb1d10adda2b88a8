"""Word timings for captions: estimate them, align a transcription, or pick the best source.

Pure Python: the speech engine and the transcriber arrive through the ports.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import SpeechResult, Transcriber, WordTiming

log = logging.getLogger(__name__)

VOWELS = frozenset("aeiouyàáâäæãåāèéêëēėęîïíīįìôöòóœøōõûüùúūÿ")
PAUSE_WEIGHTS = {",": 0.5, ";": 0.7, ":": 0.7, "—": 0.5, ".": 1.0, "!": 1.0, "?": 1.0}
"""Pause after a word ending in this mark, in syllables of speaking time."""
TRAILING_MISSING_WORD_SECONDS = 0.3
CLOSING_MARKS = "\"')]\u201d\u2019"
"""Quotes and brackets that may follow a sentence's final punctuation."""


def split_words(text: str) -> list[str]:
    """The words of ``text`` as they are written (punctuation stays attached)."""
    return text.split()


def count_syllables(word: str) -> int:
    """Estimate the spoken syllables of one written word (English-biased, never below 1).

    Args:
        word: A word, possibly with punctuation or digits.

    Returns:
        0 for words without letters or digits (a dash), else the estimate.
    """
    letters = "".join(ch for ch in word.lower() if ch.isalpha())
    digits = sum(ch.isdigit() for ch in word)
    if digits and not letters:
        return min(8, 2 * digits)  # "2,500" is spoken as "two thousand five hundred"
    if not letters:
        return 0
    groups = 0
    previous_was_vowel = False
    for ch in letters:
        is_vowel = ch in VOWELS
        groups += is_vowel and not previous_was_vowel
        previous_was_vowel = is_vowel
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1  # silent final e: "make", "time"
    return max(1, groups)


def pause_after(word: str) -> float:
    """The pause (in syllables) a speaker leaves after ``word``, from its final punctuation."""
    stripped = word.rstrip(CLOSING_MARKS)
    return PAUSE_WEIGHTS.get(stripped[-1:], 0.0) if stripped else 0.0


def estimate_word_timings(text: str, duration: float, *, start: float = 0.0) -> list[WordTiming]:
    """Spread the words of ``text`` over ``duration`` seconds in proportion to their syllables.

    Args:
        text: The spoken text.
        duration: Seconds the text takes.
        start: When the first word begins.

    Returns:
        Monotonic timings inside ``[start, start + duration]``, punctuation kept on the words.
    """
    words = split_words(text)
    if not words:
        return []
    weights = [float(count_syllables(w)) for w in words]
    pauses = [pause_after(w) for w in words[:-1]] + [0.0]
    total = sum(weights) + sum(pauses) or 1.0
    unit = max(duration, 0.0) / total
    timings: list[WordTiming] = []
    cursor = start
    for word, weight, pause in zip(words, weights, pauses, strict=True):
        end = cursor + weight * unit
        timings.append(WordTiming(word, round(cursor, 3), round(end, 3)))
        cursor = end + pause * unit
    last = timings[-1]
    timings[-1] = WordTiming(last.word, last.start, round(start + max(duration, 0.0), 3))
    return timings


def normalize_word(word: str) -> str:
    """Lower-case letters and digits only: how a transcription and a script are compared."""
    return "".join(ch for ch in word.lower() if ch.isalnum())


def _spread(words: Sequence[str], start: float, end: float) -> list[WordTiming]:
    return estimate_word_timings(" ".join(words), max(end - start, 0.0), start=start)


def align_words(
    transcribed: list[WordTiming], script_text: str, *, duration: float | None = None
) -> list[WordTiming]:
    """Put the script's own words (with punctuation) on a transcription's timings.

    Matching words take the transcribed times; script words the transcriber heard differently
    share the time of what it heard instead; words it missed are interpolated into the gap.

    Args:
        transcribed: Word timings from a transcriber (no punctuation, maybe misheard).
        script_text: What was actually spoken, as written.
        duration: Length of the audio, used for script words missing at the very end.

    Returns:
        One timing per script word, monotonic.
    """
    script = split_words(script_text)
    if not transcribed:
        return estimate_word_timings(script_text, duration or 0.0)
    matcher = difflib.SequenceMatcher(
        a=[normalize_word(w) for w in script],
        b=[normalize_word(t.word) for t in transcribed],
        autojunk=False,
    )
    result: list[WordTiming] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "insert":
            continue
        if tag == "equal":
            pairs = zip(script[a0:a1], transcribed[b0:b1], strict=True)
            result.extend(WordTiming(w, t.start, t.end) for w, t in pairs)
            continue
        span = _gap(
            done=result, transcribed=transcribed, b0=b0, b1=b1, missing=a1 - a0, duration=duration
        )
        result.extend(_spread(script[a0:a1], *span))
    return _monotonic(result)


def _gap(
    *,
    done: list[WordTiming],
    transcribed: list[WordTiming],
    b0: int,
    b1: int,
    missing: int,
    duration: float | None,
) -> tuple[float, float]:
    """The time span that script words without an exact match were spoken in."""
    if b1 > b0:  # replaced: the words the transcriber heard instead
        return transcribed[b0].start, transcribed[b1 - 1].end
    begin = done[-1].end if done else 0.0
    if b0 < len(transcribed):
        return begin, max(begin, transcribed[b0].start)
    end = begin + TRAILING_MISSING_WORD_SECONDS * missing
    return begin, min(end, duration) if duration and duration > begin else end


def _monotonic(timings: list[WordTiming]) -> list[WordTiming]:
    fixed: list[WordTiming] = []
    floor = 0.0
    for t in timings:
        start = max(t.start, floor)
        end = max(t.end, start)
        fixed.append(WordTiming(t.word, start, end))
        floor = end
    return fixed


def resolve_word_timings(
    speech: SpeechResult,
    script_text: str,
    *,
    transcriber: Transcriber | None,
    language: str,
) -> list[WordTiming]:
    """The best word timings available for ``speech``.

    The speech engine's own timings win; otherwise a transcription aligned to the script;
    otherwise (no transcriber, or it failed) a syllable-proportional estimate.

    Args:
        speech: The synthesized narration.
        script_text: The narration as written.
        transcriber: A word-timestamp transcriber, or None when none is configured.
        language: ISO-639-1 code of the narration, passed to the transcriber.

    Returns:
        One timing per script word.
    """
    if speech.words:
        return list(speech.words)
    if transcriber is not None:
        try:
            heard = transcriber.word_timings(speech.audio_path, language=language)
        except IntegrationError as exc:
            log.warning("transcription failed, estimating word timings instead: %s", exc)
        else:
            if heard:
                return align_words(heard, script_text, duration=speech.duration)
    return estimate_word_timings(script_text, speech.duration)
