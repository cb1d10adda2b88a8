"""The offline script writer: sized to the target, about the topic, varied, deterministic."""

from __future__ import annotations

import pytest

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import ScriptBrief
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
