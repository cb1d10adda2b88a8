"""Issue 11: what a video request carries for the writer and the thumbnails (facts, look)

Videos get the creator's key facts (C: the offline writer arranges only these), the key of
the 1280x720 thumbnail for YouTube beside the 1080x1920 one, and a colour palette ("look");
campaigns get the palette their videos use by default; media assets get the key of a preview
frame (C: media library cards).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("facts", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("wide_thumbnail_key", _text(300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("palette", _text(32), server_default="auto", nullable=False))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("palette", _text(32), server_default="auto", nullable=False))
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_key", _text(300), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("media_assets", schema=None) as batch_op:
        batch_op.drop_column("preview_key")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("palette")
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("palette")
        batch_op.drop_column("wide_thumbnail_key")
        batch_op.drop_column("facts")
