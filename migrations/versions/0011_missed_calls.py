"""Missed calls, and repeat callers found by caller ID

A missed call is a ticket for a call that ended before the caller chose a field. A repeat caller's open
ticket is now looked up by caller_number, never by the typed callback_number, so the index moves.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("missed_call", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index(batch_op.f("ix_tickets_callback_number_field_status"))
        batch_op.create_index(
            batch_op.f("ix_tickets_caller_number_field_status"),
            ["caller_number", "field", "status"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_caller_number_field_status"))
        batch_op.create_index(
            batch_op.f("ix_tickets_callback_number_field_status"),
            ["callback_number", "field", "status"],
            unique=False,
        )
        batch_op.drop_column("missed_call")
