"""An institute may be asked again once its referral is declined or expired

The unique (ticket, institute) becomes a unique index over the open referrals (sent or accepted) only. A
downgrade fails where a ticket has been referred to the same institute twice.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As tickets.models.OPEN_REFERRAL_SQL was when this migration was written.
OPEN = sa.text("status IN ('sent', 'accepted')")


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint("uq_referrals_ticket_id", type_="unique")
        batch_op.create_index(
            "ix_referrals_ticket_id_institute_id", ["ticket_id", "institute_id"], unique=True,
            sqlite_where=OPEN, postgresql_where=OPEN,
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_ticket_id_institute_id")
        batch_op.create_unique_constraint("uq_referrals_ticket_id", ["ticket_id", "institute_id"])
