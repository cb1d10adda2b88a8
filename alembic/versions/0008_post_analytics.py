"""Issue 9: per-post daily analytics count saves too (Instagram's "saved")

The table exists since 0001 with one row per post per day (unique ``post_id, date``); the
collector upserts the platform's lifetime numbers into today's row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("video_analytics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saves", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("video_analytics", schema=None) as batch_op:
        batch_op.drop_column("saves")
