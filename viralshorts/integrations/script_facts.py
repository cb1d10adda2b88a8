"""The offline writer's facts mode: a script arranged from the creator's own facts, no network.

A template cannot know anything about a topic, so this writer says only what it is given. Each
fact becomes one spoken line, word for word; the writer adds nothing but a small vocabulary of
connecting phrases per language (``PHRASEBOOKS``): a hook frame, line openers and a closing line.

The hook is the most surprising fact (``surprise_score``): numbers count most, then
superlatives and "only/never/first" words, contrast words ("but", "although", "pero") and big
quantities ("million", "percent"); very long facts lose a point because a hook must be quick.
Videos of one batch get consecutive seeds, so the lead fact, the hook frame and the title
pattern are all picked by ``seed`` modulo their number: any three consecutive seeds give three
different hooks and titles. Languages without a phrasebook are arranged "facts only": the facts
as written, the most surprising first, with no added words at all.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from viralshorts.errors import IntegrationError
from viralshorts.integrations.fact_words import (
    LANGUAGE_WORDS,
    LanguageWords,
    detect_language,
    lemma,
    words_of,
)
from viralshorts.integrations.ports import Script, ScriptBrief, ScriptLine

MIN_FACTS, MAX_FACTS = 2, 12
FEW_FACTS = "Give at least two facts, one per line: one opens the video, the others follow."
MAX_FACT_CHARS = 300
MAX_KEYWORDS = 4
MAX_TOPIC_TAGS = 4
LEAD_CHOICES = 3
"""The lead fact is one of the three most surprising, picked by seed (the batch variety)."""
LONG_FACT_WORDS = 25
QUESTION_WORDS = frozenset(
    [
        "why",
        "how",
        "what",
        "when",
        "where",
        "who",
        "which",
        "whether",
        "por",
        "qué",
        "cómo",
        "cuándo",
        "dónde",
        "quién",
        "cuál",
    ]
)
SHORT_TARGET_SECONDS = 20
TITLE_MAX = 100
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2013\u2014]+|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class Phrasebook:
    """Every word the writer may add in one language (``{f}``: the fact)."""

    hook_frames: tuple[str, ...]
    comma_openers: tuple[str, ...]
    colon_openers: tuple[str, ...]
    last_openers: tuple[str, ...]
    closings: tuple[str, ...]
    short_closings: tuple[str, ...]
    titles: tuple[str, ...]
    topic_titles: tuple[str, ...]


PHRASEBOOKS: dict[str, Phrasebook] = {
    "en": Phrasebook(
        hook_frames=(
            "{f}",
            "Did you know? {f}",
            "Stop scrolling: {f}",
            "Wait for this one: {f}",
            "Here is a fact worth knowing: {f}",
        ),
        comma_openers=("Also, {f}", "On top of that, {f}", "What is more, {f}", "Plus, {f}"),
        colon_openers=("Next: {f}", "Here is another one: {f}", "And there is more: {f}"),
        last_openers=("And finally, {f}", "Last one: {f}"),
        closings=(
            "Which of these surprised you most? Tell me in the comments.",
            "Follow for more facts like these.",
            "Save this and share it with a friend who would love it.",
        ),
        short_closings=("Follow for more.", "Save this one.", "Which one surprised you?"),
        titles=("{lead}", "Did you know? {lead}", "{n} facts you did not know"),
        topic_titles=("{lead}", "{Topic}: {lead}", "{n} facts about {topic}"),
    ),
    "es": Phrasebook(
        hook_frames=(
            "{f}",
            "¿Sabías esto? {f}",
            "Deja de deslizar: {f}",
            "Espera a oír esto: {f}",
            "Aquí va un dato que vale la pena conocer: {f}",
        ),
        comma_openers=("Además, {f}", "Por si fuera poco, {f}", "Es más, {f}", "Encima, {f}"),
        colon_openers=("Siguiente: {f}", "Aquí va otro: {f}", "Y hay más: {f}"),
        last_openers=("Y por último, {f}", "El último: {f}"),
        closings=(
            "¿Cuál de estos te sorprendió más? Cuéntamelo en los comentarios.",
            "Sígueme para más datos como estos.",
            "Guarda este video y compártelo con alguien a quien le encantaría.",
        ),
        short_closings=("Sígueme para más.", "Guarda este video.", "¿Cuál te sorprendió más?"),
        titles=("{lead}", "¿Sabías esto? {lead}", "{n} datos que no sabías"),
        topic_titles=("{lead}", "{Topic}: {lead}", "{n} datos sobre {topic}"),
    ),
}
FACTS_ONLY = Phrasebook(("{f}",), (), (), (), (), (), ("{lead}",), ("{lead}", "{Topic}: {lead}"))
"""For a language without a phrasebook: the facts as written, nothing added."""


def phrasebook_languages() -> frozenset[str]:
    """The languages whose connecting phrases the writer has."""
    return frozenset(PHRASEBOOKS)


def connective_words(language: str) -> frozenset[str]:
    """Every word the writer may add to the facts in ``language`` (lower case)."""
    book = PHRASEBOOKS.get(language, FACTS_ONLY)
    phrases = [p for group in vars(book).values() for p in group]
    return frozenset(w.lower() for p in phrases for w in words_of(re.sub(r"\{\w+\}", " ", p)))


def clean_facts(text_or_lines: str | list[str] | tuple[str, ...]) -> list[str]:
    """The creator's facts, one per non-empty line: bullets and numbering dropped, spaces
    collapsed, a full stop added where a line ends without punctuation, duplicates removed."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    facts: list[str] = []
    for line in lines:
        fact = " ".join(_BULLET.sub("", str(line)).split())
        if not fact:
            continue
        if fact[-1] not in ".!?\u2026":
            fact += "."
        if fact.lower() not in (f.lower() for f in facts):
            facts.append(fact)
    return facts


