"""A local fake of the Pexels video API that also serves the MP4 files it lists.

``GET /videos/search?query=&orientation=&size=&per_page=`` with ``Authorization: <key>`` answers
in Pexels' shape ({page, per_page, total_results, videos: [{id, width, height, duration, image,
video_files: [{id, quality, file_type, width, height, link}]}]}); a wrong key gets 401, and
``fail_next`` injects statuses (e.g. 429) for the next requests. ``GET /files/<name>`` serves
the clip files. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

API_KEY = "fake-pexels-key"


@dataclass
class FakeVideo:
    """One stock video: ``tags`` decide which queries find it; ``file`` is what is served."""

    video_id: int
    tags: set[str]
    file: Path
    duration: int = 3


def make_portrait_clips(folder: Path, count: int = 3) -> list[Path]:
    """Tiny 720x1280 MP4s (different test patterns), made with ffmpeg."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"clip{index}.mp4"
        source = f"testsrc=s=720x1280:r=15:d=1,hue=h={index * 120}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v", "libx264",
             "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
        paths.append(path)
    return paths


@dataclass
class PexelsState:
    videos: list[FakeVideo] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    state: PexelsState
    base_url: str

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        with self.state.lock:
            self.state.requests.append((url.path, self.headers.get("Authorization", "")))
            injected = self.state.fail_next.pop(0) if self.state.fail_next else None
        if injected:
            self._json(injected, {"error": "Rate limit exceeded" if injected == 429 else "error"})
        elif url.path == "/videos/search":
            self._search(parse_qs(url.query))
        elif url.path.startswith("/files/"):
            self._file(url.path.removeprefix("/files/"))
        else:
            self._json(404, {"error": "Not found"})

    def _search(self, query: dict[str, list[str]]) -> None:
        if self.headers.get("Authorization") != API_KEY:
            self._json(401, {"error": "Authorization field missing or invalid"})
            return
        words = set(query.get("query", [""])[0].lower().split())
        per_page = int(query.get("per_page", ["15"])[0])
        found = [v for v in self.state.videos if v.tags & words]
        body = {
            "page": 1,
            "per_page": per_page,
            "total_results": len(found),
            "url": f"{self.base_url}/search/videos/",
            "videos": [self._video(v) for v in found[:per_page]],
        }
        self._json(200, body)

    def _video(self, video: FakeVideo) -> dict[str, Any]:
        link = f"{self.base_url}/files/{video.file.name}"
        files = [
            {"id": video.video_id * 10, "quality": "hd", "file_type": "video/mp4",
             "width": 1920, "height": 1080, "link": link},
            {"id": video.video_id * 10 + 1, "quality": "sd", "file_type": "video/mp4",
             "width": 360, "height": 640, "link": link},
            {"id": video.video_id * 10 + 2, "quality": "hd", "file_type": "video/mp4",
             "width": 720, "height": 1280, "link": link},
        ]  # fmt: skip
        return {
            "id": video.video_id, "width": 720, "height": 1280, "duration": video.duration,
            "image": f"{self.base_url}/files/{video.video_id}.jpg", "video_files": files,
        }  # fmt: skip

    def _file(self, name: str) -> None:
        match = next((v.file for v in self.state.videos if v.file.name == name), None)
        if match is None:
            self._json(404, {"error": "Not found"})
            return
        data = match.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakePexels:
    """Runs the fake on 127.0.0.1 in a background thread (``with FakePexels(...) as fake``)."""

    def __init__(self, videos: list[FakeVideo]) -> None:
        self.state = PexelsState(videos=list(videos))
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        handler.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakePexels:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def downloads(self) -> list[str]:
        """Paths of the file downloads served so far."""
        return [path for path, _ in self.state.requests if path.startswith("/files/")]

    def searches(self) -> int:
        return sum(1 for path, _ in self.state.requests if path == "/videos/search")
