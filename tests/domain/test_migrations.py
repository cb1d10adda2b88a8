"""The models and the Alembic history agree, on PostgreSQL and SQLite, both ways."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from alembic import command
from tests.conftest import _alembic_config
from viralshorts.db import make_engine


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return diff


def test_postgres_schema_from_migrations_matches_models(database_url: str) -> None:
    assert _diff(database_url) == []


def test_sqlite_upgrade_matches_models_and_downgrades_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(_alembic_config(url), "head")
    assert _diff(url) == []
    command.downgrade(_alembic_config(url), "base")
    engine = make_engine(url)
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()


def test_seed_indexes_exist(database_url: str) -> None:
    engine = make_engine(database_url)
    inspector = sa.inspect(engine)
    indexed = {
        table: [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
        for table in ("videos", "posts", "video_analytics")
    }
    engine.dispose()
    assert ("campaign_id",) in indexed["videos"]
    assert ("status",) in indexed["videos"]
    assert ("scheduled_at",) in indexed["posts"]
    assert ("video_id", "date") in indexed["video_analytics"]
