"""A local OpenAI API speaking the wire protocol of PROTOCOLS.md §5 (a real HTTP server).

Serves, under ``/v1``:
- ``POST /chat/completions`` with ``response_format`` ``json_schema``: answers JSON that fits
  the requested schema, canned per ``json_schema.name`` (``short_script`` is built from the
  prompt's topic; other names get a generated object). A non-strict-compatible schema is a 400.
- ``POST /audio/speech``: a real WAV (Python's ``wave``) whose length is proportional to the
  input's words and divided by ``speed``; optionally with a streamed header (unknown sizes).
- ``POST /audio/transcriptions``: multipart with ``timestamp_granularities[]``; ``verbose_json``
  with punctuation-free ``words`` spread over the uploaded WAV's duration.

Every request is checked for ``Authorization: Bearer <api_key>`` (else 401) and recorded.
Tests queue failures with ``fail_next`` (status, headers like ``retry-after-ms`` or
``x-should-retry: false``) and override answers with ``chat_content`` / ``chat_refusal`` /
``transcript``.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import threading
import time
import wave
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-fake-openai"
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"}
SAMPLE_RATE = 24_000
SECONDS_PER_WORD = 0.4


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "injected failure"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class FakeOpenAIState:
    """What the fake does next; tests set these and read ``requests``."""

    api_key: str = API_KEY
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    chat_content: str | None = None
    chat_refusal: str | None = None
    transcript: str = "hello from the fake transcriber"
    streamed_wav_header: bool = False
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def tone_wav(seconds: float, *, streamed_header: bool = False) -> bytes:
    """A 440 Hz mono 16-bit WAV of ``seconds``; optionally with unknown (0xFFFFFFFF) sizes."""
    frames = round(seconds * SAMPLE_RATE)
    samples = (round(8000 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(struct.pack(f"<{frames}h", *samples))
    data = bytearray(buffer.getvalue())
    if streamed_header:
        struct.pack_into("<I", data, 4, 0xFFFFFFFF)
        struct.pack_into("<I", data, 40, 0xFFFFFFFF)
    return bytes(data)


def schema_problem(schema: dict[str, Any], where: str = "schema") -> str | None:
    """Why ``schema`` breaks strict structured-output rules, or None when it is fine."""
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return f"{where}: additionalProperties must be false"
        if sorted(schema.get("required", [])) != sorted(props):
            return f"{where}: every property must be required"
        for name, sub in props.items():
            problem = schema_problem(sub, f"{where}.{name}")
            if problem:
                return problem
    if schema.get("type") == "array":
        return schema_problem(schema.get("items", {}), f"{where}[]")
    return None


def sample_for(schema: dict[str, Any], name: str = "value") -> Any:
    """An instance of a JSON schema (for schema names the fake has no canned answer for)."""
    kind = schema.get("type")
    if kind == "object":
        return {key: sample_for(sub, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample_for(schema.get("items", {}), name)]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind, f"example {name}")


def short_script(prompt: str) -> dict[str, Any]:
    """The canned ``short_script`` answer, about the prompt's ``Topic:`` line."""
    match = re.search(r"Topic:\s*(.+)", prompt)
    topic = match.group(1).strip() if match else "this topic"
    return {
        "hook": f"Here is what nobody tells you about {topic}.",
        "lines": [
            {"text": f"{topic.capitalize()} started as an accident.", "keywords": ["laboratory"]},
            {"text": "Within ten years it was everywhere.", "keywords": ["city", "crowd"]},
            {"text": "Follow for more stories like this.", "keywords": []},
        ],
        "title": f"The hidden story of {topic}",
        "description": f"A short look at {topic}.",
        "hashtags": ["#history", "facts", "#shorts"],
    }


