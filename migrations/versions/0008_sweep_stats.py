"""the SLA sweep's last success and duration on each scheduler's heartbeat row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00

/metrics is served by the web workers while the sweep runs in the scheduler process, so the sweep's
latest success and how long it took are kept where both can see them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tickets.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheduler_heartbeats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sweep_succeeded_at", tickets.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sweep_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scheduler_heartbeats", schema=None) as batch_op:
        batch_op.drop_column("sweep_seconds")
        batch_op.drop_column("sweep_succeeded_at")
