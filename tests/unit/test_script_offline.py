"""The offline script writer: sized to the target, about the topic, varied, deterministic."""

from __future__ import annotations

import re

import pytest

from viralshorts.errors import IntegrationError
from viralshorts.integrations.fact_words import ENGLISH, LANGUAGE_WORDS, lemma, words_of
from viralshorts.integrations.ports import ScriptBrief
from viralshorts.integrations.script_facts import clean_facts, connective_words, surprise_score
from viralshorts.integrations.script_offline import (
    NOUN_ONLY,
    STOP_WORDS,
    TONE_WORDS,
    WORDS_PER_SECOND,
    OfflineScriptWriter,
    content_words,
    read_topic,
    script_from_text,
)

WRITER = OfflineScriptWriter()


def brief(**changes: object) -> ScriptBrief:
    values: dict[str, object] = {
        "topic": "octopus hearts",
        "niche": "ocean facts",
        "tone": "energetic",
        "language": "en",
        "target_seconds": 45,
        "seed": 7,
    }
    values.update(changes)
    return ScriptBrief(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [15, 20, 30, 45, 60, 90, 120])
def test_length_follows_the_target(seconds: int) -> None:
    for seed in range(4):
        words = len(WRITER.write(brief(target_seconds=seconds, seed=seed)).narration.split())
        want = WORDS_PER_SECOND * seconds
        assert abs(words - want) <= 0.2 * want, (seconds, seed, words)


def test_lengths_scatter_around_the_target_rather_than_under_it() -> None:
    ratios = [
        len(WRITER.write(brief(target_seconds=seconds, seed=seed)).narration.split())
        / (WORDS_PER_SECOND * seconds)
        for seconds in (15, 30, 60)
        for seed in range(8)
    ]
    assert min(ratios) < 1.0 < max(ratios)
    assert 0.93 <= sum(ratios) / len(ratios) <= 1.07


def is_call_to_action(text: str) -> bool:
    return any(w in text.lower() for w in ("follow", "save", "share", "comment"))


def test_short_target_has_hook_two_lines_and_a_short_call_to_action() -> None:
    for seed in range(6):
        script = WRITER.write(brief(target_seconds=10, seed=seed))
        assert script.hook
        assert len(script.lines) >= 3
        assert is_call_to_action(script.lines[-1].text)
        assert len(script.lines[-1].text.split()) <= 5


def test_longer_target_has_three_lines_at_least_and_a_full_call_to_action() -> None:
    for seed in range(6):
        script = WRITER.write(brief(target_seconds=25, seed=seed))
        assert len(script.lines) >= 4
        assert is_call_to_action(script.lines[-1].text)
        assert len(script.lines[-1].text.split()) >= 6


def test_the_topic_and_niche_are_in_the_script() -> None:
    script = WRITER.write(brief(topic="sourdough starter", niche="home baking"))
    assert "sourdough starter" in script.hook
    mentions = [ln for ln in script.lines if "sourdough" in ln.text or "baking" in ln.text]
    assert len(mentions) >= len(script.lines) // 2
    assert "sourdough" in script.title.lower()
    assert "#SourdoughStarter" in script.hashtags
    assert 3 <= len(script.hashtags) <= 6
    assert all(tag.startswith("#") and " " not in tag for tag in script.hashtags)


def test_every_line_has_visual_keywords_without_stop_words() -> None:
    script = WRITER.write(brief(target_seconds=60))
    for line in script.lines:
        assert 1 <= len(line.keywords) <= 4
        assert not set(line.keywords) & STOP_WORDS
        assert all(k == k.lower() and k.isalpha() for k in line.keywords)
    with_topic = [ln for ln in script.lines if {"octopus", "hearts"} & set(ln.keywords)]
    assert len(with_topic) >= len(script.lines) // 2


def test_same_brief_same_script() -> None:
    assert WRITER.write(brief()).to_dict() == WRITER.write(brief()).to_dict()


def test_seeds_and_topics_vary_the_script() -> None:
    by_seed = {WRITER.write(brief(seed=seed)).narration for seed in range(6)}
    assert len(by_seed) == 6
    other_topic = WRITER.write(brief(topic="black holes", niche="space")).narration
    assert other_topic != WRITER.write(brief()).narration
    assert "octopus" not in other_topic


def test_tone_changes_the_wording() -> None:
    openers, intensifiers = TONE_WORDS["calm"]
    calm = WRITER.write(brief(tone="calm", target_seconds=60)).narration
    energetic = WRITER.write(brief(tone="energetic", target_seconds=60)).narration
    assert calm != energetic
    assert any(word in calm for word in (*openers, *intensifiers))
    assert not any(word in energetic for word in (*openers, *intensifiers))


def test_title_fits_even_for_a_very_long_topic() -> None:
    script = WRITER.write(brief(topic="the surprisingly long history " * 8))
    assert 0 < len(script.title) <= 100


