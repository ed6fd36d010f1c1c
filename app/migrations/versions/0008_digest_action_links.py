"""the digest's one-click links: a secret per workspace, and the links already used

``workspaces.link_secret`` is the HMAC key of the links (NULL until a digest first needs it), added
in place. ``used_action_tokens`` holds the SHA-256 of every link used, so that a link acts once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("link_secret", sa.String(length=64), nullable=True))
    op.create_table(
        "used_action_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_used_action_tokens_workspace_id", "used_action_tokens", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_used_action_tokens_workspace_id", table_name="used_action_tokens")
    op.drop_table("used_action_tokens")
    op.drop_column("workspaces", "link_secret")
