"""snoozed contacts; bad-timing dismissals that end

``contacts.snoozed_until``: the contact is off every list before that day. ``suggestions.
dismissed_until``: a suggestion dismissed as bad timing may be suggested again from that day.
Both are NULL for every existing row (nothing snoozed, every dismissal for ever), so SQLite adds
them in place (no table rebuild).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("snoozed_until", sa.Date(), nullable=True))
    op.add_column("suggestions", sa.Column("dismissed_until", sa.Date(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, keeping the tables' AUTOINCREMENT.
    op.drop_column("suggestions", "dismissed_until")
    op.drop_column("contacts", "snoozed_until")
