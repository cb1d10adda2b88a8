"""Which voices and languages this site can really make videos with.

A voice id is ``<engine>:<name>``. A voice is offered when its engine is configured (it is in
``services.speech``) and the engine has that voice. A language works when the configured script
writer writes it and at least one offered voice speaks it. Offline: the Piper voice speaks
English; eSpeak NG voices (when ``espeak-ng`` is installed, as ``./dev`` does) speak the other
languages, labelled "basic" because they sound robotic; the offline writer writes every
language from the creator's facts (with connecting phrases in English and Spanish, the facts
alone in the others) or speaks the creator's own script. The OpenAI writer and voices do every
language in ``LANGUAGES``.
"""

from __future__ import annotations

from viralshorts.integrations.ports import Services

LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
}
OFFLINE_VOICES: dict[str, str] = {"piper:joe": "Joe — offline neural voice (Piper)"}
OPENAI_VOICES: dict[str, str] = {
    f"openai:{name}": f"{name.capitalize()} — OpenAI voice"
    for name in ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
}
WRITER_NOTE = "Needs the AI script writer, which this site has not turned on yet."
BASIC_VOICE_NOTE = "basic offline voice (eSpeak NG)"
ESPEAK_VOICE_LANGUAGES: dict[str, str] = {
    "espeak:es": "es",
    "espeak:es-419": "es",
    "espeak:fr-fr": "fr",
    "espeak:de": "de",
    "espeak:it": "it",
    "espeak:pt-br": "pt",
    "espeak:pt": "pt",
}
_ESPEAK_NAMES = {
    "espeak:es": "Spanish (Spain)",
    "espeak:es-419": "Spanish (Latin America)",
    "espeak:fr-fr": "French",
    "espeak:de": "German",
    "espeak:it": "Italian",
    "espeak:pt-br": "Portuguese (Brazil)",
    "espeak:pt": "Portuguese (Portugal)",
}
ESPEAK_VOICES: dict[str, str] = {
    voice: f"{name} \u2014 {BASIC_VOICE_NOTE}" for voice, name in _ESPEAK_NAMES.items()
}
ENGINE_VOICES: dict[str, dict[str, str]] = {
    "piper": OFFLINE_VOICES,
    "espeak": ESPEAK_VOICES,
    "openai": OPENAI_VOICES,
}
"""The voices each speech engine offers, by voice id."""
ENGINE_LANGUAGES: dict[str, frozenset[str]] = {
    "piper": frozenset({"en"}),
    "openai": frozenset(LANGUAGES),
}
"""The languages each speech engine speaks (eSpeak NG: one language per voice)."""
OFFLINE_WRITER_LANGUAGES = frozenset(LANGUAGES)
"""Offline, every language is written from facts (or is the creator's own script)."""
PHRASEBOOK_LANGUAGES = frozenset({"en", "es"})
"""Languages whose connecting phrases the offline writer has; others get the facts alone."""


def offered_voices(services: Services) -> dict[str, str]:
    """Every voice id the configured engines offer, with its label."""
    offered: dict[str, str] = {}
    for engine in services.speech:
        offered |= ENGINE_VOICES.get(engine, {})
    return offered


def voice_language_codes(voice: str) -> frozenset[str]:
    """The languages one voice speaks (none for an unknown engine or voice)."""
    if voice in ESPEAK_VOICE_LANGUAGES:
        return frozenset({ESPEAK_VOICE_LANGUAGES[voice]})
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


def voices_for_language(services: Services, language: str) -> list[str]:
    """The offered voice ids that speak ``language``, in the catalogue's order."""
    return [v for v in offered_voices(services) if language in voice_language_codes(v)]


def language_note(services: Services, code: str) -> str:
    """Why videos cannot be made in ``code`` on this site now, for a creator ("" when they can)."""
    if code not in writer_language_codes(services):
        return WRITER_NOTE
    if code not in spoken_language_codes(services):
        label = LANGUAGES.get(code, code)
        return f"Needs a voice that speaks {label}, which this site has not turned on yet."
    return ""


def voice_for(language: str, voice: str, voice_languages: dict[str, list[str]]) -> str:
    """``voice`` when it is offered and speaks ``language``, else the first offered voice
    that does (else the first offered voice, else ``voice``)."""
    if language in voice_languages.get(voice, []):
        return voice
    speaking = [v for v, codes in voice_languages.items() if language in codes]
    return next(iter(speaking or voice_languages), voice)
