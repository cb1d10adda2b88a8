"""Migration 0003 moves every existing row into its user's personal workspace, and back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from alembic import command
from tests.conftest import ADMIN_PG_URL, _alembic_config, _with_database, drop_test_database
from viralshorts.db import make_engine

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"vs_test_m{tmp_path.name[-8:].replace('-', '_').lower()}"
    with psycopg.connect(ADMIN_PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(ADMIN_PG_URL, name)
    yield url
    drop_test_database(url)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type.python_type if not isinstance(column.type, sa.JSON) else list
    return {int: 0, float: 0.0, bool: False, str: "", list: [], datetime: NOW}.get(kind, "")


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    for column in table.columns:
        if column.name not in values and not column.nullable and not column.primary_key:
            values[column.name] = _filler(column)
    return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


def _seed(conn: sa.Connection, meta: sa.MetaData) -> dict[str, int]:
    t = meta.tables
    ids: dict[str, int] = {}
    for key, email, name in (("ada", "ada@example.com", "Ada"), ("bob", "bob@example.com", "")):
        user = _insert(conn, t["users"], email=email, display_name=name, role="creator")
        campaign = _insert(conn, t["campaigns"], user_id=user, name=f"{key} c", niche="n")
        ids[f"{key}_user"] = user
        ids[f"{key}_campaign"] = campaign
        ids[f"{key}_video"] = _insert(
            conn, t["videos"], user_id=user, campaign_id=campaign, topic="t", status="ready"
        )
        ids[f"{key}_media"] = _insert(
            conn, t["media_assets"], user_id=user, kind="clip", filename="a.mp4", size_bytes=1
        )
        ids[f"{key}_usage"] = _insert(conn, t["usage"], user_id=user, period="2026-11")
    return ids


def _workspace_of(conn: sa.Connection, table: str, row_id: int) -> int:
    query = sa.text(f"SELECT workspace_id FROM {table} WHERE id = :id")
    return conn.execute(query, {"id": row_id}).scalar_one()


def test_existing_rows_move_to_personal_workspaces_and_come_back(empty_url: str) -> None:
    command.upgrade(_alembic_config(empty_url), "0002")
    engine = make_engine(empty_url)
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        ids = _seed(conn, meta)

    command.upgrade(_alembic_config(empty_url), "head")
    with engine.connect() as conn:
        workspaces = {
            row.created_by_user_id: row
            for row in conn.execute(sa.text("SELECT * FROM workspaces")).mappings()
        }
        roles = conn.execute(sa.text("SELECT workspace_id, user_id, role FROM memberships")).all()
        for key in ("ada", "bob"):
            workspace = workspaces[ids[f"{key}_user"]]
            assert bool(workspace["personal"]) is True
            assert (workspace["id"], ids[f"{key}_user"], "owner") in [tuple(r) for r in roles]
            for table in ("campaigns", "videos", "media_assets", "usage"):
                table_key = {"campaigns": "campaign", "videos": "video"}.get(table, table)
                row_key = f"{key}_{table_key.removesuffix('_assets')}"
                assert _workspace_of(conn, table, ids[row_key]) == workspace["id"]
        assert workspaces[ids["ada_user"]]["name"] == "Ada's workspace"
        assert workspaces[ids["bob_user"]]["name"] == "bob's workspace"
        assert len(roles) == 2

    command.downgrade(_alembic_config(empty_url), "0002")
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        assert "workspaces" not in names
        assert "memberships" not in names
        for table, key in (("campaigns", "campaign"), ("videos", "video"), ("usage", "usage")):
            owners = conn.execute(sa.text(f"SELECT id, user_id FROM {table}")).all()
            assert sorted(owners) == sorted(
                [(ids[f"ada_{key}"], ids["ada_user"]), (ids[f"bob_{key}"], ids["bob_user"])]
            )
        media = conn.execute(sa.text("SELECT count(*) FROM media_assets")).scalar_one()
        assert media == 2
    engine.dispose()
