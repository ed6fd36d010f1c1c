"""``contacts.linkedin_url`` holds any URL the API accepts (up to 2,000 characters)

It was 500 while the API and the imports accept a URL up to 2,000 characters: SQLite does not
enforce a length, PostgreSQL refused the longer ones with a server error. Widening loses nothing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds the table: the copy keeps AUTOINCREMENT, so that ids are never given again.
KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("contacts", table_kwargs=KEEP_AUTOINCREMENT) as batch:
        batch.alter_column(
            "linkedin_url", existing_type=sa.String(length=500), type_=sa.String(length=2000)
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", table_kwargs=KEEP_AUTOINCREMENT) as batch:
        batch.alter_column(
            "linkedin_url", existing_type=sa.String(length=2000), type_=sa.String(length=500)
        )
