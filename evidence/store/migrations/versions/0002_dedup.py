"""A keyed hash per entry that makes imports and API retries idempotent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("dedup", sa.LargeBinary, nullable=True))
    op.create_index("ux_entries_log_dedup", "entries", ["log_id", "dedup"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_entries_log_dedup", table_name="entries")
    op.drop_column("entries", "dedup")
