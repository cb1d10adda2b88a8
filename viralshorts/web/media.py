"""``GET/HEAD /api/media/{key}``: files from local storage behind HMAC-signed, expiring URLs.

The URL is the permission (made by the storage's ``signed_url`` for the owner), so a ``<video>``
element can fetch it without cookies. The storage checks the signature and expiry
(``SelfServedStorage`` port); this route only streams. Starlette's FileResponse answers Range
requests with 206, which is what lets the player seek.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from viralshorts.errors import NotFoundError, PermissionDeniedError
from viralshorts.integrations.ports import SelfServedStorage
from viralshorts.integrations.services import get_services

CACHE_CONTROL = "private, max-age=300"


def serve_media(request: Request) -> Response:
    """Serve one stored file if the URL's signature is valid and not expired."""
    storage = get_services().storage
    if not isinstance(storage, SelfServedStorage):
        return PlainTextResponse("Not found.", status_code=404)  # S3 serves its own URLs
    query = request.query_params
    download = query.get("dl", "")
    try:
        served = storage.open_signed(
            request.path_params["key"],
            exp=query.get("exp", ""),
            signature=query.get("sig", ""),
            download_name=download,
        )
    except PermissionDeniedError as exc:
        return PlainTextResponse(exc.message, status_code=403)
    except NotFoundError:
        return PlainTextResponse("Not found.", status_code=404)
    headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if not download:
        headers["Content-Disposition"] = "inline"
    return FileResponse(
        served.path,
        media_type=served.content_type,
        filename=download or None,
        content_disposition_type="attachment",
        headers=headers,
    )


def media_routes() -> list[Route]:
    """The media route for ``build_api()``."""
    return [Route("/api/media/{key:path}", serve_media, methods=["GET", "HEAD"])]