@pytest.mark.parametrize(("code", "name"), [("es", "Spanish"), ("pt-BR", "Portuguese")])
def test_other_languages_are_refused_clearly(code: str, name: str) -> None:
    with pytest.raises(IntegrationError) as caught:
        WRITER.write(brief(language=code))
    assert str(caught.value) == (
        f"The offline writer only writes English; set OPENAI_API_KEY for {name}"
    )
    assert caught.value.retryable is False


def test_english_variants_are_accepted() -> None:
    assert WRITER.write(brief(language="en-GB")).hook
    assert WRITER.write(brief(language="English")).hook


def test_a_creators_script_is_used_as_written_in_any_language() -> None:
    text = "¿Sabías esto? Los pulpos tienen tres corazones.\nY sangre azul!"
    script = WRITER.write(brief(language="es", custom_script=text))
    assert script.hook == "¿Sabías esto?"
    assert [ln.text for ln in script.lines] == [
        "Los pulpos tienen tres corazones.",
        "Y sangre azul!",
    ]
    assert script.narration == " ".join(text.split())
    assert "pulpos" in script.lines[0].keywords


def test_script_from_text_extracts_keywords_like_the_writer() -> None:
    script = script_from_text("Coffee beats tea. Espresso machines hiss loudly.", topic="coffee")
    assert script.hook == "Coffee beats tea."
    assert script.lines[0].keywords[:3] == ["espresso", "machines", "hiss"]
    assert script.title == "Coffee"
    assert "#Coffee" in script.hashtags


def test_empty_creator_script_is_refused() -> None:
    with pytest.raises(IntegrationError, match="empty"):
        script_from_text("   \n ", topic="x")


def test_content_words_drop_stop_words_and_duplicates() -> None:
    assert content_words("The octopus and THE Octopus's three hearts") == [
        "octopus",
        "octopus's",
        "three",
        "hearts",
    ]


@pytest.mark.parametrize(
    ("topic", "subject", "is_clause"),
    [
        ("Why Saturn has rings?", "why Saturn has rings", True),
        ("How to wake up early", "how to wake up early", True),
        ("3 facts about owls", "owls", False),
        ("five myths about coffee", "coffee", False),
        ("octopus hearts", "octopus hearts", False),
    ],
)
def test_briefs_are_read_as_a_subject(topic: str, subject: str, is_clause: bool) -> None:
    assert read_topic(topic)[:2] == (subject, is_clause)


def test_a_question_brief_reads_as_a_clause_not_a_doubled_question() -> None:
    for seed in range(8):
        script = WRITER.write(brief(topic="Why Saturn has rings", target_seconds=30, seed=seed))
        text = " ".join([script.title, script.narration])
        assert "why why" not in text.lower()
        assert "about why Saturn has rings" in text or "Why Saturn has rings" in script.title
        for template in NOUN_ONLY:
            prefix = template.split("{")[0]
            assert not prefix or prefix.strip() not in script.hook


def test_a_short_video_never_promises_thirty_seconds() -> None:
    for seed in range(12):
        hook = WRITER.write(brief(target_seconds=15, seed=seed)).hook
        assert "thirty seconds" not in hook


# ---------------------------------------------------------------- facts mode

OCTOPUS_FACTS = (
    "Octopuses have three hearts.",
    "Two of the hearts stop beating when an octopus swims.",
    "Their blood is blue because it uses copper instead of iron.",
    "An octopus can taste with its arms.",
    "The largest octopus on record weighed 71 kilograms.",
)
PULPO_FACTS = (
    "Los pulpos tienen tres corazones.",
    "Su sangre es azul porque usa cobre en lugar de hierro.",
    "El pulpo más grande registrado pesó 71 kilos.",
    "Un pulpo puede saborear con sus brazos.",
)


def facts_brief(facts=OCTOPUS_FACTS, **changes: object) -> ScriptBrief:
    return brief(facts=tuple(facts), topic="octopus hearts", **changes)


def _words(text: str) -> set[str]:
    return {w.lower() for w in words_of(text)}


def _spoken(script) -> list[str]:
    return [script.hook, *(line.text for line in script.lines)]


@pytest.mark.parametrize("seed", range(6))
def test_every_fact_is_said_once_and_nothing_is_invented(seed: int) -> None:
    script = WRITER.write(facts_brief(seed=seed))
    spoken = _spoken(script)
    for fact in OCTOPUS_FACTS:
        said = [t for t in spoken if fact[1:] in t]
        assert len(said) == 1, (fact, spoken)
    allowed = set().union(*map(_words, OCTOPUS_FACTS)) | connective_words("en")
    for text in spoken:
        assert _words(text) <= allowed, text
    closing = script.lines[-1].text
    assert _words(closing) <= connective_words("en")


def test_the_hook_is_the_most_surprising_fact() -> None:
    facts = ("Honey is made by bees.", "Honey found in tombs was 3,000 years old and still good.")
    script = WRITER.write(brief(facts=facts, seed=0))
    assert facts[1] in script.hook
    assert surprise_score(facts[1], ENGLISH) > surprise_score(facts[0], ENGLISH)
    assert surprise_score("The largest whale is the only one.", ENGLISH) >= 4


