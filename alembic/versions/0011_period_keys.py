"""A Stripe period's usage key is the day it starts ("YYYY-MM-DD"), not its month

Two billing periods can start in one month (a trial ending on the 15th, a plan change that
resets the billing anchor), and with "YYYY-MM" keys the second counted on top of the first.
The calendar months of the free plan keep their "YYYY-MM" keys. Existing rows of Stripe
periods (a start that is not a month's first instant, or the start of the workspace's
current Stripe period) and the videos holding reservations in them are renamed. The
downgrade gives each month one row back: the latest period that began in it keeps the month's
key (a month's other periods are dropped; their videos count in the one kept).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD, NEW = 7, 10


def _resize(length_from: int, length_to: int) -> None:
    for table, column in (("usage", "period"), ("videos", "quota_period")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=length_from),
                type_=sqlmodel.sql.sqltypes.AutoString(length=length_to),
                existing_nullable=False,
            )


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands the text back
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rename(conn: sa.Connection, workspace_id: int, old: str, new: str) -> None:
    params = {"w": workspace_id, "old": old, "new": new}
    conn.execute(
        sa.text("UPDATE usage SET period = :new WHERE workspace_id = :w AND period = :old"), params
    )
    conn.execute(
        sa.text(
            "UPDATE videos SET quota_period = :new WHERE workspace_id = :w AND quota_period = :old"
        ),
        params,
    )


def upgrade() -> None:
    _resize(OLD, NEW)
    conn = op.get_bind()
    current = {
        (row.workspace_id, _as_utc(row.current_period_start))
        for row in conn.execute(
            sa.text(
                "SELECT workspace_id, current_period_start FROM subscriptions"
                " WHERE current_period_start IS NOT NULL"
            )
        )
    }
    rows = conn.execute(
        sa.text(
            "SELECT workspace_id, period, period_start FROM usage WHERE period_start IS NOT NULL"
        )
    ).all()
    for workspace_id, period, raw_start in rows:
        start = _as_utc(raw_start)
        month_start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if len(period) == OLD and (start != month_start or (workspace_id, start) in current):
            _rename(conn, workspace_id, period, start.strftime("%Y-%m-%d"))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, workspace_id, period FROM usage WHERE length(period) > :old"
            " ORDER BY period DESC"
        ),
        {"old": OLD},
    ).all()
    for row_id, workspace_id, period in rows:
        month = period[:OLD]
        taken = conn.execute(
            sa.text("SELECT count(*) FROM usage WHERE workspace_id = :w AND period = :m"),
            {"w": workspace_id, "m": month},
        ).scalar_one()
        if not taken:
            _rename(conn, workspace_id, period, month)
            continue
        # a later period of the same month kept the key: this one goes, its videos count there
        conn.execute(sa.text("DELETE FROM usage WHERE id = :id"), {"id": row_id})
        conn.execute(
            sa.text(
                "UPDATE videos SET quota_period = :m WHERE workspace_id = :w AND quota_period = :p"
            ),
            {"w": workspace_id, "m": month, "p": period},
        )
    _resize(NEW, OLD)