def surprise_score(fact: str, words: LanguageWords) -> int:
    """How surprising ``fact`` sounds: numbers 3 each (two at most), superlatives and
    "only/never/first" words 2, contrast words 2, big quantities 1, over 25 words -1."""
    tokens = [w.lower() for w in words_of(fact)]
    numbers = len(re.findall(r"\d+(?:[.,]\d+)*", fact))
    score = 3 * min(numbers, 2) + sum(1 for t in tokens if t in words.number_words)
    score += 2 * sum(1 for t in tokens if words.is_superlative(t))
    score += 2 * sum(1 for t in tokens if t in words.contrast)
    score += sum(1 for t in tokens if t in words.quantities) + fact.count("%")
    return score - (len(tokens) > LONG_FACT_WORDS)


def ranked_facts(facts: list[str], words: LanguageWords) -> list[int]:
    """Indexes of ``facts``, most surprising first (the creator's order breaks ties)."""
    return sorted(range(len(facts)), key=lambda i: (-surprise_score(facts[i], words), i))


def line_keywords(fact: str, words: LanguageWords, topic_lemmas: frozenset[str]) -> list[str]:
    """Visual keywords of one fact: its likely nouns (topic words first), at most four."""
    nouns = words.nouns(fact)
    ordered = sorted(nouns, key=lambda w: (lemma(w, words.code) not in topic_lemmas, 0))
    return list(dict.fromkeys(ordered))[:MAX_KEYWORDS] or words.content(fact)[:MAX_KEYWORDS]


def topic_hashtags(facts: list[str], topic: str, niche: str, words: LanguageWords) -> list[str]:
    """Hashtags of real topic words: nouns the topic names or several facts repeat, the
    topic itself when it is a short name, the niche when it has no stop-words, and #shorts."""
    topic_lemmas = {lemma(w, words.code) for w in words.nouns(topic) + words.content(topic)}
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for fact in facts:
        for noun in dict.fromkeys(words.nouns(fact)):
            counts[lemma(noun, words.code)] += 1
            key = lemma(noun, words.code)
            if len(noun) < len(spelling.get(key, noun + "_")):
                spelling[key] = noun
    picked = [key for key, n in counts.most_common() if key in topic_lemmas or n >= 2]
    picked += [key for key, _ in counts.most_common() if key not in picked]
    tags = [_phrase_tag(topic, words), _phrase_tag(niche, words)]
    tags += ["#" + spelling[key].replace("-", "").capitalize() for key in picked[:MAX_TOPIC_TAGS]]
    by_lower = {t.lower(): t for t in reversed(tags) if t and len(t) > 3}
    unique = [by_lower[k] for k in dict.fromkeys(t.lower() for t in tags) if k in by_lower]
    return [*unique[:5], "#shorts"]


def _phrase_tag(phrase: str, words: LanguageWords) -> str:
    """``"octopus hearts"`` → ``"#OctopusHearts"``; "" unless every word is a content word."""
    parts = words_of(phrase)
    if not 1 <= len(parts) <= 3 or len(words.content(phrase)) != len(parts):
        return ""
    if any(p.lower() in words.number_words for p in parts):
        return ""
    return "#" + "".join(p[:1].upper() + p[1:] for p in parts)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-") + "\u2026"


