"""CLI: migrate, create-admin, render, worker, dispatch-due, reencrypt-tokens, collect-analytics.

Each command is a small function that calls into the domain; heavy imports happen inside the
command so ``python -m viralshorts migrate`` stays quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from viralshorts.errors import ViralShortsError

Command = Callable[[argparse.Namespace], int]


def cmd_migrate(_args: argparse.Namespace) -> int:
    from alembic.config import Config

    from alembic import command
    from viralshorts.settings import PROJECT_ROOT

    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")
    print("database is at the newest schema")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    import getpass

    from viralshorts.db import session_scope
    from viralshorts.domain.accounts import create_admin

    password = args.password or getpass.getpass("Password for the admin: ")
    with session_scope() as session:
        user = create_admin(session, email=args.email, password=password)
    print(f"{user.email} is an admin")
    return 0


NO_FACTS_NOTE = (
    "note: no --facts FILE given, so the offline writer fills generic templates about the "
    "topic; give the video's key facts (one per line) for a script that says something"
)


def read_facts(path: str) -> tuple[str, ...]:
    """The facts in a UTF-8 text file, one per non-empty line (bullets and numbers dropped).

    Raises:
        ValidationError: the file cannot be read or holds no facts.
    """
    from viralshorts.domain.video_facts import fact_lines
    from viralshorts.errors import ValidationError

    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError({"facts": f"Cannot read the facts file {path}: {exc}"}) from exc
    facts = tuple(fact_lines(text))
    if not facts:
        raise ValidationError({"facts": f"The facts file {path} has no facts (one per line)."})
    return facts


def render_options(args: argparse.Namespace) -> dict[str, object]:
    """What ``render_to_file`` is asked for by ``render``'s arguments (facts read from file).

    Raises:
        ValidationError: neither a topic nor facts, or an unreadable facts file.
    """
    from viralshorts.errors import ValidationError

    facts = read_facts(args.facts) if args.facts else ()
    if not (args.topic or "").strip() and not facts:
        raise ValidationError({"topic": "Give --topic, --facts FILE, or both."})
    topic = (args.topic or "").strip() or facts[0]
    return {
        "topic": topic, "facts": facts, "language": args.language, "duration": args.duration,
        "out": args.out, "voice": args.voice, "caption_style": args.style,
        "background": args.bg, "seed": args.seed,
    }  # fmt: skip


def cmd_render(args: argparse.Namespace) -> int:
    from viralshorts.domain.rendering.headless import (
        background_choice,
        offline_settings,
        render_to_file,
    )
    from viralshorts.integrations.services import build_services
    from viralshorts.settings import get_settings

    options = render_options(args)
    if not options["facts"]:
        print(NO_FACTS_NOTE, file=sys.stderr)
    source, _media = background_choice(args.bg)
    services = build_services(offline_settings(get_settings(), stock=source == "stock"))
    # facts/language go only when given, so a plain topic render calls the same as before
    extra = {k: options.pop(k) for k in ("facts", "language") if options[k] not in ((), "en")}
    options.pop("facts", None), options.pop("language", None)
    return render_to_file(services, **options, **extra)  # type: ignore[arg-type]


def cmd_dispatch_due(_args: argparse.Namespace) -> int:
    from viralshorts.jobs.maintenance import run_dispatch

    enqueued = run_dispatch()
    print(f"{len(enqueued)} due post(s) enqueued" + (f": {enqueued}" if enqueued else ""))
    return 0


def cmd_collect_analytics(_args: argparse.Namespace) -> int:
    from viralshorts.db import session_scope
    from viralshorts.domain.analytics import collect_analytics
    from viralshorts.integrations.services import get_services

    with session_scope() as session:
        report = collect_analytics(session, get_services())
    for platform, rows in report.rows.items():
        wait = report.rate_limited.get(platform)
        note = f" (rate limited: try again in {wait:.0f} s)" if wait is not None else ""
        print(f"{platform}: {rows} post(s) updated{note}")
    if not report.rows:
        print("no publishing platform is configured")
    return 0


def cmd_reencrypt_tokens(_args: argparse.Namespace) -> int:
    from viralshorts.db import session_scope
    from viralshorts.domain.connected_accounts import reencrypt_tokens
    from viralshorts.integrations.services import get_services

    services = get_services()
    with session_scope() as session:
        changed = reencrypt_tokens(session, services)
    key_id = services.token_cipher.key_id if services.token_cipher else "?"
    print(f"{changed} account(s) now encrypted with key {key_id}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from worker import run_worker

    return run_worker(args.queues)


def _parser() -> argparse.ArgumentParser:
    from viralshorts.domain.rendering.captions import CAPTION_STYLES

    parser = argparse.ArgumentParser(prog="python -m viralshorts")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    worker = sub.add_parser(
        "worker", help="run RQ workers (default queues: publish render default)"
    )
    worker.add_argument("queues", nargs="*")
    worker.set_defaults(func=cmd_worker)
    admin = sub.add_parser("create-admin", help="create an admin (or promote an existing user)")
    admin.add_argument("email")
    admin.add_argument("--password", help="default: asked for interactively")
    admin.set_defaults(func=cmd_create_admin)
    render = sub.add_parser("render", help="render one video headless and offline")
    render.add_argument("--topic", help="what the video is about (default: the first fact)")
    render.add_argument(
        "--facts",
        metavar="FILE",
        help="a UTF-8 text file of the video's key facts, one per line: the script says these",
    )
    render.add_argument(
        "--language", default="en", help="the facts' language, e.g. es (default: %(default)s)"
    )
    render.add_argument("--duration", type=int, default=30, help="target length in seconds")
    render.add_argument("--out", required=True, help="output .mp4 path (.srt and .jpg beside it)")
    render.add_argument(
        "--voice",
        default="piper:joe",
        help="an offline voice, e.g. espeak:es for Spanish (default: %(default)s)",
    )
    render.add_argument(
        "--style", default="bold", choices=sorted(CAPTION_STYLES), help="caption style"
    )
    render.add_argument(
        "--bg", default="generated", help="generated | stock | a folder of clips and images"
    )
    render.add_argument("--seed", type=int, default=0)
    render.set_defaults(func=cmd_render)
    sub.add_parser(
        "dispatch-due", help="one dispatcher tick: enqueue the posts that are due"
    ).set_defaults(func=cmd_dispatch_due)
    sub.add_parser(
        "collect-analytics", help="pull every published post's statistics once"
    ).set_defaults(func=cmd_collect_analytics)
    sub.add_parser(
        "reencrypt-tokens", help="encrypt every stored platform token with the newest key"
    ).set_defaults(func=cmd_reencrypt_tokens)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors meant for people are printed without a traceback."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ViralShortsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
