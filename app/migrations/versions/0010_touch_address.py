"""inbound e-mail: a secret touch address per workspace

``workspaces`` gets ``touch_token_hash`` (the SHA-256 of the token in ``touch+<token>@…``, unique),
``touch_token_prefix`` and ``touch_token_created_at``, all NULL until the workspace makes an
address. Added in place; no existing row changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("touch_token_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "workspaces", sa.Column("touch_token_prefix", sa.String(length=16), nullable=True)
    )
    op.add_column(
        "workspaces",
        sa.Column("touch_token_created_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_workspaces_touch_token_hash", "workspaces", ["touch_token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_workspaces_touch_token_hash", table_name="workspaces")
    op.drop_column("workspaces", "touch_token_created_at")
    op.drop_column("workspaces", "touch_token_prefix")
    op.drop_column("workspaces", "touch_token_hash")
