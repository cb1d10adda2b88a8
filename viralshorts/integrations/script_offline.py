"""The built-in script writer, no network: from the creator's facts, their script, or a topic.

Given facts (``brief.facts``) it arranges them into a script in their language and adds
nothing else (``script_facts``); given the creator's own script (``script_from_text``) it
speaks it as written, in every language. With neither, it falls back to English templates
about the topic: they know nothing about it, so the request forms never send such a brief
without a model configured (they ask for facts); the headless command and benchmark still can.
For any other language that fallback refuses with a clear message instead of quietly
producing English narration (``OPENAI_API_KEY`` turns on the OpenAI writer).
"""

from __future__ import annotations

import random
import re

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import Script, ScriptBrief, ScriptLine
from viralshorts.integrations.script_facts import script_from_facts

# Measured: the Piper "joe" voice speaks about 3.2-3.5 words/s at speed 1.0, so scripts are
# sized at 3.2 words per target second (at 2.5 a 30 s target came out about 25% short).
WORDS_PER_SECOND = 3.2
SHORT_TARGET_SECONDS = 20
"""Up to this target a script has two body lines at least (not three) and a short call to action:
hook + three lines + a full call to action is already about 17 s of speech."""
TITLE_MAX = 100
MAX_KEYWORDS = 4
ENGLISH = frozenset({"en", "eng", "english"})
LANGUAGE_NAMES = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
}