class FactsDraft:
    """One facts-mode script: the brief, its facts, and the seeded choices."""

    def __init__(self, brief: ScriptBrief, facts: list[str]) -> None:
        self.brief, self.facts = brief, facts[:MAX_FACTS]
        chosen = brief.language.strip().lower().replace("_", "-").split("-")[0] or "en"
        self.language = detect_language(self.facts) or chosen
        self.words = LANGUAGE_WORDS.get(self.language, LANGUAGE_WORDS["en"])
        self.book = PHRASEBOOKS.get(self.language, FACTS_ONLY)
        self.rng = random.Random(f"{brief.seed}|{'|'.join(self.facts)}")
        self.seed = brief.seed
        topic = " ".join(brief.topic.split()).rstrip("?!. ")
        first = topic.split(" ", 1)[0]
        # A question ("Why owls turn their heads") reads inside a title in lower case.
        lowered = first.lower() in self.words.lowercase_starts | QUESTION_WORDS
        self.topic = first.lower() + topic[len(first) :] if lowered else topic

    def lead_index(self) -> int:
        ranked = ranked_facts(self.facts, self.words)
        return ranked[self.seed % min(LEAD_CHOICES, len(ranked))]

    def opener_for(self, fact: str, openers: tuple[str, ...], used: set[str]) -> str:
        """``fact`` with a connecting phrase not used yet in this script (or as it is)."""
        lowered = self.words.lowered_start(fact)
        usable = [o for o in openers if o not in used and (lowered or o.endswith(": {f}"))]
        if not usable:
            return fact
        opener = self.rng.choice(usable)
        used.add(opener)
        return opener.format(f=lowered if lowered and not opener.endswith(": {f}") else fact)

    def body(self, rest: list[str]) -> list[tuple[str, str]]:
        """``(line, fact)`` per remaining fact, about half of them with a connecting phrase."""
        used: set[str] = set()
        openers = self.book.comma_openers + self.book.colon_openers
        lines = []
        for position, fact in enumerate(rest):
            if position == len(rest) - 1 and len(rest) > 1 and self.book.last_openers:
                lines.append((self.opener_for(fact, self.book.last_openers, used), fact))
            elif position % 2 == 1 and openers:
                lines.append((self.opener_for(fact, openers, used), fact))
            else:
                lines.append((fact, fact))
        return lines

    def closing(self) -> list[str]:
        short = self.brief.target_seconds <= SHORT_TARGET_SECONDS
        choices = self.book.short_closings if short else self.book.closings
        return [choices[self.seed % len(choices)]] if choices else []

    def title(self, lead: str) -> str:
        patterns = self.book.topic_titles if self.topic else self.book.titles
        pattern = patterns[self.seed % len(patterns)]
        text = pattern.format(
            lead=lead.rstrip(".!\u2026"),
            n=len(self.facts),
            topic=self.topic,
            Topic=self.topic[:1].upper() + self.topic[1:],
        )
        return _clip(text, TITLE_MAX)

    def script(self) -> Script:
        """Hook (the lead fact, framed), one line per other fact, a closing line."""
        lead_at = self.lead_index()
        lead = self.facts[lead_at]
        frames = self.book.hook_frames
        hook = frames[self.seed % len(frames)].format(f=lead)
        rest = [f for i, f in enumerate(self.facts) if i != lead_at]
        topic_lemmas = frozenset(lemma(w, self.words.code) for w in self.words.content(self.topic))
        lines = [
            ScriptLine(text, line_keywords(fact, self.words, topic_lemmas))
            for text, fact in self.body(rest)
        ]
        # The closing line says nothing to film: it shows the lead fact's subject again.
        lead_keywords = line_keywords(lead, self.words, topic_lemmas)
        lines += [ScriptLine(text, lead_keywords) for text in self.closing()]
        description = _clip(" ".join(self.facts), 300)
        if self.topic:
            description = _clip(f"{self.topic[:1].upper()}{self.topic[1:]}: {description}", 300)
        hashtags = topic_hashtags(self.facts, self.topic, self.brief.niche, self.words)
        return Script(hook, lines, self.title(lead), description, hashtags)


def script_from_facts(brief: ScriptBrief, facts: list[str] | tuple[str, ...]) -> Script:
    """A script that says ``facts`` (cleaned), in their language, deterministic per seed.

    Raises:
        IntegrationError: fewer than two facts (a hook and at least one line).
    """
    cleaned = clean_facts(facts)
    if len(cleaned) < MIN_FACTS:
        raise IntegrationError(FEW_FACTS, retryable=False)
    return FactsDraft(brief, cleaned).script()
