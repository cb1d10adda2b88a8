"""Scene planning, what each line shows, the cards' ASS, looks and the description's credit."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from tests.illustration_samples import SamplePick
from viralshorts.domain.rendering import cards, scenes
from viralshorts.domain.rendering.captions import estimate_word_timings
from viralshorts.domain.rendering.looks import LOOKS, ass_colour, resolve_look
from viralshorts.domain.rendering.pipeline import with_attribution
from viralshorts.domain.rendering.scenes import (
    SCENE_MAX_SECONDS,
    entrance_for,
    line_visuals,
    overlays_for,
    plan_scenes,
    thumbnail_moment,
)
from viralshorts.integrations.ports import Script, ScriptLine, WordTiming, card_canvas

HOOK = "Octopuses have three hearts."
LINES = [
    "Two of them pump blood to the gills. The third one feeds the rest of the body.",
    "Their blood is blue, because it carries copper instead of iron, and that copper "
    "binds oxygen well in cold water.",
    "When an octopus swims its main heart stops beating.",
    "Follow for more.",
]


def _script(lines: list[str] = LINES, hook: str = HOOK) -> Script:
    return Script(hook, [ScriptLine(t, []) for t in lines], "Three hearts", "Octopus facts.", [])


def _timed(script: Script, seconds_per_word: float = 0.33) -> tuple[list[WordTiming], float]:
    narration = script.narration
    total = len(narration.split()) * seconds_per_word
    return estimate_word_timings(narration, total), round(total + 0.6, 3)


def _boundary_starts(script: Script, words: list[WordTiming]) -> set[float]:
    """Start times of words that begin a line, a sentence or a clause."""
    firsts, index = set(), 0
    for text in [script.hook, *(line.text for line in script.lines)]:
        firsts.add(index)
        index += len(text.split())
    marks = (".", "!", "?", ",", ";", ":")
    return {
        w.start
        for i, w in enumerate(words)
        if i in firsts or (i and words[i - 1].word.rstrip("\"')").endswith(marks))
    }


def test_scenes_cover_the_video_back_to_back() -> None:
    script = _script()
    words, total = _timed(script)
    planned = plan_scenes(script, words, total)
    assert planned[0].start == 0.0
    assert sum(s.duration for s in planned) == pytest.approx(total, abs=0.01)
    for a, b in itertools.pairwise(planned):
        assert b.start == pytest.approx(a.end, abs=0.002)


def test_scene_cuts_fall_on_sentence_or_clause_starts_and_last_two_to_four_seconds() -> None:
    script = _script()
    words, total = _timed(script)
    planned = plan_scenes(script, words, total)
    allowed = _boundary_starts(script, words)
    for scene in planned[1:]:
        assert any(abs(scene.start - t) < 0.002 for t in allowed), scene
    long_lines = [s for s in planned if s.line_index in (1, 2)]
    assert len(long_lines) >= 4  # both long lines were cut
    assert all(2.0 - 0.01 <= s.duration <= SCENE_MAX_SECONDS + 0.01 for s in long_lines)
    # the first line is cut where its second sentence starts
    second_sentence = next(w.start for w in words if w.word == "The")
    assert any(abs(s.start - second_sentence) < 0.002 for s in planned if s.line_index == 1)


def test_a_long_line_without_punctuation_is_still_cut_on_a_word() -> None:
    script = _script(["one two three four five six seven eight nine ten eleven twelve thirteen "
                      "fourteen fifteen sixteen seventeen eighteen nineteen twenty"])  # fmt: skip
    words, total = _timed(script, 0.4)
    planned = [s for s in plan_scenes(script, words, total) if s.line_index == 1]
    assert len(planned) >= 2
    assert all(s.duration <= SCENE_MAX_SECONDS + 0.01 for s in planned)
    starts = {w.start for w in words}
    assert all(any(abs(s.start - t) < 0.002 for t in starts) for s in planned)


def test_scenes_fall_back_to_shares_when_timings_do_not_match_the_text() -> None:
    script = _script()
    planned = plan_scenes(script, [WordTiming("hello", 0.0, 0.5)], 20.0)
    assert sum(s.duration for s in planned) == pytest.approx(20.0)
    assert all(s.duration <= SCENE_MAX_SECONDS + 1e-6 for s in planned)


def _visuals(picks: list[SamplePick]) -> tuple[Script, list[scenes.LineVisual]]:
    script = _script()
    words, total = _timed(script)
    return script, line_visuals(script, plan_scenes(script, words, total), picks)


def test_each_line_shows_its_pick_for_all_of_its_scenes(tmp_path: Path) -> None:
    pictures = [tmp_path / f"p{i}.png" for i in range(4)]
    picks = [SamplePick(pictures[0], "a", ""), SamplePick(pictures[1], "b", ""),
             SamplePick(None, "", "3"), SamplePick(pictures[3], "d", "")]  # fmt: skip
    script, visuals = _visuals(picks)
    assert [v.kind for v in visuals] == ["hook", "illustration", "illustration", "card",
                                         "illustration"]  # fmt: skip
    assert visuals[0].text == HOOK and visuals[0].start == 0.0
    assert visuals[3].text == "3"
    words, total = _timed(script)
    planned = plan_scenes(script, words, total)
    line_two = [s for s in planned if s.line_index == 2]
    assert (visuals[2].start, visuals[2].end) == (line_two[0].start, line_two[-1].end)
    overlays = overlays_for(visuals, "slide")
    assert [o.source for o in overlays] == [pictures[0], pictures[1], pictures[3]]
    assert [o.side for o in overlays] == [1, -1, 1]  # slides alternate sides


def test_a_line_with_no_pick_and_no_card_text_shows_nothing() -> None:
    _, visuals = _visuals([SamplePick(None, "", " ")])
    assert [v.kind for v in visuals] == ["hook"]


def test_the_entrance_is_chosen_per_video_and_stays_the_same() -> None:
    chosen = {seed: entrance_for(seed) for seed in range(30)}
    assert set(chosen.values()) == {"pop", "slide", "float"}
    assert all(entrance_for(seed) == chosen[seed] for seed in range(30))


def test_thumbnails_are_taken_once_the_first_picture_has_entered(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    _, visuals = _visuals([SamplePick(None, "", "3"), SamplePick(picture, "p", "")])
    at, shown = thumbnail_moment(visuals)
    assert shown == picture
    assert visuals[2].start < at < visuals[2].end
    assert thumbnail_moment(visuals[:2]) == (1.0, None)


# ---------------------------------------------------------------- cards


def test_hook_card_is_the_hook_in_large_wrapped_type_on_a_box() -> None:
    visual = scenes.LineVisual(0, 0.0, 1.8, "hook", "Why does nobody talk about octopus hearts?")
    box, text = cards.hook_card_events(visual, 2, (480, 460))
    assert box.startswith("Dialogue: 0,0:00:02.00,0:00:03.00,Box,") and "\\p1}m " in box
    assert text.startswith("Dialogue: 0,0:00:02.00,0:00:03.00,Hook,,0,0,0,,{\\an5\\pos(480,460)}")
    shown = text.split("}", 1)[1].split("\\N")
    assert " ".join(shown) == "WHY DOES NOBODY TALK ABOUT OCTOPUS HEARTS?"
    assert all(len(line) * cards.HOOK_SIZE * cards.EM_PER_CHAR <= 880 for line in shown)


def _card_visuals() -> list[scenes.LineVisual]:
    return [
        scenes.LineVisual(0, 0.0, 1.8, "hook", "Octopuses have three hearts and blue blood."),
        scenes.LineVisual(1, 1.8, 4.0, "illustration", "", Path("heart.png")),
        scenes.LineVisual(2, 4.0, 7.0, "card", "1,000"),
        scenes.LineVisual(3, 7.0, 9.5, "card", "copper"),
    ]


@pytest.mark.parametrize("entrance", scenes.ENTRANCES)
def test_each_card_is_drawn_still_in_its_own_second_and_enters_as_a_picture(
    entrance: str,
) -> None:
    ass, found = cards.cards_ass(_card_visuals(), entrance, LOOKS["ocean"])
    assert [(c.start, c.end) for c in found] == [(0.0, 1.8), (4.0, 7.0), (7.0, 9.5)]
    assert {(c.entrance, c.centre_x, c.centre_y) for c in found} == {
        (entrance, *scenes.VISUAL_CENTRE)
    }
    assert [c.side for c in found] == [1, 1, -1]  # slides alternate with the line's place
    hook, word = found[0], found[1]
    assert (word.width, word.height) == (908, 608)  # the box and its anti-aliased edge
    assert hook.width == 948 and hook.height > 300
    width, height = card_canvas(found)
    assert f"PlayResX: {width}" in ass and f"PlayResY: {height}" in ass
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert [line.split(",")[1] for line in events] == [
        "0:00:00.00", "0:00:00.00", "0:00:01.00", "0:00:01.00", "0:00:02.00", "0:00:02.00",
    ]  # fmt: skip
    centre = f"\\an5\\pos({width // 2},{height // 2})"
    assert all(centre in line for line in events)
    assert not any(tag in ass for tag in ("\\move", "\\t(", "\\fad"))
    assert events[3].endswith("}1,000") and events[5].endswith("}COPPER")


def test_a_video_without_cards_has_no_card_file() -> None:
    visuals = [scenes.LineVisual(0, 0.0, 2.0, "illustration", "", Path("a.png"))]
    assert cards.cards_ass(visuals, "pop", LOOKS["ocean"])[1] == []


def test_a_card_is_laid_over_with_a_pop_canvas_of_its_own_shape() -> None:
    card = cards.cards_ass(_card_visuals(), "pop", LOOKS["ocean"])[1][1]
    overlay = card.as_overlay(Path("card.png"))
    assert (overlay.size, overlay.entrance, overlay.start) == (908, "pop", 4.0)
    assert overlay.aspect == pytest.approx(908 / 608)


@pytest.mark.parametrize("text", ["3", "300", "COPPER", "EXTRAORDINARY"])
def test_a_card_word_fits_the_card(text: str) -> None:
    size = cards.card_size(text)
    assert len(text) * size * 0.5 <= cards.CARD_BOX[0] - 100
    if len(text) <= 7:
        assert size * 0.445 >= 80  # capitals at least as tall as the bold captions


def test_title_files_draw_the_title_for_both_thumbnail_sizes() -> None:
    look = LOOKS["ocean"]
    tall = cards.title_ass("Why octopuses have three hearts", look, wide=False, with_picture=True)
    wide = cards.title_ass("Why octopuses have three hearts", look, wide=True, with_picture=True)
    assert "PlayResX: 1080" in tall and "PlayResY: 1920" in tall
    assert "PlayResX: 1280" in wide and "PlayResY: 720" in wide
    for ass in (tall, wide):
        event = ass.splitlines()[-1]
        text = re.sub(r"\{[^}]*\}", "", event.split(",", 9)[9])
        assert text.replace("\\N", " ") == "WHY OCTOPUSES HAVE THREE HEARTS"
        assert ass.count("Dialogue:") == 1  # the title only, never a caption


def test_looks_resolve_by_name_or_seed_and_convert_to_ass() -> None:
    assert resolve_look("ocean", 1) is LOOKS["ocean"]
    assert resolve_look("auto", 7) == resolve_look("auto", 7)
    assert len({resolve_look("auto", seed).label for seed in range(40)}) > 3
    assert ass_colour("0x112233") == "&H00332211"
    assert ass_colour("0x112233", 0x30) == "&H30332211"


def test_the_attribution_is_appended_to_the_description_once() -> None:
    script = _script()
    credited = with_attribution(script, "Emoji by OpenMoji, CC BY-SA 4.0")
    assert credited.description == "Octopus facts.\n\nEmoji by OpenMoji, CC BY-SA 4.0"
    assert with_attribution(credited, "Emoji by OpenMoji, CC BY-SA 4.0") == credited
    assert with_attribution(script, "") is script
