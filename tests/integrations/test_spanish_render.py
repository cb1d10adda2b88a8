"""A Spanish video renders offline: the creator's Spanish facts arranged in Spanish, spoken by
the basic eSpeak NG voice, accented captions burned in, the offline illustrations on screen,
and a real ffmpeg render that passes the ffprobe checks. One render, checked many ways."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.integrations.test_render import assert_shorts_format, integrated_loudness
from tests.integrations.test_scenes import RecordingRenderer, difference_at, frame, near, seconds
from viralshorts.domain import voice_catalogue
from viralshorts.domain.rendering import captions, scenes
from viralshorts.domain.rendering.illustrations import OPENMOJI_ATTRIBUTION
from viralshorts.domain.rendering.looks import LOOKS
from viralshorts.domain.rendering.pipeline import RenderSpec, render
from viralshorts.integrations.espeak_tts import espeak_available
from viralshorts.integrations.fact_words import words_of
from viralshorts.integrations.ports import Script, ScriptBrief
from viralshorts.integrations.script_facts import connective_words
from viralshorts.integrations.services import build_services
from viralshorts.settings import Settings

pytestmark = pytest.mark.skipif(not espeak_available(), reason="./dev installs espeak-ng")
VOICE = "espeak:es"
LOOK = "ocean"
FACTS = (
    "¡Los pulpos tienen tres corazones!",
    "Su sangre es azul porque usa cobre en lugar de hierro.",
    "El pulpo más grande registrado pesó 71 kilos.",
    "¿Sabías que casi ningún pulpo vive más de dos años?",
    "Un pulpo pequeño también cambia de color en menos de un segundo.",
)
ACCENTED = "áéíóúñ¿¡"
CAPTION_BAND = slice(1040, 1280)  # the caption line (y = 1152), below the pictures and cards
TAG = re.compile(r"\{[^}]*\}")
HIGHLIGHT = re.compile(r"\{\\c[^}]*\}[^{]*\{\\r\}")  # the active word, drawn in the accent


def _seconds(wav_path: Path) -> float:
    with wave.open(str(wav_path)) as wav:
        return wav.getnframes() / wav.getframerate()


@pytest.fixture(scope="module")
def spanish(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("spanish")
    services = build_services(Settings(media_root=tmp / "media", openai_api_key=""))
    services = dataclasses.replace(services, renderer=RecordingRenderer(services.renderer))
    brief = ScriptBrief("pulpos", "océano", "curious", "es", 20, seed=2, facts=FACTS)
    script = services.script_writer.write(brief)
    spec = RenderSpec(
        topic="pulpos", niche="océano", tone="curious", language="es", target_seconds=20,
        seed=2, script=script.to_dict(), voice=VOICE, background_source="generated", look=LOOK,
        facts=FACTS,
    )  # fmt: skip
    output = render(
        spec, services, work_dir=tmp / "work", on_progress=lambda *_: None,
        is_cancelled=lambda: False,
    )  # fmt: skip
    return {"services": services, "script": script, "output": output, "tmp": tmp,
            "plan": services.renderer.plan}  # fmt: skip


def test_the_basic_spanish_voice_is_offered_and_labelled_basic() -> None:
    services = build_services(Settings(openai_api_key=""))
    assert VOICE in voice_catalogue.voices_for_language(services, "es")
    assert "basic" in voice_catalogue.offered_voices(services)[VOICE]
    assert "piper:joe" not in voice_catalogue.voices_for_language(services, "es")


def _added_words(script: Script) -> set[str]:
    """The words of the script that are in none of the facts (what the writer added)."""
    fact_words = {w.lower() for fact in FACTS for w in words_of(fact)}
    spoken = {w.lower() for w in words_of(script.narration)}
    return spoken - fact_words


def test_spanish_facts_become_spanish_lines_each_fact_once(spanish: dict) -> None:
    script: Script = spanish["script"]
    spoken = [script.hook, *(line.text for line in script.lines)]
    for fact in FACTS:
        assert sum(fact in text for text in spoken) == 1, fact
    assert _added_words(script) <= connective_words("es")
    english = connective_words("en") - connective_words("es")
    assert not {w.lower() for w in words_of(script.narration)} & english
    assert all(re.fullmatch(r"#\w+", tag) for tag in script.hashtags)
    assert "#Pulpos" in script.hashtags


def test_the_video_passes_the_ffprobe_checks_and_says_the_narration(spanish: dict) -> None:
    output, services = spanish["output"], spanish["services"]
    assert_shorts_format(output.video_path)
    assert integrated_loudness(output.video_path) > -30  # the narration is there
    narration = spanish["script"].narration
    spoken = services.speech["espeak"].synthesize(
        narration, voice=VOICE, speed=1.0, out_path=spanish["tmp"] / "direct.wav"
    )
    (cached,) = (services.settings.media_root / "cache" / "voice").glob("*.wav")
    assert _seconds(cached) == pytest.approx(spoken.duration, abs=0.05)  # eSpeak spoke it
    assert output.duration == pytest.approx(spoken.duration, abs=1.5)


def test_captions_keep_every_accent_and_the_font_has_the_glyphs(spanish: dict) -> None:
    srt = spanish["output"].captions_srt_path.read_text(encoding="utf-8")
    ass = spanish["plan"].subtitles_path.read_text(encoding="utf-8")
    for character in ACCENTED:
        assert character in srt, character
        assert character.upper() in ass, character  # the bold style is in capitals
    assert "más" in srt and "MÁS" in ass and "AÑOS" in ass
    charset = subprocess.run(
        ["fc-query", "--format=%{charset}", str(captions.FONTS_DIR / "LeagueSpartan-Black.otf")],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    ranges = [tuple(int(n, 16) for n in (part.split("-") * 2)[:2]) for part in charset]
    for character in ACCENTED + ACCENTED.upper():
        assert any(low <= ord(character) <= high for low, high in ranges), character


def _cues(ass: str) -> list[tuple[float, float, str]]:
    """``(start, end, words drawn in white)`` of every caption cue."""
    cues = []
    for line in ass.splitlines():
        if ",Caption," in line:
            fields = line.split(",", 9)
            end = fields[2].split(":")
            end_s = sum(float(part) * 60**i for i, part in enumerate(reversed(end)))
            white = TAG.sub("", HIGHLIGHT.sub("", fields[9])).strip()
            cues.append((seconds(line), round(end_s, 2), white))
    return cues


def _white_top(video: Path, at: float) -> int:
    """The top row of the white caption letters at ``at`` seconds."""
    band = frame(video, at)[CAPTION_BAND]
    rows = np.flatnonzero((band.min(axis=-1) > 200).any(axis=1))
    assert rows.size, f"no white caption letters at {at}s"
    return CAPTION_BAND.start + int(rows.min())


def test_accented_capitals_are_drawn_with_their_accents(spanish: dict) -> None:
    video = spanish["output"].video_path
    cues = _cues(spanish["plan"].subtitles_path.read_text(encoding="utf-8"))
    plain = next(c for c in cues if c[2] and re.fullmatch(r"[A-Z ]+", c[2]) and c[1] - c[0] > 0.2)
    accented = [c for c in cues if re.search("[ÁÉÍÓÚÑ]", c[2]) and c[1] - c[0] > 0.2]
    assert accented, cues
    plain_top = _white_top(video, (plain[0] + plain[1]) / 2)
    for start, end, words in accented[:3]:
        top = _white_top(video, (start + end) / 2)
        assert top < plain_top - 10, (words, top, plain[2], plain_top)  # the accent rises


def test_frames_show_the_hook_card_then_the_librarys_pictures(spanish: dict) -> None:
    plan, output, look = spanish["plan"], spanish["output"], LOOKS[LOOK]
    x, y = scenes.VISUAL_CENTRE
    early = frame(output.video_path, 0.8)
    assert near(early[y - 200 : y + 200, x - 430 : x + 430], look.card, 45).mean() > 0.4
    assert plan.overlays, "no line got an illustration from the offline library"
    sources = [overlay.source for overlay in plan.overlays]
    assert len(sources) == len(set(sources))
    for overlay in plan.overlays:
        assert overlay.source.is_file() and overlay.source.parent.name == "png-618"
        during = frame(output.video_path, min(overlay.start + 0.8, overlay.end - 0.2))
        centre = (overlay.centre_x, overlay.centre_y)
        assert difference_at(during, overlay.source, centre, overlay.size) < 16, overlay
    assert output.script.description.endswith(OPENMOJI_ATTRIBUTION)
