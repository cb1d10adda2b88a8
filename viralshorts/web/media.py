"""``GET/HEAD /api/media/{key}``: files from local storage behind HMAC-signed, expiring URLs.

The URL is the permission (made by ``LocalStorage.signed_url`` for the owner), so a ``<video>``
element can fetch it without cookies. Starlette's FileResponse answers Range requests with 206,
which is what lets the player seek.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from viralshorts.errors import ValidationError
from viralshorts.integrations.storage_local import (
    LocalStorage,
    content_type_for,
    disposition_for,
    verify,
)
from viralshorts.settings import get_settings

CACHE_CONTROL = "private, max-age=300"


def _signature_ok(request: Request, key: str) -> bool:
    query = request.query_params
    try:
        exp = int(query.get("exp", ""))
    except ValueError:
        return False
    disposition = disposition_for(query.get("dl", ""))
    return verify(get_settings().secret_key, key, exp, disposition, query.get("sig", ""))


async def serve_media(request: Request) -> Response:
    """Serve one stored file if the URL's signature is valid and not expired."""
    key = request.path_params["key"]
    if not _signature_ok(request, key):
        return PlainTextResponse("This link is invalid or has expired.", status_code=403)
    try:
        path = LocalStorage(get_settings()).path_for(key)
    except ValidationError:
        return PlainTextResponse("Not found.", status_code=404)
    if not path.is_file():
        return PlainTextResponse("Not found.", status_code=404)
    download = request.query_params.get("dl", "")
    headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if not download:
        headers["Content-Disposition"] = "inline"
    return FileResponse(
        path,
        media_type=content_type_for(key),
        filename=download or None,
        content_disposition_type="attachment",
        headers=headers,
    )


def media_routes() -> list[Route]:
    """The media route for ``build_api()``."""
    return [Route("/api/media/{key:path}", serve_media, methods=["GET", "HEAD"])]