_STOP_WORDS_TEXT = """
    a about above after again against all almost also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each even
    ever every few for from further get gets got had has have having he her here hers him his how i
    if in into is it its itself just least less let like look made make makes many may me might
    more most much must my never no nor not now of off on once one only or other our out over own
    part really right same say says see she should so some still such sure take than that the
    their them then there these they thing things think this those though through to too under
    until up us very want was way we well were what when where which while who why will with
    without would yet you your yours nobody anyone everyone someone something nothing everything
    people time times day days bit lot part parts first last next new real secret simple wrong
    truth fact facts follow comment save share watch know knew known tell told check short best
    behind keeps keep coming comes bring works work goes go try today spend five remember often
    surprising whole ignore fits stick luck joke twist story matters admit took exactly mistake
    skip shapes guess later send loves points again start always surprised change changes
    quick got probably hiding notice talk half interesting needed care deeper even"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

HOOKS = (
    "Did you know there is a side of {topic} most people never notice?",
    "Why does nobody talk about {topic}?",
    "Forget what you think you know about {topic}.",
    "Everything you were told about {topic} is only half the story.",
    "Stop scrolling: this is the {niche} fact about {topic} you needed today.",
    "Stop scrolling if you care about {niche}, because {topic} just got interesting.",
    "Here are {n} things about {topic} that change how you see {niche}.",
    "{n} quick truths about {topic}, and the last one surprised me.",
    "You have probably got {topic} wrong, and here is why.",
    "Give me thirty seconds and {topic} will never look the same.",
)

BODY = (
    "First, {kw} is the part of {topic} that {intens} matters most.",
    "Most {niche} fans skip over {kw}, and that is exactly the mistake.",
    "{opener} you run into {topic} more often than you would guess.",
    "The people who understand {topic} best always start with {kw}.",
    "Think of {kw} as the engine behind everything else in {topic}.",
    "Here is the twist: {kw} works best when you stop forcing it.",
    "{opener} small changes in {kw} add up {intens} fast.",
    "In {niche}, every talk about {topic} comes back to one thing: {kw}.",
    "Ignore the hype and watch what {kw} does over a whole week.",
    "The surprising bit: so much of {topic} comes down to {kw}.",
    "If you remember one thing about {topic}, make it {kw}.",
    "Beginners chase shortcuts, while experts build on {kw}, one day at a time.",
    "{opener} the real story of {topic} is told through {kw}.",
    "Try this today: give {kw} five honest minutes.",
    "Once you see how {kw} fits into {topic}, you cannot unsee it.",
    "The data behind {topic} points to {kw} again and again.",
    "{opener} even pros in {niche} admit {kw} took them years to master.",
    "So next time someone mentions {topic}, bring up {kw} and watch heads turn.",
    "What makes {topic} stick is not luck, it is {kw}.",
    "Put simply, {kw} turns {topic} from confusing into obvious.",
)

CTAS = (
    "Follow for more {niche} in under a minute.",
    "Save this for later and send it to a friend who loves {niche}.",
    "Comment your best {topic} tip, and follow for part two.",
    "Follow now, because the next {niche} video goes even deeper.",
    "Share this with someone who still gets {topic} wrong.",
)

SHORT_CTAS = (
    "Follow for more.",
    "Save this one.",
    "Follow for part two.",
    "Share this with a friend.",
    "Comment your best tip.",
)

TONE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # tone: (sentence openers, intensifiers)
    "energetic": (
        ("Get this:", "Here is the wild part:", "Ready for this:"),
        ("seriously", "insanely"),
    ),
    "calm": (("Take a breath:", "Quietly,", "Gently put,"), ("steadily", "quietly")),
    "funny": (("Plot twist:", "Spoiler alert:", "No joke,"), ("weirdly", "absurdly")),
    "serious": (("Consider this:", "The reality is,", "Make no mistake,"), ("deeply", "truly")),
    "informative": (
        ("Fact check:", "By the numbers,", "In short,"),
        ("measurably", "consistently"),
    ),
    "inspirational": (("Imagine this:", "Here is the hope:", "Believe it,"), ("truly", "boldly")),
}
DEFAULT_TONE = "informative"
# Templates that only read well when the topic is a noun phrase ("octopus hearts"), not a clause
# ("why Saturn has rings", "how to wake up early"); those briefs skip them.
NOUN_ONLY = frozenset(
    {
        "Stop scrolling if you care about {niche}, because {topic} just got interesting.",
        "You have probably got {topic} wrong, and here is why.",
        "Give me thirty seconds and {topic} will never look the same.",
        "{opener} you run into {topic} more often than you would guess.",
        "What makes {topic} stick is not luck, it is {kw}.",
        "Put simply, {kw} turns {topic} from confusing into obvious.",
        "Share this with someone who still gets {topic} wrong.",
        "Why does nobody talk about {topic}?",
    }
)
LONG_ONLY = frozenset({"Give me thirty seconds and {topic} will never look the same."})
"""Hooks that promise more time than a short video has."""
CLAUSE_STARTS = ("why", "how", "what", "when", "where", "who", "which", "whether")
NUMBER_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
_COUNTED_TOPIC = re.compile(
    r"^(?P<n>\d{1,2}|three|four|five|six|seven|ten)\s+(?:[\w-]+\s+){0,2}?(?:about|on|of)\s+"
    r"(?P<subject>.+)$",
    re.IGNORECASE,
)


def read_topic(topic: str) -> tuple[str, bool, int]:
    """How a brief names its subject: ``(subject, is_clause, count)``.

    "3 facts about owls" → ("owls", False, 3); "Why Saturn has rings?" → ("why Saturn has
    rings", True, 0): a clause keeps its question word in lower case so it reads inside a
    sentence ("the truth about why Saturn has rings").
    """
    text = " ".join(topic.split()).rstrip("?!. ") or "this"
    counted = _COUNTED_TOPIC.match(text)
    if counted:
        raw = counted["n"].lower()
        return counted["subject"], False, int(NUMBER_WORDS.get(raw, raw))
    first = text.split(" ", 1)[0]
    if first.lower() in CLAUSE_STARTS:
        return first.lower() + text[len(first) :], True, 0
    return text, False, 0


ASPECTS = (
    "timing",
    "consistency",
    "attention to detail",
    "patience",
    "the first step",
    "practice",
    "the hidden cost",
    "curiosity",
    "getting the basics right",
    "one simple habit",
)
"""What body lines say matters about a topic ({kw} in the templates)."""


def content_words(text: str) -> list[str]:
    """The meaningful words of ``text`` (lower case, no stop-words, no duplicates, in order).

    Args:
        text: Any English text.

    Returns:
        Words a stock-footage search can use, e.g. ``["octopus", "hearts"]``.
    """
    found: list[str] = []
    for raw in re.findall(r"[^\W\d_][\w'-]*", text):
        word = raw.lower().strip("'-")
        if len(word) > 2 and word not in STOP_WORDS and word not in found:
            found.append(word)
    return found


def line_keywords(text: str, topic: str) -> list[str]:
    """Visual keywords for one line: its own content words first, then the topic's."""
    topic_words = content_words(topic)
    own = [w for w in content_words(text) if w not in topic_words]
    in_line = [w for w in topic_words if w in text.lower()]
    keywords = [*in_line, *own, *topic_words]
    return list(dict.fromkeys(keywords))[:MAX_KEYWORDS]


def hashtags_for(topic: str, niche: str) -> list[str]:
    """Three to six hashtags from the topic and niche, most specific first."""
    tags = [_camel_tag(topic), _camel_tag(niche)]
    tags += [f"#{w}" for w in content_words(f"{topic} {niche}")]
    by_lower = {t.lower(): t for t in reversed(tags)}  # first spelling of each tag wins
    unique = [by_lower[k] for k in dict.fromkeys(t.lower() for t in tags) if 2 < len(k) <= 30]
    return [*unique[:5], "#shorts"] if len(unique) >= 2 else [*unique, "#viral", "#shorts"]


def _camel_tag(text: str) -> str:
    return "#" + "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", text))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-") + "…"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _is_english(language: str) -> bool:
    return language.strip().lower().replace("_", "-").split("-")[0] in ENGLISH | {""}


