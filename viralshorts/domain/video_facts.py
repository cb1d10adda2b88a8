"""The creator's key facts on a video request: how they are read and the rules they follow.

Without a model configured, the offline writer can only arrange what the creator gives it, so
a request that is neither the creator's own script nor backed by an AI writer needs facts: two
or more, one per line. The form asks for them with an example instead of letting the writer
invent filler about the topic.
"""

from __future__ import annotations

import re

from viralshorts.integrations.ports import Services

MIN_FACTS, MAX_FACTS = 2, 12
MAX_FACT_CHARS = 300
MAX_FACTS_TEXT = 4000
FACTS_EXAMPLE = (
    "Octopuses have three hearts.\n"
    "Two of them stop beating when an octopus swims.\n"
    "Their blood is blue because it carries copper."
)
FACTS_NEEDED = (
    "This site writes videos from your facts (no AI writer is configured): add two or more, "
    "one per line, e.g. \u201cOctopuses have three hearts.\u201d"
)
TOO_FEW = "Give at least two facts, one per line: one opens the video, the others follow."
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2013\u2014]+|\d{1,2}[.)])\s+")


def fact_lines(text: str) -> list[str]:
    """The facts typed in the form: one per non-empty line, bullets and numbering dropped."""
    facts = [" ".join(_BULLET.sub("", line).split()) for line in text.splitlines()]
    return [fact for fact in facts if fact]


def facts_text(facts: list[str]) -> str:
    """The facts as one text, the way they will be spoken (for the length estimates)."""
    return " ".join(f if f[-1:] in ".!?" else f"{f}." for f in facts)


def _size_problem(facts: str, lines: list[str]) -> tuple[str, str]:
    if len(facts) > MAX_FACTS_TEXT:
        return f"Keep the facts under {MAX_FACTS_TEXT} characters.", "facts_too_long"
    if len(lines) > MAX_FACTS:
        return f"Give at most {MAX_FACTS} facts (one per line).", "facts_too_many"
    if any(len(line) > MAX_FACT_CHARS for line in lines):
        return f"Keep each fact under {MAX_FACT_CHARS} characters.", "fact_too_long"
    return "", ""


def facts_problem(services: Services, *, facts: str, custom_script: str) -> tuple[str, str]:
    """``(message, code)`` when the facts break a rule, else ``("", "")``.

    A creator's own script needs no facts; an AI writer may work from the topic alone; the
    offline writer needs at least two.
    """
    lines = fact_lines(facts)
    size = _size_problem(facts, lines)
    if size[0] or custom_script.strip() or services.settings.openai_enabled:
        return size
    if not lines:
        return FACTS_NEEDED, "facts_needed"
    return (TOO_FEW, "facts_too_few") if len(lines) < MIN_FACTS else ("", "")
