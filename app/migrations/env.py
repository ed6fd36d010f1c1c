"""Alembic environment: runs on the connection handed over by ``app.db.migrate``."""

from alembic import context
from sqlalchemy import create_engine

from app.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # the `alembic` command line, used by developers to write new revisions
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///data/givefirst.sqlite3"
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
