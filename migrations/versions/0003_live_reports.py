"""reports count live: drop the daily roll-up

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:30:00

The reports read the period's tickets through the created_at index instead of a roll-up kept in sync by
a job. Its four tables go, and so does the updated_at index it used to find changed tickets.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_updated_at"))
    op.drop_table("report_rollup")
    op.drop_table("report_days")
    op.drop_table("report_attempt_days")
    op.drop_table("report_alert_days")


def downgrade() -> None:
    op.create_table(
        "report_alert_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "field", "level", name=op.f("pk_report_alert_days")),
    )
    op.create_table(
        "report_attempt_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "field", "outcome", name=op.f("pk_report_attempt_days")),
    )
    op.create_table(
        "report_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("support_type", sa.String(length=32), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("called_back", sa.Integer(), nullable=False),
        sa.Column("timed_close", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "field", "support_type", name=op.f("pk_report_days")),
    )
    op.create_table(
        "report_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("built_from", sa.Date(), nullable=True),
        sa.Column("clean_before", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ticket_id", sa.Integer(), nullable=False),
        sa.Column("last_attempt_id", sa.Integer(), nullable=False),
        sa.Column("last_alert_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rollup")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_updated_at"), ["updated_at"], unique=False)
