"""touches: interactions with a contact (meetings, e-mails, calls) that restart its cadence

``touches`` holds one row per interaction and contact: its kind, its day (and time when known),
where it came from and an optional subject; never a message's body. ``dedupe_key`` (unique per
contact) names the calendar occurrence or message it was read from, so a file imported twice
logs nothing twice. No existing row changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "touches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "workspace_id", "contact_id", "dedupe_key", name="uq_touches_contact_key"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_touches_workspace_id", "touches", ["workspace_id"])
    op.create_index("ix_touches_contact_id", "touches", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_touches_contact_id", table_name="touches")
    op.drop_index("ix_touches_workspace_id", table_name="touches")
    op.drop_table("touches")
