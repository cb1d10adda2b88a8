"""Sandbox mode: every local platform fake that exists, started together, and the settings that
point the app at them (client ids, every base URL, ``PLATFORM_SANDBOX=true``). The YouTube fake
is Google's sign-in too, so "Sign in with Google" works offline. With ``stripe_webhook_url`` the
fake Stripe runs as well (API, hosted checkout and portal, signed webhooks to that URL) and
``STRIPE_*`` point at it, so the Billing page works offline.

Used by ``scripts/sandbox.py`` (``./dev run --sandbox``: fixed ports, the web app and worker as
its children, Stripe included) and by the browser tests (free ports; they run their own fake
Stripe). A fake whose module is not there yet is left out, so its platform stays "not
configured" on the Accounts page.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# platform: (module, class, fixed port of the sandbox)
FAKES = {
    "youtube": ("tests.fakes.youtube_server", "FakeYouTube", 8601),
    "tiktok": ("tests.fakes.tiktok_server", "FakeTikTok", 8602),
    "instagram": ("tests.fakes.instagram_server", "FakeInstagram", 8603),
}
STRIPE_PORT = 8604


@dataclass
class Sandbox:
    """The running fakes by platform and the environment variables that point at them."""

    fakes: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=lambda: {"PLATFORM_SANDBOX": "true"})


def _start_stripe(
    stack: contextlib.ExitStack, sandbox: Sandbox, *, port: int, webhook_url: str
) -> None:
    from tests.fakes.stripe_server import API_KEY, WEBHOOK_SECRET, FakeStripe

    fake = stack.enter_context(FakeStripe(webhook_url=webhook_url, port=port))
    sandbox.fakes["stripe"] = fake
    sandbox.env.update(
        {
            "STRIPE_SECRET_KEY": API_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": fake.base_url,
        }
    )


@contextlib.contextmanager
def running_sandbox(
    *, fixed_ports: bool = False, stripe_webhook_url: str = ""
) -> Iterator[Sandbox]:
    """Start every fake that exists on 127.0.0.1 (their fixed ports, or free ones), and the
    fake Stripe when ``stripe_webhook_url`` says where its signed events go."""
    sandbox = Sandbox()
    with contextlib.ExitStack() as stack:
        for platform, (module_name, class_name, port) in FAKES.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            fake = stack.enter_context(getattr(module, class_name)(port if fixed_ports else 0))
            sandbox.fakes[platform] = fake
            overrides = fake.settings_overrides()
            sandbox.env.update({name.upper(): value for name, value in overrides.items()})
        if stripe_webhook_url:
            port = STRIPE_PORT if fixed_ports else 0
            _start_stripe(stack, sandbox, port=port, webhook_url=stripe_webhook_url)
        yield sandbox
