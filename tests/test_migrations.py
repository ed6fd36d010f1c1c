"""Migrations on real SQLite: an existing database keeps its rows and ends where the models are."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from app.db import create_db_engine, migrate
from app.models import Base, article_text_hash


def _engine(tmp_path: Path) -> Engine:
    return create_db_engine(f"sqlite:///{tmp_path / 'givefirst.sqlite3'}")


def _insert(connection: Connection, sql: str) -> None:
    connection.execute(text(sql))


def _seed_revision_0003(engine: Engine) -> None:
    """Two workspaces as revision 0003 stored them, with a daily list whose coming-up ids name a
    contact of the same workspace, one of the other workspace and one deleted."""
    migrate(engine, "0003")
    stamp = "'2026-01-01 00:00:00'"
    with engine.begin() as c:
        _insert(c, f"INSERT INTO workspaces VALUES (1, 'a', 'B', NULL, NULL, NULL, {stamp})")
        _insert(c, f"INSERT INTO workspaces VALUES (2, 'b', 'B', NULL, NULL, NULL, {stamp})")
        for contact_id, workspace_id in ((1, 1), (2, 1), (3, 2), (4, 1)):
            _insert(
                c,
                "INSERT INTO contacts (id, workspace_id, name, tier, created_at, updated_at) "
                f"VALUES ({contact_id}, {workspace_id}, 'c{contact_id}', 'A', {stamp}, {stamp})",
            )
            _insert(
                c,
                "INSERT INTO pain_points (workspace_id, contact_id, text, noted_on, active, "
                f"created_at) VALUES ({workspace_id}, {contact_id}, 'p', '2026-01-01', 1, {stamp})",
            )
        _insert(
            c,
            "INSERT INTO daily_lists (id, workspace_id, day, budget, due_count, coming_up, "
            "created_at) VALUES (1, 1, '2026-11-01', 1, 4, "
            '\'[{"day": "2026-11-02", "contact_ids": [2, 3]}, '
            '{"day": "2026-11-03", "contact_ids": [99, 1]}]\', '
            f"{stamp})",
        )
        _insert(c, "DELETE FROM contacts WHERE id = 2")  # pain point and list entries stay stale


def test_an_existing_database_keeps_its_rows_and_gets_ids_that_are_never_reused(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    _seed_revision_0003(engine)
    migrate(engine)
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM contacts")).scalar() == 3
        assert c.execute(text("SELECT count(*) FROM pain_points")).scalar() == 3
        coming_up = c.execute(
            text("SELECT day, position, contact_id FROM daily_coming_up ORDER BY day, position")
        ).all()
        # Contact 2 was deleted, 3 is another workspace's and 99 never existed: only 1 is left.
        assert [tuple(row) for row in coming_up] == [("2026-11-03", 0, 1)]
        for table in Base.metadata.tables:
            sql = c.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                {"t": table},
            ).scalar()
            assert "AUTOINCREMENT" in str(sql), table
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1

        _insert(c, "DELETE FROM contacts WHERE id = 4")
        _insert(
            c,
            "INSERT INTO contacts (workspace_id, name, tier, created_at, updated_at) "
            "VALUES (2, 'new', 'B', '2026-01-01', '2026-01-01')",
        )
        assert c.execute(text("SELECT max(id) FROM contacts")).scalar() == 5


def test_the_migrated_schema_is_the_models_schema(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_articles_and_gives_stored_before_0007_get_what_names_the_article(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    migrate(engine, "0006")
    stamp = "'2026-01-01 00:00:00'"
    with engine.begin() as c:
        _insert(
            c,
            "INSERT INTO workspaces (id, name, default_tier, created_at) "
            f"VALUES (1, 'a', 'B', {stamp})",
        )
        _insert(
            c,
            "INSERT INTO contacts (id, workspace_id, name, tier, created_at, updated_at) "
            f"VALUES (1, 1, 'c', 'A', {stamp}, {stamp})",
        )
        _insert(
            c,
            "INSERT INTO articles (id, workspace_id, title, url, text, tags, saved_on, created_at, "
            f"updated_at) VALUES (1, 1, 't', 'https://x.example/a', ' Some  text ', '[]', "
            f"'2026-01-01', {stamp}, {stamp})",
        )
        _insert(
            c,
            "INSERT INTO gives (workspace_id, contact_id, given_on, kind, description, article_id, "
            f"created_at) VALUES (1, 1, '2026-01-02', 'article', 'Sent', 1, {stamp})",
        )

    migrate(engine)

    expected = article_text_hash("Some text", None)
    with engine.begin() as c:
        assert c.execute(text("SELECT text_hash FROM articles")).scalar() == expected
        given = c.execute(text("SELECT article_url, article_text_hash FROM gives")).one()
        assert tuple(given) == ("https://x.example/a", expected)
        assert c.execute(text("SELECT phones FROM contacts")).scalar() == "[]"
