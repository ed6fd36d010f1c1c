"""Builds the long-lived parts once (database, embedder, vector index) for the server, the CLI
and the nightly batch alike.

Qdrant's local mode locks its folder: one process at a time may open it. The server owns it while
it runs; CLI commands that need the store say so clearly when the server holds the lock. The
nightly batch never opens it: it reads the records and the embedding cache (both SQLite files, safe
to share between processes) and searches an in-memory copy of its own (``app.daily.nightly``).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import QdrantClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import create_db_engine, create_session_factory, migrate, session_scope
from app.indexing import RecordIndexer
from app.suggestions.engine import SuggestionEngine
from embeddings.cache import EmbeddingCache
from embeddings.embedder import CachedEmbedder, Embedder, load_model
from embeddings.index import VectorIndex

log = logging.getLogger(__name__)
EMBEDDING_CACHE_FILE = "embedding_cache.sqlite3"


class VectorStoreLockedError(RuntimeError):
    """Another process (usually ``givefirst serve``) has the local vector store open."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    qdrant: QdrantClient | None = None
    embedding_cache: EmbeddingCache | None = None
    indexer: RecordIndexer | None = None
    suggestion_engine: SuggestionEngine | None = None

    def close(self) -> None:
        if self.qdrant is not None:
            self.qdrant.close()
        if self.embedding_cache is not None:
            self.embedding_cache.close()
        self.engine.dispose()


def open_database(settings: Settings) -> Runtime:
    """The records only (enough for key management and other pure-database commands)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(
        settings.resolved_database_url(), busy_timeout=settings.database_busy_timeout_seconds
    )
    migrate(engine)
    return Runtime(settings, engine, create_session_factory(engine))


def open_qdrant(settings: Settings) -> QdrantClient:
    """A client for the configured Qdrant server, or Qdrant's local mode in the data folder."""
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
    path = settings.qdrant_path()
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(path))
    except RuntimeError as error:
        if "already accessed" in str(error):
            raise VectorStoreLockedError(
                f"The vector store in {path} is open in another process (is `givefirst serve` "
                "running?). Stop it first, or use a Qdrant server (GIVEFIRST_QDRANT_URL)."
            ) from error
        raise


def configured_model(settings: Settings) -> Embedder:
    """The configured model on the configured backend, loaded once per process."""
    return load_model(
        settings.model, backend=settings.embedding_backend, onnx_dir=settings.onnx_dir
    )


def open_embedder(runtime: Runtime, *, cache_dir: Path | None = None) -> CachedEmbedder:
    """The configured model behind the persistent embedding cache (kept on ``runtime``), in the
    data folder or in ``cache_dir``."""
    settings = runtime.settings
    folder = cache_dir or settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    runtime.embedding_cache = EmbeddingCache(folder / EMBEDDING_CACHE_FILE)
    return CachedEmbedder(configured_model(settings), runtime.embedding_cache)


def open_runtime(settings: Settings, *, repair_index: bool = True) -> Runtime:
    """Records, embedder and vector index; repairs the index if it disagrees with the records."""
    runtime = open_database(settings)
    try:
        runtime.qdrant = open_qdrant(settings)
        embedder = open_embedder(runtime)
        index = VectorIndex(
            runtime.qdrant,
            model_id=embedder.model_id,
            dimension=embedder.dimension,
            exact_in_memory=settings.qdrant_url is None or settings.exact_search,
        )
        runtime.indexer = RecordIndexer(embedder, index)
        runtime.suggestion_engine = SuggestionEngine(embedder, index, settings.engine_config())
        if index.ensure_collection():
            log.info("New vector collection %s for model %s", index.collection, index.model_id)
        if repair_index:
            with session_scope(runtime.session_factory) as session:
                runtime.indexer.reconcile(session)
    except BaseException:
        runtime.close()
        raise
    return runtime


@contextmanager
def runtime_scope(settings: Settings, *, repair: bool = True) -> Iterator[Runtime]:
    """Records, embedder and index for one command, closed (and the store unlocked) after."""
    runtime = open_runtime(settings, repair_index=repair)
    try:
        yield runtime
    finally:
        runtime.close()