class _Handler(BaseHTTPRequestHandler):
    state: FakeOpenAIState

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", f"req_{time.monotonic_ns()}")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _error(self, status: int, message: str, *, code: str = "", headers=None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = {"message": message, "type": kind, "param": None, "code": code or None}
        self._json(status, {"error": error}, headers)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()})
        with self.state.lock:
            self.state.requests.append(record)
            queued = self.state.failures.get(self.path, [])
            failure = queued.pop(0) if queued else None
        if self.headers.get("Authorization") != f"Bearer {self.state.api_key}":
            self._error(401, "Incorrect API key provided.", code="invalid_api_key")
        elif failure is not None:
            self._error(failure.status, failure.message, headers=failure.headers)
        else:
            self._route(record, body)

    def _route(self, record: Recorded, body: bytes) -> None:
        routes = {
            "/v1/chat/completions": self._chat,
            "/v1/audio/speech": self._speech,
            "/v1/audio/transcriptions": self._transcription,
        }
        handler = routes.get(self.path)
        if handler is None:
            self._error(404, f"Unknown path {self.path}")
            return
        handler(record, body)

    def _chat(self, record: Recorded, body: bytes) -> None:
        request = record.json = json.loads(body)
        fmt = request.get("response_format") or {}
        spec = fmt.get("json_schema", {})
        if fmt.get("type") == "json_schema" and spec.get("strict"):
            problem = schema_problem(spec.get("schema", {}))
            if problem:
                self._error(400, f"Invalid schema for response_format: {problem}")
                return
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        self._json(200, self._completion(request, spec, prompt))

    def _completion(self, request: dict, spec: dict, prompt: str) -> dict[str, Any]:
        content = self.state.chat_content
        if content is None and not self.state.chat_refusal:
            name = spec.get("name", "")
            answer = short_script(prompt) if name == "short_script" else sample_for(spec)
            content = json.dumps(answer)
        message = {"role": "assistant", "content": content, "refusal": self.state.chat_refusal}
        return {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", ""),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 120, "total_tokens": 170},
            "system_fingerprint": "fp_fake",
        }

    def _speech(self, record: Recorded, body: bytes) -> None:
        request = record.json = json.loads(body)
        text, voice = str(request.get("input", "")), request.get("voice")
        speed = float(request.get("speed", 1.0))
        if not text or len(text) > 4096 or voice not in VOICES or not 0.25 <= speed <= 4.0:
            self._error(400, "Invalid input, voice or speed.")
            return
        if request.get("response_format") != "wav":
            self._error(400, "This fake only speaks response_format=wav.")
            return
        seconds = max(0.5, len(text.split()) * SECONDS_PER_WORD / speed)
        audio = tone_wav(seconds, streamed_header=self.state.streamed_wav_header)
        self._send(200, audio, "audio/wav", {})

    def _transcription(self, record: Recorded, body: bytes) -> None:
        record.form, record.files = parse_multipart(self.headers["Content-Type"], body)
        granularities = record.form.get("timestamp_granularities[]", [])
        response_format = record.form.get("response_format", ["json"])[0]
        if "file" not in record.files or not record.form.get("model"):
            self._error(400, "file and model are required.")
            return
        if granularities and response_format != "verbose_json":
            self._error(400, "timestamp_granularities requires response_format=verbose_json.")
            return
        with wave.open(io.BytesIO(record.files["file"][1])) as wav:
            duration = wav.getnframes() / wav.getframerate()
        self._json(200, self._verbose(duration, "word" in granularities))

    def _verbose(self, duration: float, with_words: bool) -> dict[str, Any]:
        spoken = [re.sub(r"[^\w']", "", w) for w in self.state.transcript.split()]
        spoken = [w for w in spoken if w]
        step = duration / max(1, len(spoken))
        result: dict[str, Any] = {
            "task": "transcribe",
            "language": "english",
            "duration": duration,
            "text": self.state.transcript,
            "segments": [
                {
                    "id": 0,
                    "seek": 0,
                    "start": 0.0,
                    "end": duration,
                    "text": " " + self.state.transcript,
                    "tokens": [],
                    "temperature": 0.0,
                    "avg_logprob": -0.2,
                    "compression_ratio": 1.0,
                    "no_speech_prob": 0.01,
                }
            ],
            "usage": {"type": "duration", "seconds": math.ceil(duration)},
        }
        if with_words:
            result["words"] = [
                {"word": w, "start": round(i * step, 3), "end": round((i + 0.8) * step, 3)}
                for i, w in enumerate(spoken)
            ]
        return result


def parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    """Form fields (repeated names kept, e.g. ``timestamp_granularities[]``) and files."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    form: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            form.setdefault(name, []).append(payload.decode())
    return form, files


class FakeOpenAI:
    """The fake server in a background thread; use as a context manager."""

    def __init__(self) -> None:
        self.state = FakeOpenAIState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def fail_next(self, path: str, status: int, *, times: int = 1, **headers: str) -> None:
        """Answer the next ``times`` requests to ``/v1<path>`` with ``status`` and headers."""
        failures = [Failure(status, {k.replace("_", "-"): v for k, v in headers.items()})] * times
        self.state.failures.setdefault(f"/v1{path}", []).extend(failures)

    def count(self, path: str) -> int:
        """How many requests reached ``/v1<path>`` (failed ones included)."""
        return sum(r.path == f"/v1{path}" for r in self.state.requests)

    def last(self, path: str) -> Recorded:
        return [r for r in self.state.requests if r.path == f"/v1{path}"][-1]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
