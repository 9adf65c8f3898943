"""partner institutes, diagnoses, referrals, their private links and follow-ups

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "institutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_ko", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("support_types", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('research_institute', 'university', 'technopark', 'testing_body', 'other')",
            name=op.f("ck_institutes_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutes")),
        sa.UniqueConstraint("key", name=op.f("uq_institutes_key")),
    )
    op.create_table(
        "institute_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institute_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["institute_id"],
            ["institutes.id"],
            name=op.f("fk_institute_contacts_institute_id_institutes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institute_contacts")),
    )
    with op.batch_alter_table("institute_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institute_contacts_institute_id"), ["institute_id"], unique=False
        )

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_diagnoses_by_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_diagnoses_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diagnoses_ticket_id_id"), ["ticket_id", "id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("institute_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=255), nullable=True),
        sa.Column("expected_at", sa.Date(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("follow_up_at", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('sent', 'accepted', 'declined', 'expired', 'completed')",
            name=op.f("ck_referrals_status"),
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_referrals_by_id_users")),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["institute_contacts.id"],
            name=op.f("fk_referrals_contact_id_institute_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institute_id"], ["institutes.id"], name=op.f("fk_referrals_institute_id_institutes")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_referrals_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("ticket_id", "institute_id", name=op.f("uq_referrals_ticket_id")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_follow_up_at"), ["follow_up_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referrals_institute_id_status"), ["institute_id", "status"], unique=False
        )

    op.create_table(
        "referral_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_follow_ups_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_follow_ups")),
        sa.UniqueConstraint("referral_id", "kind", name=op.f("uq_referral_follow_ups_referral_id")),
    )
    op.create_table(
        "referral_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tickets.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tickets.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_links_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_referral_links_token_hash")),
    )
    with op.batch_alter_table("referral_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_links_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_links_referral_id"))

    op.drop_table("referral_links")
    op.drop_table("referral_follow_ups")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_institute_id_status"))
        batch_op.drop_index(batch_op.f("ix_referrals_follow_up_at"))

    op.drop_table("referrals")
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diagnoses_ticket_id_id"))

    op.drop_table("diagnoses")
    with op.batch_alter_table("institute_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institute_contacts_institute_id"))

    op.drop_table("institute_contacts")
    op.drop_table("institutes")
