"""A local, stateful fake of the Stripe API and its webhooks (PROTOCOLS.md section 4).

The API speaks Stripe's wire format: form-encoded v1 POSTs with bracket nesting
(``line_items[0][price]=...``), ``Authorization: Bearer sk_test_...``, ``Idempotency-Key`` (same
key and parameters: the same answer; other parameters: 400 ``idempotency_error``), JSON objects
and ``{"error": {...}}`` errors. It keeps customers, Checkout Sessions, Billing Portal sessions,
subscriptions and invoices. Its hosted pages complete: the checkout page's button creates the
subscription and its paid invoice, sends ``checkout.session.completed``,
``customer.subscription.created`` and ``invoice.paid`` signed with the real scheme, then
redirects to ``success_url``; the portal page changes the plan or cancels at period end.

Webhooks are POSTed with ``Stripe-Signature: t=...,v1=HMAC-SHA256(secret, f"{t}.{body}")``.
``delivery`` sets the order and repetition of each batch ("in_order", "shuffled", "reversed",
"duplicated"); ``send_event`` can sign with an old timestamp or a wrong secret; failed deliveries
(non-2xx) are retried ``retries`` times. Test hooks under ``/_fake/`` end a period (renewal or,
after a cancel, ``customer.subscription.deleted``) and fail a renewal payment.

Standalone: ``python -m tests.fakes.stripe_server --port N --webhook URL --secret whsec_...``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import hmac
import html
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx

API_KEY = "sk_test_fake_stripe"
WEBHOOK_SECRET = "whsec_fake_stripe_secret"
API_VERSION = "2026-10-28.endive"
PERIOD_SECONDS = 30 * 24 * 3600
PRICES = {
    "price_creator_monthly": ("Creator", 1900),
    "price_pro_monthly": ("Pro", 4900),
}


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload`` (Stripe's v1 scheme)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's bracket-nested form encoding into dicts and lists."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node: Any = result
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(result)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass
class StripeState:
    webhook_url: str = ""
    # Tests may deliver in-process instead: (raw JSON, Stripe-Signature header) -> HTTP status.
    webhook_sender: Callable[[str, str], int] | None = None
    secret: str = WEBHOOK_SECRET
    delivery: str = "in_order"
    retries: int = 2
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)  # (event id, type, status)
    idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # statuses for the next API calls
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


class FakeStripe:
    """The fake's state and behaviour; ``serve()`` runs it on 127.0.0.1 in a thread."""

    def __init__(self, *, webhook_url: str = "", secret: str = WEBHOOK_SECRET, port: int = 0):
        self.state = StripeState(webhook_url=webhook_url, secret=secret)
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ objects

    def get(self, object_id: str) -> dict[str, Any]:
        with self.state.lock:
            return copy.deepcopy(self.state.objects[object_id])

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.objects[obj["id"]] = obj
        return copy.deepcopy(obj)

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put({
            "id": _id("cus"), "object": "customer", "email": params.get("email", ""),
            "metadata": params.get("metadata", {}), "created": int(time.time()),
        })  # fmt: skip

    def create_checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _id("cs_test")
        return self._put({
            "id": session_id, "object": "checkout.session", "mode": params.get("mode"),
            "status": "open", "payment_status": "unpaid", "customer": params.get("customer"),
            "client_reference_id": params.get("client_reference_id"),
            "line_items": params.get("line_items", []), "metadata": params.get("metadata", {}),
            "subscription_data": params.get("subscription_data", {}),
            "success_url": params.get("success_url", ""),
            "cancel_url": params.get("cancel_url", ""),
            "subscription": None, "url": f"{self.base_url}/checkout/{session_id}",
            "expires_at": int(time.time()) + 86400, "livemode": False,
        })  # fmt: skip

    def create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        portal_id = _id("bps")
        return self._put({
            "id": portal_id, "object": "billing_portal.session", "customer": params["customer"],
            "return_url": params.get("return_url", ""), "created": int(time.time()),
            "url": f"{self.base_url}/portal/{portal_id}", "livemode": False,
        })  # fmt: skip

    def _subscription(self, customer: str, price: str, metadata: dict[str, Any]) -> dict:
        now = int(time.time())
        sub_id = _id("sub")
        item = {
            "id": _id("si"), "object": "subscription_item", "quantity": 1,
            "price": {"id": price, "object": "price", "unit_amount": PRICES[price][1]},
            "current_period_start": now, "current_period_end": now + PERIOD_SECONDS,
        }  # fmt: skip
        return self._put({
            "id": sub_id, "object": "subscription", "customer": customer, "status": "active",
            "items": {"object": "list", "data": [item]}, "cancel_at_period_end": False,
            "cancel_at": None, "canceled_at": None, "ended_at": None, "metadata": metadata,
            "created": now, "latest_invoice": None, "livemode": False,
        })  # fmt: skip

    def _invoice(self, sub: dict[str, Any], *, paid: bool, reason: str) -> dict[str, Any]:
        item = sub["items"]["data"][0]
        amount = item["price"]["unit_amount"]
        invoice = self._put({
            "id": _id("in"), "object": "invoice", "customer": sub["customer"],
            "number": f"FAKE-{len(self.state.objects):04d}", "status": "paid" if paid else "open",
            "amount_due": amount, "amount_paid": amount if paid else 0, "currency": "usd",
            "billing_reason": reason, "created": int(time.time()), "attempt_count": 1,
            "period_start": item["current_period_start"], "period_end": item["current_period_end"],
            "hosted_invoice_url": f"{self.base_url}/invoice", "livemode": False,
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": sub["id"], "metadata": {}}},
        })  # fmt: skip
        sub["latest_invoice"] = invoice["id"]
        self._put(sub)
        return invoice

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """What the hosted page's button does: subscribe, invoice, and send the three events."""
        session = self.get(session_id)
        price = session["line_items"][0]["price"]
        metadata = session.get("subscription_data", {}).get("metadata", {})
        sub = self._subscription(session["customer"], price, metadata)
        invoice = self._invoice(sub, paid=True, reason="subscription_create")
        session.update(status="complete", payment_status="paid", subscription=sub["id"])
        self._put(session)
        self.deliver([
            self.event("checkout.session.completed", session),
            self.event("customer.subscription.created", self.get(sub["id"])),
            self.event("invoice.paid", invoice),
        ])  # fmt: skip
        return session

    def update_subscription(self, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
        sub = self.get(sub_id)
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in params:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = str(params["cancel_at_period_end"]).lower() == "true"
        items = params.get("items") or []
        if items and items[0].get("price"):
            price = items[0]["price"]
            previous["items"] = copy.deepcopy(sub["items"])
            sub["items"]["data"][0]["price"] = {
                "id": price,
                "object": "price",
                "unit_amount": PRICES[price][1],
            }
        self._put(sub)
        self.deliver([self.event("customer.subscription.updated", sub, previous)])
        return sub

    def end_period(self, sub_id: str) -> dict[str, Any]:
        """The period ends: a cancelling subscription is deleted, the others renew and pay."""
        sub = self.get(sub_id)
        if sub["cancel_at_period_end"]:
            now = int(time.time())
            sub.update(status="canceled", ended_at=now, canceled_at=now)
            self._put(sub)
            self.deliver([self.event("customer.subscription.deleted", sub)])
            return sub
        item = sub["items"]["data"][0]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] += PERIOD_SECONDS
        sub["status"] = "active"  # the renewal is paid
        self._put(sub)
        invoice = self._invoice(sub, paid=True, reason="subscription_cycle")
        self.deliver([
            self.event("customer.subscription.updated", self.get(sub_id)),
            self.event("invoice.paid", invoice),
        ])  # fmt: skip
        return self.get(sub_id)

    def fail_payment(self, sub_id: str) -> dict[str, Any]:
        """A renewal payment fails: the subscription goes past due."""
        sub = self.get(sub_id)
        sub["status"] = "past_due"
        self._put(sub)
        invoice = self._invoice(sub, paid=False, reason="subscription_cycle")
        self.deliver([
            self.event("invoice.payment_failed", invoice),
            self.event("customer.subscription.updated", self.get(sub_id), {"status": "active"}),
        ])  # fmt: skip
        return self.get(sub_id)

    def invoices(self, customer: str, limit: int) -> dict[str, Any]:
        with self.state.lock:
            found = [
                copy.deepcopy(o) for o in self.state.objects.values()
                if o["object"] == "invoice" and o["customer"] == customer
            ]  # fmt: skip
        found.sort(key=lambda o: o["created"], reverse=True)
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit}

    # ------------------------------------------------------------ events

    def event(
        self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": _id("evt"), "object": "event", "api_version": API_VERSION,
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "request": {"id": _id("req"), "idempotency_key": None}, "type": kind, "data": data,
        }  # fmt: skip
        with self.state.lock:
            self.state.events.append(event)
        return event

    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Send a batch in the configured order (shuffled, reversed, each twice ...)."""
        batch = list(events)
        mode = self.state.delivery
        if mode == "shuffled":
            random.shuffle(batch)
        elif mode == "reversed":
            batch.reverse()
        elif mode == "duplicated":
            batch = [e for e in batch for _ in range(2)]
        for event in batch:
            self.send_event(event)

    def send_event(
        self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> int:
        """POST one signed event (retrying non-2xx); returns the last status (0: no answer)."""
        if not self.state.webhook_url and self.state.webhook_sender is None:
            return 0
        payload = json.dumps(event)
        status = 0
        for _ in range(self.state.retries + 1):
            header = sign(payload, secret or self.state.secret, timestamp)
            sender = self.state.webhook_sender
            status = (
                sender(payload, header)
                if sender
                else _post(self.state.webhook_url, payload, header)
            )
            with self.state.lock:
                self.state.deliveries.append((event["id"], event["type"], status))
            if 200 <= status < 300:
                break
        return status


def _post(url: str, payload: str, header: str) -> int:
    headers = {"Content-Type": "application/json", "Stripe-Signature": header}
    try:
        return httpx.post(url, content=payload, headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 0


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, status: int, body: str, content_type: str, **headers: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body), "application/json")

    def _error(self, status: int, kind: str, message: str, code: str = "") -> None:
        self._json(status, {"error": {"type": kind, "message": message, "code": code}})

    def _redirect(self, location: str) -> None:
        self._send(303, "", "text/plain", Location=location)

    def _form(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return parse_form(self.rfile.read(length).decode()) if length else {}

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        if url.path.startswith("/v1/"):
            self._api(method, url.path, dict(parse_qsl(url.query)))
        elif url.path.startswith(("/checkout/", "/portal/", "/_fake/")):
            self._pages(method, url.path, dict(parse_qsl(url.query)))
        else:
            self._send(404, "Not found", "text/plain")

    # ------------------------------------------------------------ the API

    def _api(self, method: str, path: str, query: dict[str, str]) -> None:
        state = self.fake.state
        params = self._form() if method == "POST" else query
        with state.lock:
            state.requests.append((method, path, {k: str(v) for k, v in params.items()}))
            failure = state.fail_next.pop(0) if state.fail_next else None
        if failure is not None:
            return self._error(failure, "api_error", f"Injected failure {failure}.")
        if not self.headers.get("Authorization", "").startswith(f"Bearer {API_KEY}"):
            return self._error(401, "invalid_request_error", "Invalid API Key provided.")
        key = self.headers.get("Idempotency-Key", "") if method == "POST" else ""
        replay = self._idempotent_replay(key, path, params)
        if replay is not None:
            return replay()
        status, body = self._dispatch(method, path, params)
        if key:
            with state.lock:
                state.idempotency[key] = (json.dumps([path, params], sort_keys=True), status, body)
        return self._json(status, body)

    def _idempotent_replay(self, key: str, path: str, params: dict[str, Any]) -> Any:
        if not key or key not in self.fake.state.idempotency:
            return None
        signature, status, body = self.fake.state.idempotency[key]
        if signature != json.dumps([path, params], sort_keys=True):
            return lambda: self._error(
                400, "idempotency_error", "Keys for idempotent requests can only be used with "
                "the same parameters they were first used with.",
            )  # fmt: skip
        return lambda: self._json(status, body)

    def _dispatch(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict]:
        fake, parts = self.fake, path.strip("/").split("/")[1:]
        try:
            match method, parts:
                case "POST", ["customers"]:
                    return 200, fake.create_customer(params)
                case "GET", (["customers", object_id] | ["checkout", "sessions", object_id]):
                    return 200, fake.get(object_id)
                case "POST", ["checkout", "sessions"]:
                    return self._checkout(params)
                case "POST", ["billing_portal", "sessions"]:
                    return 200, fake.create_portal(params)
                case "GET", ["subscriptions", sub_id]:
                    return 200, fake.get(sub_id)
                case "POST", ["subscriptions", sub_id]:
                    return 200, fake.update_subscription(sub_id, params)
                case "GET", ["invoices"]:
                    return 200, fake.invoices(
                        params.get("customer", ""), int(params.get("limit", 10))
                    )
        except KeyError as exc:
            return 404, {
                "error": {"type": "invalid_request_error", "message": f"No such object: {exc}"}
            }
        message = f"Unrecognized request URL ({method}: {path})."
        return 404, {"error": {"type": "invalid_request_error", "message": message}}

    def _checkout(self, params: dict[str, Any]) -> tuple[int, dict]:
        items = params.get("line_items") or []
        if params.get("mode") != "subscription" or not items or items[0].get("price") not in PRICES:
            message = "mode=subscription and a known line_items[0][price] are required."
            return 400, {"error": {"type": "invalid_request_error", "message": message}}
        if params.get("customer") and params["customer"] not in self.fake.state.objects:
            return 400, {"error": {"type": "invalid_request_error", "message": "No such customer"}}
        return 200, self.fake.create_checkout(params)

    # ------------------------------------------------------------ hosted pages and test hooks

    def _pages(self, method: str, path: str, query: dict[str, str]) -> None:
        fake, parts = self.fake, path.strip("/").split("/")
        try:
            match method, parts:
                case "GET", ["checkout", session_id]:
                    return self._send(200, _checkout_page(fake.get(session_id)), "text/html")
                case "POST", ["checkout", session_id, "pay"]:
                    session = fake.complete_checkout(session_id)
                    target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                    return self._redirect(target)
                case "GET", ["portal", portal_id]:
                    return self._send(200, self._portal_page(fake.get(portal_id)), "text/html")
                case "POST", ["portal", portal_id, action]:
                    return self._portal_action(fake.get(portal_id), action, query)
                case "POST", ["_fake", "subscriptions", sub_id, "end_period"]:
                    return self._json(200, fake.end_period(sub_id))
                case "POST", ["_fake", "subscriptions", sub_id, "fail_payment"]:
                    return self._json(200, fake.fail_payment(sub_id))
        except KeyError:
            return self._send(404, "No such session", "text/plain")
        return self._send(404, "Not found", "text/plain")

    def _customer_subscription(self, customer: str) -> dict[str, Any] | None:
        with self.fake.state.lock:
            subs = [
                o for o in self.fake.state.objects.values()
                if o["object"] == "subscription" and o["customer"] == customer
                and o["status"] != "canceled"
            ]  # fmt: skip
        return copy.deepcopy(max(subs, key=lambda s: s["created"])) if subs else None

    def _portal_page(self, portal: dict[str, Any]) -> str:
        return _portal_page(portal, self._customer_subscription(portal["customer"]))

    def _portal_action(self, portal: dict[str, Any], action: str, query: dict[str, str]) -> None:
        sub = self._customer_subscription(portal["customer"])
        if sub is None:
            return self._send(400, "No subscription to change", "text/plain")
        if action == "cancel":
            self.fake.update_subscription(sub["id"], {"cancel_at_period_end": "true"})
        elif action == "change" and query.get("price") in PRICES:
            self.fake.update_subscription(sub["id"], {"items": [{"price": query["price"]}]})
        return self._redirect(f"/portal/{portal['id']}")


def _checkout_page(session: dict[str, Any]) -> str:
    label, cents = PRICES[session["line_items"][0]["price"]]
    return (
        "<!doctype html><html><head><title>Fake Stripe Checkout</title></head><body>"
        f"<h1>Subscribe to {html.escape(label)}</h1><p>${cents / 100:.2f} a month (test mode)</p>"
        f'<form method="post" action="/checkout/{session["id"]}/pay">'
        '<button type="submit">Subscribe</button></form>'
        f'<a href="{html.escape(session["cancel_url"])}">Back</a></body></html>'
    )


def _portal_page(portal: dict[str, Any], sub: dict[str, Any] | None) -> str:
    rows = ["<!doctype html><html><head><title>Fake Stripe Billing Portal</title></head><body>"]
    if sub is None:
        rows.append("<p>No active subscription.</p>")
    else:
        price = sub["items"]["data"][0]["price"]["id"]
        rows.append(f"<h1>Current plan: {html.escape(PRICES[price][0])}</h1>")
        if sub["cancel_at_period_end"]:
            rows.append("<p>Cancels at the end of the period.</p>")
        for other, (label, _) in PRICES.items():
            if other != price:
                rows.append(
                    f'<form method="post" action="/portal/{portal["id"]}/change?price={other}">'
                    f'<button type="submit">Switch to {html.escape(label)}</button></form>'
                )
        rows.append(
            f'<form method="post" action="/portal/{portal["id"]}/cancel">'
            '<button type="submit">Cancel plan</button></form>'
        )
    rows.append(
        f'<a href="{html.escape(portal["return_url"])}">Return to the site</a></body></html>'
    )
    return "".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local fake of Stripe for development.")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook", default="", help="where to POST signed events")
    parser.add_argument("--secret", default=WEBHOOK_SECRET, help="the webhook signing secret")
    parser.add_argument(
        "--delivery", default="in_order", choices=["in_order", "shuffled", "reversed", "duplicated"]
    )
    args = parser.parse_args()
    fake = FakeStripe(webhook_url=args.webhook, secret=args.secret, port=args.port)
    fake.state.delivery = args.delivery
    print(f"fake Stripe on {fake.base_url} (API key {API_KEY})", flush=True)
    with fake, contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
