"""A Spanish video renders offline: facts arranged in Spanish, the basic eSpeak NG voice,
accented captions, and a real ffmpeg render that passes the ffprobe checks."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from tests.integrations.test_render import assert_shorts_format, integrated_loudness
from viralshorts.domain import voice_catalogue
from viralshorts.domain.rendering.pipeline import RenderSpec, render
from viralshorts.integrations.espeak_tts import espeak_available
from viralshorts.integrations.ports import ScriptBrief
from viralshorts.integrations.services import build_services
from viralshorts.settings import Settings

pytestmark = pytest.mark.skipif(not espeak_available(), reason="./dev installs espeak-ng")
FACTS = (
    "Los pulpos tienen tres corazones.",
    "Su sangre es azul porque usa cobre en lugar de hierro.",
    "El pulpo más grande registrado pesó 71 kilos.",
)


def _seconds(wav_path: Path) -> float:
    with wave.open(str(wav_path)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_a_spanish_video_renders_offline_with_its_basic_voice(tmp_path: Path) -> None:
    services = build_services(Settings(media_root=tmp_path / "media", openai_api_key=""))
    voice = "espeak:es"
    assert voice in voice_catalogue.voices_for_language(services, "es")
    assert "basic" in voice_catalogue.offered_voices(services)[voice]
    brief = ScriptBrief("pulpos", "océano", "curious", "es", 15, seed=2, facts=FACTS)
    script = services.script_writer.write(brief)
    assert "corazones" in script.narration and "Follow" not in script.narration
    spec = RenderSpec(
        topic="pulpos", niche="océano", tone="curious", language="es", target_seconds=15,
        seed=2, script=script.to_dict(), voice=voice, background_source="generated",
    )  # fmt: skip
    output = render(
        spec, services, work_dir=tmp_path / "work", on_progress=lambda *_: None,
        is_cancelled=lambda: False,
    )  # fmt: skip

    assert_shorts_format(output.video_path)
    assert integrated_loudness(output.video_path) > -30  # the narration is there
    spoken = services.speech["espeak"].synthesize(
        script.narration, voice=voice, speed=1.0, out_path=tmp_path / "direct.wav"
    )
    (cached,) = (services.settings.media_root / "cache" / "voice").glob("*.wav")
    assert _seconds(cached) == pytest.approx(spoken.duration, abs=0.05)  # eSpeak spoke it
    assert output.duration == pytest.approx(spoken.duration, abs=1.5)
    captions = output.captions_srt_path.read_text(encoding="utf-8")
    assert "más" in captions and "corazones" in captions
