"""Database engine, sessions and migrations: SQLite by default, any SQLAlchemy URL otherwise.

Locks that several processes share live in the database. On SQLite the database file has one
writer at a time, so writes take turns by themselves; on PostgreSQL (several replicas behind a load
balancer, the nightly batch beside them) the turns are transaction-level advisory locks
(``advisory_lock``), released by the commit or rollback that ends the transaction.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, make_url, select
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
    """An engine for ``url``; SQLite gets WAL, a busy timeout (seconds) and foreign keys.

    On PostgreSQL the busy timeout is the ``lock_timeout``: a write that waits longer than that for
    a lock (the write turn held by another replica, a row another transaction is changing) fails
    as busy, as it would on SQLite. ``postgresql://`` means psycopg 3 (the ``postgres`` extra).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        configure = partial(_configure_sqlite, busy_timeout_ms=round(busy_timeout * 1000))
        event.listen(engine, "connect", configure)
        return engine
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        timeout_ms = max(1, round(busy_timeout * 1000))
        return create_engine(
            parsed, pool_pre_ping=True, connect_args={"options": f"-c lock_timeout={timeout_ms}"}
        )
    return create_engine(parsed, pool_pre_ping=True)


# SQLSTATEs of a PostgreSQL write that met another: lock_not_available (lock_timeout),
# serialization_failure, deadlock_detected.
_PG_BUSY = frozenset({"55P03", "40001", "40P01"})


def is_busy(error: OperationalError) -> bool:
    """Whether ``error`` is a write that met another one and may be tried again: SQLite's
    "database is locked" (the write lock held past the busy timeout), or PostgreSQL's lock
    timeout, serialization failure or deadlock."""
    if isinstance(error.orig, sqlite3.OperationalError):
        return "locked" in str(error.orig)
    return getattr(error.orig, "sqlstate", None) in _PG_BUSY


# The first key of every advisory lock Givefirst takes: what it locks (the second key says which).
WRITE_TURN = 0x6766_0001  # the second key: 0 (one write at a time, as SQLite has)
DAILY_LIST = 0x6766_0002  # the second key: the workspace's id
RATE_LIMIT = 0x6766_0003  # the second key: hashtext(the counted key)
MIGRATIONS = 0x6766_0004  # the second key: 0


def advisory_lock(session: Session, kind: int, key: Any = 0, *, wait: bool = True) -> None:
    """Take the transaction-level advisory lock (``kind``, ``key``) on PostgreSQL: it is held
    until the session's transaction ends, and shared by every process on the database. A no-op
    on SQLite, whose writes take turns anyway.

    ``wait=True`` waits as long as it takes (a batch that waits for another one to finish);
    otherwise the connection's ``lock_timeout`` applies and the wait fails as busy.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    if wait:  # for this statement only: the transaction's later statements keep the timeout
        previous = session.scalar(select(func.current_setting("lock_timeout")))
        session.execute(select(func.set_config("lock_timeout", "0", True)))
    session.execute(select(func.pg_advisory_xact_lock(kind, key)))
    if wait:
        session.execute(select(func.set_config("lock_timeout", previous, True)))


def take_write_turn(session: Session) -> None:
    """The write turn across processes, at the start of a write transaction: on PostgreSQL one
    write transaction at a time on the whole database, as on SQLite, so that what a write reads
    before it writes (is this URL saved already? is this contact's list built?) still holds when
    it commits, whichever replica runs it. Within a process the turn is also taken in memory
    first (``app.deps``), so that waiting requests do not each hold a connection."""
    advisory_lock(session, WRITE_TURN, wait=False)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class DatabaseSettings(Protocol):
    """What opening the records needs of the settings (``app.config.Settings`` is one)."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def database_busy_timeout_seconds(self) -> float: ...
    def resolved_database_url(self) -> str: ...


def open_records(settings: DatabaseSettings) -> tuple[Engine, sessionmaker[Session]]:
    """An engine on the configured database with its schema brought up to date, and its
    session factory: the records alone, with no embedding or search code imported."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(
        settings.resolved_database_url(), busy_timeout=settings.database_busy_timeout_seconds
    )
    migrate(engine)
    return engine, create_session_factory(engine)


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
                if connection.dialect.name == "postgresql":
                    # Replicas starting together: one migrates, the others wait and find the
                    # schema at the head (PostgreSQL's DDL is transactional).
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATIONS, 0)))
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
def session_scope(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """One unit of work outside a request (CLI, batch): commit on success, roll back on error.
    ``write``: the unit writes, and takes the write turn first (``take_write_turn``)."""
    session = factory()
    try:
        if write:
            take_write_turn(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
