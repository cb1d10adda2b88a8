"""Plain HTTP routes mounted in front of Reflex's own (health, auth cookie, media, webhooks)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_api() -> Starlette:
    """The Starlette app whose routes are matched before Reflex's."""
    return Starlette(routes=[Route("/api/health", health)])
