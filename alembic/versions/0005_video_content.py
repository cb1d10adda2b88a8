"""Issue 11: what a video request carries for the writer and the thumbnails (facts, look)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
