"""Database engine, sessions and migrations: SQLite by default, any SQLAlchemy URL otherwise."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 15.0


def _configure_sqlite(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    # WAL lets the nightly batch read while the server writes; the busy timeout makes a writer
    # wait for the lock instead of failing; SQLite enforces foreign keys only when asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout (seconds) and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        configure = partial(_configure_sqlite, busy_timeout_ms=round(busy_timeout * 1000))
        event.listen(engine, "connect", configure)
        return engine
    return create_engine(url, pool_pre_ping=True)


def is_busy(error: OperationalError) -> bool:
    """Whether ``error`` is SQLite's "database is locked": another connection held the write
    lock for longer than the busy timeout."""
    return isinstance(error.orig, sqlite3.OperationalError) and "locked" in str(error.orig)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (a no-op when it is already there).

    On SQLite, foreign keys are off while the migrations run: changing a table means rebuilding
    it, and dropping the old copy would cascade into the rows that refer to it. Every foreign key
    is checked before the migration commits instead.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # outside a transaction: SQLite ignores this pragma inside one
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"Migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work outside a request (CLI, batch): commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
