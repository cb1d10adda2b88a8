"""login_sessions.workspace_id: the workspace a browser session switched to

Nullable; NULL (or a workspace the user left) means the user's personal workspace. Deleting
the workspace sets it back to NULL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workspace_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_login_sessions_workspace_id', 'workspaces', ['workspace_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_index(
            batch_op.f('ix_login_sessions_workspace_id'), ['workspace_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_workspace_id'))
        batch_op.drop_constraint('fk_login_sessions_workspace_id', type_='foreignkey')
        batch_op.drop_column('workspace_id')
