"""Issue 10: admin overrides and audit

quota_overrides: a limit a site admin set for one workspace in place of its plan's, with the
reason and who set it (one row per workspace and limit). audit_logs: an index on ``action``, which
the audit log page filters by.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from viralshorts.models.base import UTCDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quota_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('limit_name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('set_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint(
        'workspace_id', 'limit_name', name='uq_quota_overrides_workspace_id_limit_name'
    )
    )
    with op.batch_alter_table('quota_overrides', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_quota_overrides_set_by_user_id'), ['set_by_user_id'], unique=False
        )
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_logs_action'), ['action'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_logs_action'))
    with op.batch_alter_table('quota_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quota_overrides_set_by_user_id'))
    op.drop_table('quota_overrides')
