"""The OpenAI adapters drive the real ``openai`` client against the local fake server."""

from __future__ import annotations

import itertools
import json
import socket
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes.openai_server import API_KEY, SECONDS_PER_WORD, FakeOpenAI, tone_wav
from viralshorts.domain.rendering.captions import resolve_word_timings
from viralshorts.errors import IntegrationError
from viralshorts.integrations.openai_client import (
    OpenAIScriptWriter,
    OpenAISpeech,
    OpenAITranscriber,
)
from viralshorts.integrations.ports import ScriptBrief
from viralshorts.integrations.script_offline import WORDS_PER_SECOND
from viralshorts.settings import Settings

BRIEF = ScriptBrief(
    topic="the paperclip", niche="design history", tone="funny", language="de", target_seconds=40
)


@pytest.fixture()
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def settings_for(base_url: str, api_key: str = API_KEY) -> Settings:
    return Settings(app_env="test", openai_api_key=api_key, openai_base_url=base_url)


def test_script_writer_asks_for_strict_structured_output(fake: FakeOpenAI) -> None:
    script = OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)

    request = fake.last("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json
    assert body["model"] == "gpt-4o-mini"
    schema = body["response_format"]["json_schema"]
    assert (schema["name"], schema["strict"]) == ("short_script", True)
    assert set(schema["schema"]["required"]) == {
        "hook",
        "lines",
        "title",
        "description",
        "hashtags",
    }
    prompt = body["messages"][-1]["content"]
    words = f"about {round(40 * WORDS_PER_SECOND)} words"
    for expected in ("the paperclip", "design history", "funny", "de", words):
        assert expected in prompt
    assert "the paperclip" in script.hook
    assert script.lines[0].text == "The paperclip started as an accident."
    assert script.hashtags == ["#history", "#facts", "#shorts"]
    assert script.lines[2].keywords  # the model gave none; filled from the line and topic


def test_the_creators_facts_ground_the_prompt(fake: FakeOpenAI) -> None:
    facts = ("Paperclips were patented in 1899.", "A paperclip holds about 20 sheets.")
    OpenAIScriptWriter(settings_for(fake.base_url)).write(replace(BRIEF, facts=facts))

    prompt = fake.last("/chat/completions").json["messages"][-1]["content"]
    assert "Use every one of them" in prompt
    for fact in facts:
        assert f"- {fact}" in prompt
    OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert "Key facts" not in fake.last("/chat/completions").json["messages"][-1]["content"]


def test_wrong_api_key_is_not_retried(fake: FakeOpenAI) -> None:
    writer = OpenAIScriptWriter(settings_for(fake.base_url, api_key="sk-wrong"))
    with pytest.raises(IntegrationError, match="OpenAI rejected the API key") as caught:
        writer.write(BRIEF)
    assert caught.value.retryable is False
    assert fake.count("/chat/completions") == 1


def test_rate_limit_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.fail_next("/chat/completions", 429, retry_after_ms="10")
    script = OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert script.lines
    assert fake.count("/chat/completions") == 2


def test_server_errors_give_up_after_two_retries(fake: FakeOpenAI) -> None:
    fake.fail_next("/chat/completions", 500, times=5, retry_after_ms="5")
    with pytest.raises(IntegrationError, match="server error") as caught:
        OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert caught.value.retryable is True
    assert fake.count("/chat/completions") == 3


def test_should_retry_false_stops_sdk_retries(fake: FakeOpenAI) -> None:
    fake.fail_next("/chat/completions", 503, x_should_retry="false")
    with pytest.raises(IntegrationError) as caught:
        OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert caught.value.retryable is True
    assert fake.count("/chat/completions") == 1


def test_unreachable_server_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    writer = OpenAIScriptWriter(settings_for(f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(IntegrationError, match="Could not reach OpenAI") as caught:
        writer.write(BRIEF)
    assert caught.value.retryable is True


def test_refusal_is_not_retryable(fake: FakeOpenAI) -> None:
    fake.state.chat_refusal = "I can't help with that."
    with pytest.raises(IntegrationError, match="refused to write") as caught:
        OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    "content",
    ["this is not json", json.dumps({"hook": "Hi", "lines": "oops"}), json.dumps({"lines": []})],
)
def test_answer_outside_the_schema_is_not_retryable(fake: FakeOpenAI, content: str) -> None:
    fake.state.chat_content = content
    with pytest.raises(IntegrationError) as caught:
        OpenAIScriptWriter(settings_for(fake.base_url)).write(BRIEF)
    assert caught.value.retryable is False


def test_custom_script_needs_no_request(fake: FakeOpenAI) -> None:
    brief = ScriptBrief("tea", "drinks", "calm", "en", 20, custom_script="Tea is old. Very old.")
    script = OpenAIScriptWriter(settings_for(fake.base_url)).write(brief)
    assert (script.hook, [ln.text for ln in script.lines]) == ("Tea is old.", ["Very old."])
    assert fake.count("/chat/completions") == 0


def test_speech_writes_a_wav_and_reads_its_duration(fake: FakeOpenAI, tmp_path: Path) -> None:
    text = "one two three four five six seven eight"
    speech = OpenAISpeech(settings_for(fake.base_url))
    result = speech.synthesize(text, voice="openai:nova", speed=2.0, out_path=tmp_path / "v.wav")

    body = fake.last("/audio/speech").json
    assert body == {
        "input": text,
        "model": "gpt-4o-mini-tts",
        "voice": "nova",
        "response_format": "wav",
        "speed": 2.0,
    }
    assert result.duration == pytest.approx(8 * SECONDS_PER_WORD / 2.0, abs=0.01)
    assert result.words is None


def test_streamed_wav_header_is_repaired(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.state.streamed_wav_header = True
    out = tmp_path / "v.wav"
    result = OpenAISpeech(settings_for(fake.base_url)).synthesize(
        "a b c d e", voice="openai:alloy", speed=1.0, out_path=out
    )
    assert result.duration == pytest.approx(5 * SECONDS_PER_WORD, abs=0.01)
    with wave.open(str(out)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(result.duration)


def test_too_long_narration_is_refused_before_calling(fake: FakeOpenAI, tmp_path: Path) -> None:
    speech = OpenAISpeech(settings_for(fake.base_url))
    with pytest.raises(IntegrationError, match="at most 4096"):
        speech.synthesize("word " * 1000, voice="openai:alloy", speed=1.0, out_path=tmp_path / "x")
    assert fake.count("/audio/speech") == 0


def test_transcriber_asks_for_word_timestamps(fake: FakeOpenAI, tmp_path: Path) -> None:
    audio = tmp_path / "narration.wav"
    audio.write_bytes(tone_wav(2.0))
    fake.state.transcript = "Hello there, world."
    words = OpenAITranscriber(settings_for(fake.base_url)).word_timings(audio, language="en")

    request = fake.last("/audio/transcriptions")
    assert request.form["timestamp_granularities[]"] == ["word"]
    assert request.form["response_format"] == ["verbose_json"]
    assert request.form["model"] == ["whisper-1"]
    assert request.form["language"] == ["en"]
    assert request.files["file"][0] == "narration.wav"
    assert [w.word for w in words] == ["Hello", "there", "world"]
    assert words[-1].end <= 2.0


def test_transcribed_timings_keep_the_scripts_punctuation(fake: FakeOpenAI, tmp_path: Path) -> None:
    settings = settings_for(fake.base_url)
    script = "Paperclips, believe it or not, were patented twice!"
    fake.state.transcript = "paperclips believe it or knot were patented twice"
    speech = OpenAISpeech(settings).synthesize(
        script, voice="openai:alloy", speed=1.0, out_path=tmp_path / "v.wav"
    )
    words = resolve_word_timings(
        speech, script, transcriber=OpenAITranscriber(settings), language="en"
    )
    assert [w.word for w in words] == script.split()
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))
    step = speech.duration / 8  # the fake spreads its 8 heard words evenly
    assert words[0].end == pytest.approx(0.8 * step, abs=0.002)  # heard times, not an estimate
    assert words[-1].end <= speech.duration


def test_failing_transcriber_falls_back_to_an_estimate(fake: FakeOpenAI, tmp_path: Path) -> None:
    settings = settings_for(fake.base_url)
    speech = OpenAISpeech(settings).synthesize(
        "Short and sweet.", voice="openai:alloy", speed=1.0, out_path=tmp_path / "v.wav"
    )
    fake.fail_next("/audio/transcriptions", 400)
    words = resolve_word_timings(
        speech, "Short and sweet.", transcriber=OpenAITranscriber(settings), language="en"
    )
    assert [w.word for w in words] == ["Short", "and", "sweet."]
    assert words[-1].end == pytest.approx(speech.duration, abs=0.001)
    assert fake.count("/audio/transcriptions") == 1
