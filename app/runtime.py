"""Builds the long-lived parts once (database, embedder, vector index) for the server, the CLI
and the nightly batch alike.

The embedded vector index (Qdrant Edge) admits one process per shard: the server owns it while it
runs, and CLI commands that need it say so clearly when the server holds it. The nightly batch
never opens it: it builds a temporary index of its own from the records and the embedding cache
(``app.daily.nightly``). With a Qdrant server every process uses the server.
"""

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import QdrantClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import open_records, session_scope
from app.indexing import RecordIndexer
from app.suggestions.engine import SuggestionEngine
from embeddings.cache import CachedEmbedder, EmbeddingCache
from embeddings.embedder import Embedder
from embeddings.factory import load_model
from embeddings.index import EdgeIndex, ServerIndex, VectorIndex, is_held_elsewhere

log = logging.getLogger(__name__)
EMBEDDING_CACHE_FILE = "embedding_cache.sqlite3"


class VectorStoreLockedError(RuntimeError):
    """Another process (usually ``givefirst serve``) has the embedded vector store open."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    qdrant: QdrantClient | None = None
    index: VectorIndex | None = None
    embedding_cache: EmbeddingCache | None = None
    indexer: RecordIndexer | None = None
    suggestion_engine: SuggestionEngine | None = None

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
        if self.qdrant is not None:
            self.qdrant.close()
        if self.embedding_cache is not None:
            self.embedding_cache.close()
        self.engine.dispose()


def open_database(settings: Settings) -> Runtime:
    """The records only (enough for key management and other pure-database commands)."""
    engine, sessions = open_records(settings)
    return Runtime(settings, engine, sessions)


def open_qdrant(settings: Settings) -> QdrantClient:
    """A client for the configured Qdrant server."""
    assert settings.qdrant_url is not None
    return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)


def open_index(runtime: Runtime, embedder: Embedder) -> VectorIndex:
    """The configured vector index for ``embedder``'s model, ready to serve (kept on
    ``runtime``). The embedded index refuses to open beside another process that holds it."""
    settings = runtime.settings
    index: VectorIndex
    if settings.qdrant_url:
        runtime.qdrant = open_qdrant(settings)
        index = ServerIndex(
            runtime.qdrant, model_id=embedder.model_id, dimension=embedder.dimension
        )
    else:
        legacy = settings.legacy_qdrant_path()
        if legacy.is_dir():  # Qdrant local mode's copy: the records rebuild the new index
            log.warning("Removing the old vector store %s (rebuilt from the records)", legacy)
            shutil.rmtree(legacy)
        index = EdgeIndex(
            settings.vectors_path(), model_id=embedder.model_id, dimension=embedder.dimension
        )
    with _locked_store_said(settings):
        index.open()
    runtime.index = index
    return index


@contextmanager
def _locked_store_said(settings: Settings) -> Iterator[None]:
    """A shard held by another process is an error that says what to do."""
    try:
        yield
    except Exception as error:
        if not is_held_elsewhere(error):
            raise
        raise VectorStoreLockedError(
            f"The vector store in {settings.vectors_path()} is open in another process (is "
            "`givefirst serve` running?). Stop it first, or use a Qdrant server "
            "(GIVEFIRST_QDRANT_URL)."
        ) from error


def check_vector_store_free(settings: Settings) -> None:
    """Raise ``VectorStoreLockedError`` if another process holds the embedded vector store."""
    if settings.qdrant_url is None:
        with _locked_store_said(settings):
            EdgeIndex.check_free(settings.vectors_path())


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
        embedder = open_embedder(runtime)
        index = open_index(runtime, embedder)
        runtime.indexer = RecordIndexer(embedder, index)
        runtime.suggestion_engine = SuggestionEngine(embedder, index, settings.engine_config())
        if repair_index:
            with session_scope(runtime.session_factory) as session:
                runtime.indexer.reconcile(session)
    except BaseException:
        runtime.close()
        raise
    return runtime


@contextmanager
def runtime_scope(settings: Settings, *, repair: bool = True) -> Iterator[Runtime]:
    """Records, embedder and index for one command, closed (and the store released) after."""
    runtime = open_runtime(settings, repair_index=repair)
    try:
        yield runtime
    finally:
        runtime.close()
