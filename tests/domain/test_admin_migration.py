"""Schema 0010 on SQLite: quota overrides arrive on a database at 0009 with its data, follow
their workspace when it is deleted, and go away again on downgrade."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from alembic import command
from tests.conftest import _alembic_config
from viralshorts.db import make_engine

OVERRIDE = (
    "INSERT INTO quota_overrides (workspace_id, limit_name, value, reason, created_at, updated_at)"
    " VALUES (:w, 'team_seats', 3, 'ticket', '2026-12-02 10:00:00', '2026-12-02 10:00:00')"
)


def test_0010_adds_overrides_to_a_0009_database_and_takes_them_away(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = _alembic_config(url)
    command.upgrade(config, "0009")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO workspaces (name, personal, timezone, created_at)"
                " VALUES ('Studio', false, 'UTC', '2026-12-01 10:00:00')"
            )
        )
        workspace_id = conn.execute(sa.text("SELECT id FROM workspaces")).scalar_one()
    assert "quota_overrides" not in sa.inspect(engine).get_table_names()
    command.upgrade(config, "0010")
    with engine.begin() as conn:
        conn.execute(sa.text(OVERRIDE), {"w": workspace_id})
        assert conn.execute(sa.text("SELECT name FROM workspaces")).scalar_one() == "Studio"
        conn.execute(sa.text("DELETE FROM workspaces"))
        assert conn.execute(sa.text("SELECT count(*) FROM quota_overrides")).scalar_one() == 0
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("audit_logs")}
    assert "ix_audit_logs_action" in indexes
    command.downgrade(config, "0009")
    inspector = sa.inspect(engine)
    assert "quota_overrides" not in inspector.get_table_names()
    assert "ix_audit_logs_action" not in {ix["name"] for ix in inspector.get_indexes("audit_logs")}
    engine.dispose()