def split_sentences(text: str) -> list[str]:
    """Sentences of a creator's text: split after . ! ? and at line breaks."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text.strip())
    return [" ".join(p.split()) for p in parts if p.strip()]


def script_from_text(text: str, *, topic: str) -> Script:
    """A Script from a creator's own text: first sentence is the hook, the rest are lines.

    Args:
        text: The creator's narration, any language.
        topic: What the video is about (for title, keywords and hashtags).

    Returns:
        A Script that speaks ``text`` exactly.
    """
    sentences = split_sentences(text)
    if not sentences:
        raise IntegrationError("The script is empty; write at least one sentence.", retryable=False)
    hook, rest = sentences[0], sentences[1:]
    subject = topic.strip() or hook
    return Script(
        hook=hook,
        lines=[ScriptLine(s, line_keywords(s, subject)) for s in rest],
        title=_clip(_sentence_case(subject), TITLE_MAX),
        description=_clip(f"{_sentence_case(subject)}: {hook}", 300),
        hashtags=hashtags_for(subject, subject),
    )


class OfflineScriptWriter:
    """Arranges facts, adopts a creator's script, or fills English templates; deterministic
    for a given brief and seed."""

    def write(self, brief: ScriptBrief) -> Script:
        """Write a script for ``brief``: its own script, else its facts, else templates.

        Raises:
            IntegrationError: Fewer than two facts, or templates asked for another language.
        """
        if brief.custom_script.strip():
            return script_from_text(brief.custom_script, topic=brief.topic)
        if any(fact.strip() for fact in brief.facts):
            return script_from_facts(brief, brief.facts)
        if not _is_english(brief.language):
            name = LANGUAGE_NAMES.get(brief.language.lower()[:2], brief.language)
            raise IntegrationError(
                f"The offline writer only writes English; set OPENAI_API_KEY for {name}",
                retryable=False,
            )
        return _Draft(brief).script()


class _Draft:
    """One script being written: the seeded choices and the words they are filled with."""

    def __init__(self, brief: ScriptBrief) -> None:
        self.brief = brief
        self.rng = random.Random(f"{brief.seed}|{brief.topic}|{brief.niche}|{brief.tone}")
        self.topic, self.is_clause, self.asked_count = read_topic(brief.topic)
        self.niche = " ".join(brief.niche.split()).lower() or "curious minds"
        self.openers, self.intensifiers = TONE_WORDS.get(
            brief.tone.strip().lower(), TONE_WORDS[DEFAULT_TONE]
        )
        self.count = self.asked_count

    def usable(self, templates: tuple[str, ...] | list[str]) -> list[str]:
        """The templates that read well for this brief's topic and length."""
        skip = NOUN_ONLY if self.is_clause else frozenset()
        if self.brief.target_seconds < 30:
            skip = skip | LONG_ONLY
        return [t for t in templates if t not in skip]

    def fill(self, template: str) -> str:
        """A template with the brief's words in it, starting with a capital letter."""
        text = template.format(
            topic=self.topic,
            Topic=_sentence_case(self.topic),
            niche=self.niche,
            kw=self.rng.choice(ASPECTS),
            n=self.count or 3,
            opener=self.rng.choice(self.openers),
            intens=self.rng.choice(self.intensifiers),
        )
        return _sentence_case(" ".join(text.split()))

    def body(self, budget: int, minimum: int) -> list[str]:
        """Body lines whose words come closest to ``budget`` (at least ``minimum`` lines)."""
        templates = self.usable(BODY)
        self.rng.shuffle(templates)
        lines: list[str] = []
        used = 0
        for template in templates * 3:
            line = self.fill(template)
            size = len(line.split())
            if len(lines) >= minimum and used + size > budget:
                if used + size - budget < budget - used:  # overshooting less than stopping
                    lines.append(line)
                break
            lines.append(line)
            used += size
        return lines

    def script(self) -> Script:
        """Hook, body sized to the target length, and a call to action."""
        target_words = round(self.brief.target_seconds * WORDS_PER_SECOND)
        short = self.brief.target_seconds <= SHORT_TARGET_SECONDS
        hook_template = self.rng.choice(self.usable(HOOKS))
        cta = self.fill(self.rng.choice(SHORT_CTAS if short else self.usable(CTAS)))
        draft_hook = self.fill(hook_template)
        budget = target_words - len(draft_hook.split()) - len(cta.split())
        body = self.body(budget, minimum=2 if short else 3)
        self.count = len(body)
        hook = self.fill(hook_template)
        lines = [ScriptLine(t, line_keywords(t, self.topic)) for t in [*body, cta]]
        return Script(
            hook=hook,
            lines=lines,
            title=self.title(),
            description=self.description(hook),
            hashtags=hashtags_for(self.topic, self.niche),
        )

    def title(self) -> str:
        """A title of at most 100 characters."""
        if self.is_clause:
            patterns = ("{Topic}? Explained in {s} seconds", "{Topic}: the short answer")
        else:
            patterns = (
                "{Topic}: {n} things nobody tells you",
                "The truth about {topic}",
                "{Topic} explained in {s} seconds",
                "Why {topic} matters more than you think",
            )
        pattern = self.rng.choice(patterns)
        text = pattern.format(
            Topic=_sentence_case(self.topic),
            topic=self.topic,
            n=self.count,
            s=self.brief.target_seconds,
        )
        return _clip(text, TITLE_MAX)

    def description(self, hook: str) -> str:
        """Two sentences for the platform description."""
        tone = self.brief.tone.strip().lower() or DEFAULT_TONE
        article = "An" if tone[0] in "aeiou" else "A"
        return (
            f"{hook} {article} {tone} {self.brief.target_seconds}-second take on {self.topic} "
            f"for anyone into {self.niche}."
        )
