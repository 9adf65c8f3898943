"""Retention: when a ticket's recordings were deleted, its numbers masked, it or a call anonymised

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in ("recordings_deleted_at", "numbers_masked_at", "anonymised_at"):
            batch_op.add_column(sa.Column(name, tickets.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_closed_at"), ["closed_at"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", tickets.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_closed_at"))
        for name in ("anonymised_at", "numbers_masked_at", "recordings_deleted_at"):
            batch_op.drop_column(name)
