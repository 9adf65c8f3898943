"""logins: per-user session version, failed logins counted per client address

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00

The account-wide lock-out (users.failed_logins, users.locked_until) let anyone lock a named account at
will; failures are now counted per client address in login_throttle.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", "username", name=op.f("pk_login_throttle")),
    )
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: on SQLite a batch drops and
    # recreates users, and with foreign keys on that cascades into api_tokens and user_fields.
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.add_column("users", sa.Column("locked_until", tickets.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_column("users", "session_version")
    op.drop_table("login_throttle")
