"""Schema 0011 on SQLite: a Stripe period's usage row and the videos reserved in it move from
the month key to the day key; a calendar month keeps its key; the downgrade gives it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alembic import command
from tests.conftest import _alembic_config
from viralshorts.db import make_engine

FILLER = {sa.Integer: 0, sa.Float: 0.0, sa.Boolean: False, sa.DateTime: "2026-12-01 00:00:00"}


def _insert(conn: sa.Connection, table: str, **values: Any) -> int:
    """A row with ``values`` and a neutral value in every other required column."""
    for column in sa.inspect(conn).get_columns(table):
        if column["name"] in values or column["nullable"] or column["name"] == "id":
            continue
        kind = next((v for t, v in FILLER.items() if isinstance(column["type"], t)), "")
        values[column["name"]] = kind
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    result = conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)
    return int(result.lastrowid or 0)


def _periods(conn: sa.Connection) -> dict[str, list[str]]:
    usage = conn.execute(sa.text("SELECT period FROM usage ORDER BY id")).scalars().all()
    videos = conn.execute(sa.text("SELECT quota_period FROM videos ORDER BY id")).scalars().all()
    return {"usage": list(usage), "videos": list(videos)}


def test_0011_moves_stripe_periods_to_day_keys_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = _alembic_config(url)
    command.upgrade(config, "0010")
    engine = make_engine(url)
    with engine.begin() as conn:
        user = _insert(conn, "users", email="a@example.com", display_name="A", role="user")
        paid = _insert(conn, "workspaces", name="Paid", personal=False, timezone="UTC")
        free = _insert(conn, "workspaces", name="Free", personal=False, timezone="UTC")
        _insert(conn, "subscriptions", workspace_id=paid, user_id=user, plan="pro",
                status="active", current_period_start="2026-12-01 00:00:00")  # fmt: skip
        for workspace, start in ((paid, "2026-11-15 09:30:00"), (paid, "2026-12-01 00:00:00"),
                                 (free, "2026-12-01 00:00:00")):  # fmt: skip
            period = start[:7]
            _insert(conn, "usage", workspace_id=workspace, user_id=user, period=period,
                    period_start=start, videos_reserved=1)  # fmt: skip
        campaign = _insert(conn, "campaigns", user_id=user, workspace_id=paid, name="C")
        for workspace, period in ((paid, "2026-11"), (paid, "2026-12"), (free, "2026-12")):
            _insert(conn, "videos", user_id=user, campaign_id=campaign, workspace_id=workspace,
                    quota_period=period, quota_reserved=True)  # fmt: skip
    command.upgrade(config, "0011")
    with engine.begin() as conn:
        # mid-month start: a Stripe period; the 1st at midnight: the workspace's current Stripe
        # period for the paid workspace, a calendar month for the free one
        assert _periods(conn) == {
            "usage": ["2026-11-15", "2026-12-01", "2026-12"],
            "videos": ["2026-11-15", "2026-12-01", "2026-12"],
        }
        _insert(conn, "usage", workspace_id=paid, user_id=user, period="2026-11-28",
                period_start="2026-11-28 10:00:00")  # fmt: skip
    command.downgrade(config, "0010")
    with engine.begin() as conn:
        # two periods began in November: the later one keeps the month's key
        assert _periods(conn) == {
            "usage": ["2026-12", "2026-12", "2026-11"],
            "videos": ["2026-11", "2026-12", "2026-12"],
        }
    engine.dispose()
