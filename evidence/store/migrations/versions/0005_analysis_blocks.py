"""The analysis cache: what analysis reads from each entry, sealed, in blocks.

Derived data only: every row can be deleted at any time and is rebuilt from the
entries on the next analysis (see ``evidence.analysis_cache``). Not append-only,
unlike ``entries`` and ``heads``: a block that no longer opens is replaced.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_blocks",
        sa.Column("log_id", sa.String(36), sa.ForeignKey("logs.id"), primary_key=True),
        sa.Column("block", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analysis_blocks")
