"""contacts' phone numbers

``contacts.phones``: a JSON list of phone numbers as written; every existing contact has none
(``[]``), so SQLite adds the column in place (no table rebuild).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("phones", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, keeping the tables' AUTOINCREMENT.
    op.drop_column("contacts", "phones")
