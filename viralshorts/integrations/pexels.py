"""Pexels video search and download (https://www.pexels.com/api/documentation/#videos-search).

``GET {PEXELS_API_BASE}/videos/search?query=&orientation=portrait&size=&per_page=`` with the key in
the ``Authorization`` header. We keep portrait MP4 renditions at least 720 px wide and pick the
one closest to 1080 px (big enough to look sharp, small enough to decode quickly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from viralshorts.errors import IntegrationError
from viralshorts.integrations.ports import StockClip
from viralshorts.settings import Settings

PROVIDER = "pexels"
MIN_WIDTH = 720
TARGET_WIDTH = 1080


def pick_file(video: dict[str, Any]) -> StockClip | None:
    """The best portrait MP4 rendition of one search result, or None when it has none."""
    files = [
        f
        for f in video.get("video_files", [])
        if f.get("file_type") == "video/mp4"
        and (f.get("width") or 0) >= MIN_WIDTH
        and (f.get("height") or 0) > (f.get("width") or 0)
        and f.get("link")
    ]
    if not files:
        return None
    best = min(files, key=lambda f: abs(f["width"] - TARGET_WIDTH))
    return StockClip(
        provider=PROVIDER,
        clip_id=str(video["id"]),
        download_url=best["link"],
        width=best["width"],
        height=best["height"],
        duration=float(video.get("duration") or 0),
    )


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise IntegrationError(
            "Pexels rejected the API key (check PEXELS_API_KEY).", retryable=False
        )
    if status == 429:
        raise IntegrationError("Pexels rate limit reached; try again later.", retryable=True)
    raise IntegrationError(f"Pexels answered HTTP {status}.", retryable=status >= 500)


class PexelsStockFootage:
    """The StockFootage port over the Pexels video API."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self._key = settings.pexels_api_key.get_secret_value()
        self._base = settings.pexels_api_base.rstrip("/")
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(30.0, connect=5.0), follow_redirects=True
        )

    def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.get(url, **kwargs)
        except httpx.HTTPError as exc:
            raise IntegrationError(f"Could not reach Pexels: {exc}", retryable=True) from exc
        _raise_for_status(response)
        return response

    def search(self, query: str, *, min_duration: float, count: int) -> list[StockClip]:
        """Up to ``count`` portrait clips for ``query``, those lasting ``min_duration`` first.

        Raises:
            IntegrationError: No key, a rejected key, rate limiting, or Pexels is down.
        """
        if not self._key:
            raise IntegrationError("Pexels is not configured (no PEXELS_API_KEY).", retryable=False)
        params = {"query": query, "orientation": "portrait", "size": "medium", "per_page": 40}
        response = self._get(
            f"{self._base}/videos/search", params=params, headers={"Authorization": self._key}
        )
        clips = [c for c in map(pick_file, response.json().get("videos", [])) if c]
        long_enough = [c for c in clips if c.duration >= min_duration]
        rest = [c for c in clips if c.duration < min_duration]
        return [*long_enough, *rest][:count]

    def download(self, clip: StockClip, dest: Path) -> Path:
        """Download ``clip`` to ``dest`` (whole or not at all).

        Raises:
            IntegrationError: The download failed.
        """
        partial = dest.with_name(dest.name + ".partial")
        try:
            with self._client.stream("GET", clip.download_url) as response:
                _raise_for_status(response)
                with partial.open("wb") as handle:
                    for chunk in response.iter_bytes(1 << 16):
                        handle.write(chunk)
            partial.replace(dest)
        except httpx.HTTPError as exc:
            raise IntegrationError(f"Could not download a Pexels clip: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return dest
