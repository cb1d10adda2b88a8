"""Issue 10: plans, subscriptions, usage periods, webhook outcomes

subscriptions: the Stripe price, the period start, and when a renewal first failed (grace).
usage: the dates of the billing period a row counts. webhook_events: the outcome of each event,
its attempts and when it was last claimed (a claim older than a minute may be taken over).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_price_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('current_period_start', _utc(), nullable=True))
        batch_op.add_column(sa.Column('past_due_since', _utc(), nullable=True))
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_start', _utc(), nullable=True))
        batch_op.add_column(sa.Column('period_end', _utc(), nullable=True))
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=False, server_default='processed'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('claimed_at', _utc(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('outcome')
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_column('period_end')
        batch_op.drop_column('period_start')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('past_due_since')
        batch_op.drop_column('current_period_start')
        batch_op.drop_column('stripe_price_id')
