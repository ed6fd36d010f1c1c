"""contacts' phone numbers; what names an article given, kept when it is deleted

``contacts.phones``: a JSON list of phone numbers as written; every existing contact has none
(``[]``). ``articles.text_hash``: the SHA-256 of an article's text (its summary if it has no
text). ``gives.article_url`` and ``gives.article_text_hash``: the URL and text hash of the
article given, so the same article saved again after a deletion is still one the contact has
had. Columns are added in place (no table rebuild), then filled for the existing rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text_hash(text: str | None, summary: str | None) -> str | None:
    # As app.models.article_text_hash on the day of this migration (a migration does not follow
    # later changes to the code).
    words = " ".join((text or summary or "").split())
    return hashlib.sha256(words.encode()).hexdigest() if words else None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("phones", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("articles", sa.Column("text_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_articles_text_hash", "articles", ["text_hash"])
    op.add_column("gives", sa.Column("article_url", sa.String(length=2000), nullable=True))
    op.add_column("gives", sa.Column("article_text_hash", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    articles = connection.execute(sa.text("SELECT id, text, summary FROM articles")).all()
    for article_id, text, summary in articles:
        connection.execute(
            sa.text("UPDATE articles SET text_hash = :hash WHERE id = :id"),
            {"hash": _text_hash(text, summary), "id": article_id},
        )
    connection.execute(
        sa.text(
            "UPDATE gives SET article_url = (SELECT url FROM articles WHERE articles.id = "
            "gives.article_id), article_text_hash = (SELECT text_hash FROM articles WHERE "
            "articles.id = gives.article_id) WHERE article_id IS NOT NULL"
        )
    )


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, keeping the tables' AUTOINCREMENT.
    op.drop_column("gives", "article_text_hash")
    op.drop_column("gives", "article_url")
    op.drop_index("ix_articles_text_hash", table_name="articles")
    op.drop_column("articles", "text_hash")
    op.drop_column("contacts", "phones")
