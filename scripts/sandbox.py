"""Run a command against the local platform fakes: ``./dev run --sandbox`` uses it.

    python scripts/sandbox.py -- python scripts/supervise.py --web ... --worker ...

Starts every platform fake there is (tests/fakes: YouTube on 8601, TikTok on 8602, Instagram on
8603, all on 127.0.0.1) and the fake Stripe (8604, its signed webhooks going to the web app on
``PORT``, default 3000) in this process, then runs the command with the environment pointing
the app at them (client ids, every base URL, STRIPE_*, PLATFORM_SANDBOX=true), so the web app
and the worker it starts both talk to the fakes. Accounts connected this way are labelled
"sandbox"; "Sign in with Google" signs in the YouTube fake's sandbox person.
When the command ends (Ctrl-C reaches it as well), the fakes stop. Only the standard library
and the fakes are used.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent


def _log(message: str) -> None:
    print(f"\033[1;35m[dev]\033[0m {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Start the fakes, run ``argv`` (after ``--``) with their settings, return its exit code."""
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        _log("usage: python scripts/sandbox.py -- COMMAND [ARGS...]")
        return 2
    sys.path.insert(0, str(ROOT))
    from tests.fakes.sandbox import running_sandbox

    webhook = f"http://127.0.0.1:{os.environ.get('PORT') or 3000}/api/webhooks/stripe"
    with running_sandbox(fixed_ports=True, stripe_webhook_url=webhook) as sandbox:
        for platform, fake in sandbox.fakes.items():
            _log(f"sandbox: fake {platform} on {fake.base_url}")
        _log("sandbox: pay at the fake Stripe's checkout page; no card is asked for")
        child = subprocess.Popen(command, env={**os.environ, **sandbox.env})

        def forward(signum: int, _frame: FrameType | None) -> None:
            if signum == signal.SIGTERM:
                child.send_signal(signal.SIGTERM)
            # SIGINT (Ctrl-C) already reached the child through the terminal: just wait for it.

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
