"""Plain HTTP routes mounted in front of Reflex's own (health, auth cookie, media, webhooks)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from viralshorts.web.auth import auth_routes


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_api() -> Starlette:
    """The Starlette app whose routes are matched before Reflex's."""
    from viralshorts.web.analytics_export import analytics_export_routes
    from viralshorts.web.connect import connect_routes
    from viralshorts.web.media import media_routes
    from viralshorts.web.stripe_webhook import stripe_webhook_routes

    routes = [Route("/api/health", health), *auth_routes(), *media_routes()]
    routes += connect_routes()  # issue 9: connecting platform accounts
    routes += stripe_webhook_routes()  # issue 10: Stripe billing events
    routes += analytics_export_routes()  # issue 9: analytics as CSV
    return Starlette(routes=routes)
