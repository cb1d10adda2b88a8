"""Which voices and languages this site can really make videos with.

A voice id is ``<engine>:<name>``. A voice is offered when its engine is configured (it is in
``services.speech``) and the engine has that voice. A language works when the configured script
writer writes it and at least one offered voice speaks it: the offline writer and the Piper
voice are English only; the OpenAI writer and voices do every language in ``LANGUAGES``.
"""

from __future__ import annotations

from viralshorts.domain.campaigns import LANGUAGES, OFFLINE_VOICES, OPENAI_VOICES
from viralshorts.integrations.ports import Services

ENGINE_VOICES: dict[str, dict[str, str]] = {"piper": OFFLINE_VOICES, "openai": OPENAI_VOICES}
"""The voices each speech engine offers, by voice id."""
ENGINE_LANGUAGES: dict[str, frozenset[str]] = {
    "piper": frozenset({"en"}),
    "openai": frozenset(LANGUAGES),
}
"""The languages each speech engine speaks."""
OFFLINE_WRITER_LANGUAGES = frozenset({"en"})


def offered_voices(services: Services) -> dict[str, str]:
    """Every voice id the configured engines offer, with its label."""
    offered: dict[str, str] = {}
    for engine in services.speech:
        offered |= ENGINE_VOICES.get(engine, {})
    return offered


def voice_language_codes(voice: str) -> frozenset[str]:
    """The languages one voice speaks (none for an unknown engine)."""
    return ENGINE_LANGUAGES.get(voice.partition(":")[0], frozenset())


def writer_language_codes(services: Services) -> frozenset[str]:
    """The languages the configured script writer writes.

    The composition root picks the OpenAI writer exactly when OpenAI is configured, so the
    settings say which writer runs without the domain naming an adapter.
    """
    return frozenset(LANGUAGES) if services.settings.openai_enabled else OFFLINE_WRITER_LANGUAGES


def spoken_language_codes(services: Services) -> frozenset[str]:
    """The languages at least one offered voice speaks."""
    codes: frozenset[str] = frozenset()
    for voice in offered_voices(services):
        codes |= voice_language_codes(voice)
    return codes
