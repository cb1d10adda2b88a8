"""Browser-test harness: the REAL production build in headless Chromium.

``app_url`` creates nothing itself: it reuses the session's throwaway PostgreSQL database
(``database_url``) and claimed Redis index (``redis_url``), then runs
``reflex run --env prod`` on one free port with its own ``.web``/``.states``/upload folders, so
two runs never share a build. ``worker_process`` starts ``python worker.py`` with the same
environment, separately, for the tests that need rendering or publishing.

Everything is started in its own process group and killed as a group at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from rq import Worker

from tests.conftest import (
    claim_redis_index,
    create_test_database,
    drop_test_database,
    release_redis_index,
)
from tests.fakes.sandbox import Sandbox, running_sandbox
from tests.fakes.stripe_server import API_KEY as STRIPE_API_KEY
from tests.fakes.stripe_server import WEBHOOK_SECRET as STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe
from viralshorts.settings import PROJECT_ROOT

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
BUILD_TIMEOUT_S = 900
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 860}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _npm_registry() -> str:
    try:
        out = subprocess.run(
            ["npm", "config", "get", "registry"],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "https://registry.npmjs.org/"
    return out.stdout.strip() or "https://registry.npmjs.org/"


@dataclass(frozen=True)
class E2EEnvironment:
    port: int
    env: dict[str, str]
    logs: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str]:
    """The browser tests' own database: the app and worker never touch the other tests' data."""
    url = create_test_database()
    yield url
    drop_test_database(url)


@pytest.fixture(scope="session")
def e2e_redis_url() -> Iterator[str]:
    """The browser tests' own Redis index, so their worker never takes other tests' jobs."""
    url, client = claim_redis_index()
    yield url
    release_redis_index(client)


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    """The fake Stripe (API, hosted checkout and portal, signed webhooks) the app bills with."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="session")
def platform_sandbox() -> Iterator[Sandbox]:
    """The local YouTube/TikTok/Instagram fakes, as ``./dev run --sandbox`` starts them."""
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def e2e_environment(
    e2e_database_url: str,
    e2e_redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_stripe: FakeStripe,
    platform_sandbox: Sandbox,
) -> E2EEnvironment:
    """The environment shared by the web app and the worker of this test run."""
    database_url, redis_url = e2e_database_url, e2e_redis_url
    port = _free_port()
    root = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(root / "media"),
        "APP_ENV": "test",
        "SECRET_KEY": "e2e-" + secrets.token_hex(24),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PATH": f"{TOOLS_BIN}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY") or _npm_registry(),
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_WEB_WORKDIR": str(root / "web"),
        "REFLEX_STATES_WORKDIR": str(root / "states"),
        "REFLEX_UPLOADED_FILES_DIR": str(root / "uploaded_files"),
        "PYTHONUNBUFFERED": "1",
        **platform_sandbox.env,  # connecting accounts goes to the local platform fakes
        # Billing against the fake Stripe, which sends its signed events to the app's webhook.
        "STRIPE_SECRET_KEY": STRIPE_API_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake_stripe.base_url,
    }
    fake_stripe.state.webhook_url = f"http://127.0.0.1:{port}/api/webhooks/stripe"
    return E2EEnvironment(port=port, env=env, logs=root)


def _start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log = log_path.open("wb")
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_serving(env: E2EEnvironment, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"reflex exited with {process.returncode}:\n{tail}")
        if _answers(f"{env.base_url}/api/health") and _answers(f"{env.base_url}/"):
            return
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:]
    raise RuntimeError(f"the app did not serve within {BUILD_TIMEOUT_S} s:\n{tail}")


@pytest.fixture(scope="session")
def app_url(e2e_environment: E2EEnvironment) -> Iterator[str]:
    """The production build (``reflex run --env prod``) serving on one port; its base URL."""
    port = str(e2e_environment.port)
    log = e2e_environment.logs / "web.log"
    command = [str(VENV_BIN / "reflex"), "run", "--env", "prod", "--loglevel", "warning"]
    command += ["--frontend-port", port, "--backend-port", port]
    process = _start(command, e2e_environment.env, log)
    started = time.monotonic()
    try:
        _wait_until_serving(e2e_environment, process, log)
        print(f"\n[e2e] app built and serving in {time.monotonic() - started:.0f} s ({log})")
        yield e2e_environment.base_url
    finally:
        _stop(process)
        # The build (node_modules included) is large; the logs stay for a post-mortem.
        shutil.rmtree(e2e_environment.env["REFLEX_WEB_WORKDIR"], ignore_errors=True)


def _wait_for_rq_worker(env: E2EEnvironment, process: subprocess.Popen[bytes], log: Path) -> None:
    connection = redis.Redis.from_url(env.env["REDIS_URL"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker.py exited:\n{log.read_text(errors='replace')[-4000:]}")
            if Worker.all(connection=connection):
                return
            time.sleep(0.5)
        raise RuntimeError(f"no RQ worker registered in 120 s:\n{log.read_text(errors='replace')}")
    finally:
        connection.close()


@pytest.fixture(scope="session")
def worker_process(e2e_environment: E2EEnvironment) -> Iterator[subprocess.Popen[bytes]]:
    """``python worker.py`` with the app's environment, once an RQ worker has registered."""
    script = PROJECT_ROOT / "worker.py"
    log = e2e_environment.logs / "worker.log"
    process = _start([str(VENV_BIN / "python"), str(script)], e2e_environment.env, log)
    try:
        _wait_for_rq_worker(e2e_environment, process, log)
        yield process
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (``playwright install`` is never run)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def new_page(
    browser: Browser, viewport: dict[str, int] | None = None
) -> tuple[BrowserContext, Page]:
    """A fresh, cookie-less browser context and its page."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    context.set_default_timeout(20_000)
    return context, context.new_page()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page in its own context (no cookies shared with other tests)."""
    context, fresh = new_page(browser)
    yield fresh
    context.close()


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    password: str


def make_account(prefix: str = "creator") -> Account:
    """Unique credentials for one test user."""
    tag = secrets.token_hex(4)
    return Account(
        name=f"{prefix.title()} {tag}",
        email=f"{prefix}-{tag}@example.com",
        password=f"pw-{secrets.token_hex(8)}",
    )


def sign_up(page: Page, base_url: str, account: Account | None = None) -> Account:
    """Create a fresh user through the sign-up form and wait until the app shows."""
    account = account or make_account()
    page.goto(f"{base_url}/sign-up")
    page.get_by_label("Name").fill(account.name)
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base_url}/app**")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    return account


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Fill the sign-in form and submit it (the caller checks the outcome)."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
