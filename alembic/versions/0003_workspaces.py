"""workspaces: teams with members, roles and invitations; every owned row moves to a workspace

Every existing user gets a personal workspace ("<name>'s workspace") with an owner membership,
and each owned row (campaigns, videos, media, usage, subscriptions, connected accounts, API keys,
audit entries) is moved into its user's personal workspace before the column becomes NOT NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import viralshorts.models.base
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (ON DELETE of its workspace_id, NOT NULL afterwards)
OWNED = {
    "campaigns": ("CASCADE", True),
    "videos": ("CASCADE", True),
    "media_assets": ("CASCADE", True),
    "usage": ("CASCADE", True),
    "subscriptions": ("CASCADE", True),
    "social_accounts": ("CASCADE", True),
    "api_keys": ("CASCADE", True),
    "audit_logs": ("SET NULL", False),
}
# table -> (old unique columns, new unique constraint name, new unique columns)
UNIQUES = {
    "usage": (["user_id", "period"], "uq_usage_workspace_id_period", ["workspace_id", "period"]),
    "subscriptions": (["user_id"], "uq_subscriptions_workspace_id", ["workspace_id"]),
    "social_accounts": (
        ["user_id", "platform", "external_id"],
        "uq_social_accounts_workspace_account",
        ["workspace_id", "platform", "external_id"],
    ),
}
# SQLite reflects 0001's unnamed unique constraints without a name; batch mode names them so.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _old_unique_name(table: str, columns: list[str]) -> str:
    """0001's unnamed constraint: PostgreSQL's default name, or the batch convention's."""
    joined = "_".join(columns)
    return f"{table}_{joined}_key" if _is_postgres() else f"uq_{table}_{joined}"


def _create_tables() -> None:
    op.create_table('workspaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspaces_created_by_user_id'), ['created_by_user_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'user_id', name='uq_memberships_workspace_id_user_id')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invited_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', viralshorts.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_invited_by_user_id'), ['invited_by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_invitations_workspace_id'), ['workspace_id'], unique=False)


def _personal_workspaces() -> None:
    """One personal workspace and an owner membership for every user."""
    conn = op.get_bind()
    users = sa.table("users", sa.column("id"), sa.column("email"), sa.column("display_name"))
    workspaces = sa.table(
        "workspaces",
        sa.column("id"),
        sa.column("name"),
        sa.column("personal"),
        sa.column("timezone"),
        sa.column("created_by_user_id"),
        sa.column("created_at", viralshorts.models.base.UTCDateTime(timezone=True)),
    )
    memberships = sa.table(
        "memberships",
        sa.column("workspace_id"),
        sa.column("user_id"),
        sa.column("role"),
        sa.column("created_at", viralshorts.models.base.UTCDateTime(timezone=True)),
    )
    now = viralshorts.models.base.utcnow()
    for user_id, email, display_name in conn.execute(sa.select(users).order_by(users.c.id)):
        owner = (display_name or "").strip() or email.split("@", 1)[0]
        name = f"{owner[:67]}'s workspace"
        conn.execute(
            workspaces.insert().values(
                name=name, personal=True, timezone="UTC", created_by_user_id=user_id, created_at=now
            )
        )
        workspace_id = conn.execute(
            sa.select(workspaces.c.id).where(
                workspaces.c.personal == sa.true(), workspaces.c.created_by_user_id == user_id
            )
        ).scalar_one()
        conn.execute(
            memberships.insert().values(
                workspace_id=workspace_id, user_id=user_id, role="owner", created_at=now
            )
        )


def _backfill(table: str) -> None:
    """Set each row's workspace_id to its user's personal workspace."""
    rows = sa.table(table, sa.column("user_id"), sa.column("workspace_id"))
    workspaces = sa.table(
        "workspaces", sa.column("id"), sa.column("personal"), sa.column("created_by_user_id")
    )
    personal = (
        sa.select(workspaces.c.id)
        .where(workspaces.c.personal == sa.true(), workspaces.c.created_by_user_id == rows.c.user_id)
        .scalar_subquery()
    )
    op.execute(rows.update().where(rows.c.user_id.is_not(None)).values(workspace_id=personal))


def upgrade() -> None:
    _create_tables()
    for table, (ondelete, _) in OWNED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('workspace_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                f'fk_{table}_workspace_id', 'workspaces', ['workspace_id'], ['id'], ondelete=ondelete
            )
    _personal_workspaces()
    for table in OWNED:
        _backfill(table)
    for table, (_, not_null) in OWNED.items():
        old_columns, new_name, new_columns = UNIQUES.get(table, (None, None, None))
        with op.batch_alter_table(table, schema=None, naming_convention=SQLITE_NAMES) as batch_op:
            if not_null:
                batch_op.alter_column('workspace_id', existing_type=sa.Integer(), nullable=False)
            if old_columns is not None:
                batch_op.drop_constraint(_old_unique_name(table, old_columns), type_='unique')
                batch_op.create_unique_constraint(new_name, new_columns)
            if table != "subscriptions":  # its unique constraint is the index
                batch_op.create_index(batch_op.f(f'ix_{table}_workspace_id'), ['workspace_id'], unique=False)
            if table == "subscriptions":  # user_id stays, no longer unique: one per workspace
                batch_op.create_index(batch_op.f('ix_subscriptions_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    for table in reversed(list(OWNED)):
        old_columns, new_name, _ = UNIQUES.get(table, (None, None, None))
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "subscriptions":
                batch_op.drop_index(batch_op.f('ix_subscriptions_user_id'))
            else:
                batch_op.drop_index(batch_op.f(f'ix_{table}_workspace_id'))
            if old_columns is not None:
                batch_op.drop_constraint(new_name, type_='unique')
                batch_op.create_unique_constraint(_old_unique_name(table, old_columns), old_columns)
            batch_op.drop_constraint(f'fk_{table}_workspace_id', type_='foreignkey')
            batch_op.drop_column('workspace_id')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_token_hash'))
        batch_op.drop_index(batch_op.f('ix_invitations_invited_by_user_id'))
    op.drop_table('invitations')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))
    op.drop_table('memberships')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspaces_created_by_user_id'))
    op.drop_table('workspaces')
