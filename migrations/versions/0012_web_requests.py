"""web request form: a ticket's channel, company and description; requests waiting for their SMS code

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no CHECK, no batch copy): on SQLite a copy of tickets cascades into every table
    # pointing at it. Tickets filed so far all came by phone.
    op.add_column(
        "tickets", sa.Column("channel", sa.String(length=16), server_default="phone", nullable=False)
    )
    op.add_column("tickets", sa.Column("company", sa.String(length=255), nullable=True))
    op.add_column("tickets", sa.Column("contact_person", sa.String(length=255), nullable=True))
    op.add_column("tickets", sa.Column("description", sa.Text(), nullable=True))
    _report_indexes(["channel", "missed_call", *_REPORT_COLUMNS])
    op.create_table(
        "web_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("company", sa.String(length=255), nullable=False),
        sa.Column("contact_person", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("support_type", sa.String(length=32), nullable=False),
        sa.Column("callback_number", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_expires_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_requests")),
        sa.UniqueConstraint("token", name=op.f("uq_web_requests_token")),
    )
    op.create_index(op.f("ix_web_requests_created_at"), "web_requests", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_requests_created_at"), table_name="web_requests")
    op.drop_table("web_requests")
    _report_indexes(_REPORT_COLUMNS)
    op.drop_column("tickets", "description")
    op.drop_column("tickets", "contact_person")
    op.drop_column("tickets", "company")
    op.drop_column("tickets", "channel")


# The reports' covering indexes include these since 0001 (tickets.models.REPORT_COLUMNS).
_REPORT_COLUMNS = [
    "support_type",
    "status",
    "sla_due_at",
    "first_attempt_at",
    "resolved_at",
    "closed_at",
    "unreached_notified_at",
]


def _report_indexes(columns: list[str]) -> None:
    """The reports' covering indexes with `columns` included: the reports now split by channel and read
    missed_call (0011), so those are added, and on PostgreSQL a year of tickets stays an index-only scan."""
    op.drop_index("ix_tickets_report_received", table_name="tickets")
    op.drop_index("ix_tickets_report_field_received", table_name="tickets")
    op.create_index(
        "ix_tickets_report_received", "tickets", ["created_at"], postgresql_include=["field", *columns]
    )
    op.create_index(
        "ix_tickets_report_field_received",
        "tickets",
        ["field", "created_at"],
        postgresql_include=["id", *columns],
    )