@pytest.mark.parametrize("facts", [OCTOPUS_FACTS, OCTOPUS_FACTS[:2], PULPO_FACTS])
def test_a_batch_of_three_gets_three_titles_and_three_hooks(facts) -> None:
    first = 1_234_567
    batch = [WRITER.write(facts_brief(facts, seed=first + i)) for i in range(3)]
    assert len({s.title for s in batch}) == 3
    assert len({s.hook for s in batch}) == 3
    assert [s.to_dict() for s in batch] == [
        WRITER.write(facts_brief(facts, seed=first + i)).to_dict() for i in range(3)
    ]


def test_titles_and_descriptions_use_only_the_facts_topic_and_phrasebook() -> None:
    for seed in range(6):
        script = WRITER.write(facts_brief(seed=seed))
        allowed = set().union(*map(_words, OCTOPUS_FACTS)) | connective_words("en")
        allowed |= _words("octopus hearts")
        assert _words(script.title) <= allowed
        assert _words(script.description) <= allowed
        assert 0 < len(script.title) <= 100


def _tag_words(tag: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-ZÁÉÍÓÚÑ]?[a-záéíóúñü]+", tag[1:])]


@pytest.mark.parametrize(
    ("facts", "topic", "language"),
    [
        (OCTOPUS_FACTS, "why octopuses have three hearts", "en"),
        (OCTOPUS_FACTS, "octopus hearts", "en"),
        (PULPO_FACTS, "pulpos", "es"),
    ],
)
def test_hashtags_are_real_topic_words(facts, topic: str, language: str) -> None:
    script = WRITER.write(brief(facts=facts, topic=topic, niche="sea life", language=language))
    assert script.hashtags[-1] == "#shorts"
    tags = script.hashtags[:-1]
    assert 2 <= len(tags) <= 5
    known = {lemma(w, language) for w in _words(" ".join([*facts, topic, "sea life"]))}
    words = LANGUAGE_WORDS[language]
    for tag in tags:
        for word in _tag_words(tag):
            assert lemma(word, language) in known, tag
            assert word not in words.stop | words.number_words | STOP_WORDS, tag
    assert "#Three" not in tags and "#three" not in tags
    assert not any(t.lower().startswith("#why") for t in tags)
    assert {"#octopus", "#pulpo"} & {t.lower() for t in tags}


def test_line_keywords_are_the_facts_nouns_not_filler() -> None:
    script = WRITER.write(facts_brief(seed=3))
    for line in script.lines[:-1]:
        fact = next(f for f in OCTOPUS_FACTS if f[1:] in line.text)
        assert 1 <= len(line.keywords) <= 4
        assert set(line.keywords) <= _words(fact)
        assert not set(line.keywords) & (connective_words("en") | ENGLISH.stop | ENGLISH.verbs)
    by_fact = {f: WRITER.write(facts_brief((f, OCTOPUS_FACTS[0]))) for f in OCTOPUS_FACTS[1:]}
    keywords = {k for s in by_fact.values() for ln in s.lines for k in ln.keywords}
    assert {"blood", "copper", "iron", "arms", "hearts"} <= keywords


def test_spanish_facts_are_arranged_in_spanish() -> None:
    for seed in range(4):
        script = WRITER.write(brief(facts=PULPO_FACTS, topic="pulpos", language="es", seed=seed))
        spoken = _spoken(script)
        allowed = set().union(*map(_words, PULPO_FACTS)) | connective_words("es")
        for text in spoken:
            assert _words(text) <= allowed, text
        assert not _words(" ".join(spoken)) & (connective_words("en") - connective_words("es"))
        assert _words(script.lines[-1].text) <= connective_words("es")
    assert "corazones" in WRITER.write(brief(facts=PULPO_FACTS, language="es")).narration


def test_the_facts_language_wins_over_the_campaigns() -> None:
    script = WRITER.write(brief(facts=PULPO_FACTS, topic="pulpos", language="en", seed=1))
    assert _words(" ".join(_spoken(script))) <= set().union(
        *map(_words, PULPO_FACTS)
    ) | connective_words("es")


def test_a_language_without_a_phrasebook_gets_its_facts_only() -> None:
    facts = (
        "Les pieuvres ont trois cœurs.",
        "Leur sang est bleu.",
        "Elles goûtent avec leurs bras.",
    )
    script = WRITER.write(brief(facts=facts, topic="pieuvres", language="fr"))
    assert sorted(_spoken(script)) == sorted(facts)
    assert connective_words("fr") == frozenset()


def test_facts_are_cleaned_and_at_least_two_are_needed() -> None:
    assert clean_facts(
        "- Owls cannot move their eyes\n\n2) They turn their heads\n• owls cannot move their eyes"
    ) == [
        "Owls cannot move their eyes.",
        "They turn their heads.",
    ]
    with pytest.raises(IntegrationError, match="at least two facts"):
        WRITER.write(brief(facts=("Owls hoot.",)))
