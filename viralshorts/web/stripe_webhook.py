"""``POST /api/webhooks/stripe``: the raw body and its ``Stripe-Signature`` go to the domain,
which verifies them (through the billing port), stores the event once and applies it.

Answers: 400 for a bad signature (nothing changed), 200 once the event is processed, ignored,
or already known (a duplicate), 503/500 when Stripe or our side failed so Stripe delivers it
again (the stored event stays FAILED, which a redelivery may claim again).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from viralshorts.db import get_engine
from viralshorts.domain import stripe_events
from viralshorts.integrations.services import get_services

MAX_BODY_BYTES = 1024 * 1024


def _receive(payload: bytes, signature: str) -> stripe_events.WebhookReceipt:
    with Session(get_engine(), expire_on_commit=False) as session:
        return stripe_events.receive(session, get_services(), payload=payload, signature=signature)


async def stripe_webhook(request: Request) -> Response:
    """Verify and process one Stripe delivery (the body is read raw, never re-serialised)."""
    payload = await request.body()
    if len(payload) > MAX_BODY_BYTES:
        return JSONResponse({"outcome": "too_large"}, status_code=413)
    signature = request.headers.get("stripe-signature", "")
    receipt = await run_in_threadpool(_receive, payload, signature)
    body = {"outcome": receipt.outcome, "message": receipt.message}
    return JSONResponse(body, status_code=receipt.status_code)


def stripe_webhook_routes() -> list[Route]:
    """The webhook route for ``build_api()``."""
    return [Route("/api/webhooks/stripe", stripe_webhook, methods=["POST"])]
