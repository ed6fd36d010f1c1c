"""Backups of the data folder, made while the server runs.

The records database and the embedding cache are copied with SQLite's online backup API: each copy
is one consistent snapshot, whatever the server writes meanwhile. The vector index is not copied:
records are the source of truth, so a restore rebuilds it from them, and the embedding cache makes
that rebuild model-free.
"""

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import session_scope
from app.runtime import VectorStoreLockedError, check_vector_store_free, runtime_scope

DATABASE = "givefirst.sqlite3"
EMBEDDING_CACHE = "embedding_cache.sqlite3"
MANIFEST = "givefirst-backup.json"
FORMAT = "givefirst-backup"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database ``source`` (live or not) at ``target``."""
    with sqlite3.connect(source, timeout=30) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


def _check_database(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()
        connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}.") from error
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} is damaged: {result}.")


def _embedded_database(settings: Settings) -> None:
    if settings.database_url:
        raise BackupError(
            "GIVEFIRST_DATABASE_URL points at a database server: back it up with its own tool "
            "(pg_dump); `givefirst backup` copies the embedded SQLite files."
        )


def backup(settings: Settings, target: Path) -> dict[str, Any]:
    """Copy the records and the embedding cache into the new or empty folder ``target``."""
    _embedded_database(settings)
    database = settings.data_dir / DATABASE
    if not database.is_file():
        raise BackupError(f"No Givefirst database in {settings.data_dir}: nothing to back up.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty folder: choose a new one.")
    target.mkdir(parents=True, exist_ok=True)
    files = [DATABASE]
    _copy_database(database, target / DATABASE)
    if (settings.data_dir / EMBEDDING_CACHE).is_file():
        _copy_database(settings.data_dir / EMBEDDING_CACHE, target / EMBEDDING_CACHE)
        files.append(EMBEDDING_CACHE)
    for name in files:
        _check_database(target / name)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "created_at": datetime.now(UTC).isoformat(),
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _read_manifest(source: Path) -> dict[str, Any]:
    if not source.is_dir():
        raise BackupError(f"{source} is not a folder made by `givefirst backup`.")
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as error:
        raise BackupError(f"{source} holds no {MANIFEST}: not a Givefirst backup.") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{source / MANIFEST} cannot be read: {error}.") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a Givefirst backup manifest.")
    files = manifest.get("files")
    if not isinstance(files, list) or DATABASE not in files:
        raise BackupError(f"{source / MANIFEST} names no database.")
    for name in files:
        if name not in (DATABASE, EMBEDDING_CACHE) or not (source / name).is_file():
            raise BackupError(f"The backup in {source} lacks {name}.")
        _check_database(source / name)
    return manifest


def restore(settings: Settings, source: Path, *, force: bool = False) -> int:
    """Bring the backup in ``source`` back into the data folder and rebuild the vector index.

    Refuses a data folder that holds anything unless ``force``; then its records, embedding
    cache and vector store are replaced. Returns the number of points in the rebuilt index.
    """
    _embedded_database(settings)
    manifest = _read_manifest(source)
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(
            f"The data folder {data_dir} is not empty: restoring would replace what it holds. "
            "Restore into an empty folder, or pass --force to replace it."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        check_vector_store_free(settings)  # the server holds the store while it runs
    except VectorStoreLockedError as error:
        raise BackupError(f"{error} A restore needs the data folder to itself.") from error
    for name in (DATABASE, EMBEDDING_CACHE):
        for path in data_dir.glob(f"{name}*"):  # with its -wal and -shm files
            path.unlink()
    if settings.qdrant_url is None:
        shutil.rmtree(settings.vectors_path(), ignore_errors=True)
    for name in manifest["files"]:
        _copy_database(source / name, data_dir / name)
    with (
        runtime_scope(settings, repair=False) as runtime,
        session_scope(runtime.session_factory) as session,
    ):
        return runtime.indexer.rebuild(session)
