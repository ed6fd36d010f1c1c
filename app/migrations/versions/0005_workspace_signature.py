"""a workspace's signature, appended to e-mail drafts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch_op:
        batch_op.add_column(sa.Column("signature", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "workspaces", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("signature")
