"""Issue 9: connected platform accounts (profile, encryption key id) and notifications

social_accounts gains the profile shown on the Accounts page (avatar, the platform's extra ids
such as the Facebook page), the id of the key that encrypted its tokens (so a key rotation can
re-encrypt), the refresh token's expiry, when it was last refreshed, and a sandbox flag.
notifications holds the bell's messages, one row per recipient; notification_preferences the
kinds a person does not want by email.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import viralshorts.models.base
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = viralshorts.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('social_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'avatar_url', sqlmodel.sql.sqltypes.AutoString(length=1000), server_default='',
            nullable=False,
        ))
        batch_op.add_column(
            sa.Column('profile_extra', sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(sa.Column(
            'token_key_id', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='',
            nullable=False,
        ))
        batch_op.add_column(sa.Column('refresh_expires_at', _UTC, nullable=True))
        batch_op.add_column(sa.Column('last_refreshed_at', _UTC, nullable=True))
        batch_op.add_column(
            sa.Column('sandbox', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column(
            'updated_at', _UTC, server_default=sa.func.current_timestamp(), nullable=False
        ))
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('read_at', _UTC, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(
            'ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_notifications_workspace_id'), ['workspace_id'], unique=False
        )
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_muted_kinds', sa.JSON(), nullable=False),
    sa.Column('updated_at', _UTC, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_workspace_id'))
        batch_op.drop_index('ix_notifications_user_id_read_at')
    op.drop_table('notifications')
    with op.batch_alter_table('social_accounts', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('sandbox')
        batch_op.drop_column('last_refreshed_at')
        batch_op.drop_column('refresh_expires_at')
        batch_op.drop_column('token_key_id')
        batch_op.drop_column('profile_extra')
        batch_op.drop_column('avatar_url')
