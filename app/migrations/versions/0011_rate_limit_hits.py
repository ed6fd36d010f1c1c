"""a rate limit shared by several processes: ``rate_limit_hits``

One row per request counted against a limit (``key``: the limit and the API key's hash), with
its time (``at``, seconds since the epoch on the database's clock). Used on PostgreSQL, where
several replicas count the same key; a new table, no existing row changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rate_limit_hits_key", "rate_limit_hits", ["key"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_hits_key", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
