"""A local model behind OPENAI_BASE_URL (Ollama, llama.cpp's server) writes the scripts; with
OPENAI_TTS_MODEL and OPENAI_TRANSCRIBE_MODEL empty no OpenAI voice or transcription is built,
so the forms offer only the voices that work (Piper, eSpeak NG)."""

from __future__ import annotations

from viralshorts.domain import voice_catalogue
from viralshorts.integrations.espeak_tts import espeak_available
from viralshorts.integrations.openai_client import OpenAIScriptWriter
from viralshorts.integrations.services import build_services
from viralshorts.settings import Settings

LOCAL_MODEL = {
    "openai_api_key": "ollama",
    "openai_base_url": "http://127.0.0.1:11434/v1",
    "openai_model": "llama3.1:8b",
}


def test_a_local_model_without_speech_offers_no_openai_voice() -> None:
    settings = Settings(
        _env_file=None, **LOCAL_MODEL, openai_tts_model="", openai_transcribe_model=""
    )
    services = build_services(settings)
    assert isinstance(services.script_writer, OpenAIScriptWriter)
    assert "openai" not in services.speech and services.transcriber is None
    offered = voice_catalogue.offered_voices(services)
    assert "piper:joe" in offered
    assert not [voice for voice in offered if voice.startswith("openai:")]
    assert ("espeak:es" in offered) == espeak_available()


def test_real_openai_keeps_its_voices_and_transcription() -> None:
    services = build_services(Settings(_env_file=None, openai_api_key="sk-test"))
    assert "openai" in services.speech and services.transcriber is not None
    assert "openai:alloy" in voice_catalogue.offered_voices(services)
