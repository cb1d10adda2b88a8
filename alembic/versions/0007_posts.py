"""Issue 9: posts (options, checkpoint, approval) and the workspace's timezone/approval setting

Posts get their per-platform fields and the platform's resume point as JSON, who asked for
them and who approved or rejected them, a pause reason (the account needs reconnecting), the
time the dispatcher may take them next, and the queue job that holds them. Workspaces get
``require_approval`` (the timezone column exists since 0003).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from viralshorts.models.base import UTCDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('require_approval', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('options', sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column('checkpoint', sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(sa.Column('requested_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                'decision_note', sa.String(length=500), server_default='', nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                'paused_reason', sa.String(length=300), server_default='', nullable=False
            )
        )
        batch_op.add_column(sa.Column('next_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('job_id', sa.String(length=100), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('claims', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column(
                'updated_at', UTCDateTime(), server_default=sa.func.now(), nullable=False
            )
        )
        batch_op.create_foreign_key(
            'fk_posts_requested_by_user_id', 'users', ['requested_by_user_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            'fk_posts_decided_by_user_id', 'users', ['decided_by_user_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_index(
            batch_op.f('ix_posts_requested_by_user_id'), ['requested_by_user_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_posts_next_attempt_at'), ['next_attempt_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_posts_requested_by_user_id'))
        batch_op.drop_constraint('fk_posts_decided_by_user_id', type_='foreignkey')
        batch_op.drop_constraint('fk_posts_requested_by_user_id', type_='foreignkey')
        for column in (
            'updated_at', 'claims', 'job_id', 'next_attempt_at', 'paused_reason',
            'decision_note', 'decided_at', 'decided_by_user_id', 'requested_by_user_id',
            'checkpoint', 'options',
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('require_approval')
