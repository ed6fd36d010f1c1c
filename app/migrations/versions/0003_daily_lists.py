"""daily lists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("budget", sa.Integer(), nullable=False),
        sa.Column("due_count", sa.Integer(), nullable=False),
        sa.Column("coming_up", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("webhook_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "day", name="uq_daily_lists_workspace_day"),
    )
    with op.batch_alter_table("daily_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_daily_lists_workspace_id"), ["workspace_id"], unique=False
        )
    op.create_table(
        "daily_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("daily_list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["daily_list_id"], ["daily_lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("daily_list_id", "contact_id", name="uq_daily_items_list_contact"),
    )
    with op.batch_alter_table("daily_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_daily_items_daily_list_id"), ["daily_list_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_daily_items_contact_id"), ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_table("daily_items")
    op.drop_table("daily_lists")
