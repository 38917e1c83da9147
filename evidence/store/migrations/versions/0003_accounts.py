"""Server accounts, their sessions and API tokens, and rate limits shared by all workers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("log_id", sa.String(36), sa.ForeignKey("logs.id"), nullable=False, unique=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.LargeBinary(32), primary_key=True),
        sa.Column("window_start_us", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_table("credentials")
    op.drop_table("accounts")
