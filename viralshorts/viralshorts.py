"""The Reflex app: pages and the plain HTTP routes, in one readable place."""

from pathlib import Path

import reflex as rx
from reflex import constants
from reflex.utils import prerequisites

from viralshorts.logs import request_logging
from viralshorts.ui import pages
from viralshorts.web.routes import build_api
from viralshorts.web.security import security_headers
from viralshorts.web.upload_auth import upload_session_guard


def _built_frontend() -> Path:
    """Where ``reflex run --env prod`` keeps the built pages (their inline scripts get hashed)."""
    return prerequisites.get_web_dir() / constants.Dirs.STATIC


# Last in the list = outermost: the headers reach Reflex's routes and the static pages too.
app = rx.App(
    api_transformer=[
        build_api(),
        upload_session_guard,
        request_logging,
        security_headers(_built_frontend),
    ]
)
pages.register(app)
