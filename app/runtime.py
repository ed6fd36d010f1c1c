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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import open_records, session_scope
from app.indexing import RecordIndexer
from app.suggestions.engine import SuggestionEngine
from embeddings.cache import CachedEmbedder, EmbeddingCache
from embeddings.embedder import Embedder
from embeddings.factory import load_model
from embeddings.index import EdgeIndex, VectorIndex, is_held_elsewhere

log = logging.getLogger(__name__)
EMBEDDING_CACHE_FILE = "embedding_cache.sqlite3"


class VectorStoreLockedError(RuntimeError):
    """Another process (usually ``givefirst serve``) has the embedded vector store open."""


@dataclass(kw_only=True)
class Records:
    """The records only: enough for key management and other pure-database commands. What is
    opened beside them (``closing``) is closed with them."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    closing: ExitStack = field(default_factory=ExitStack, repr=False)

    def close(self) -> None:
        try:
            self.closing.close()
        finally:
            self.engine.dispose()


@dataclass(kw_only=True)
class Runtime(Records):
    """The records, the embedder and the vector index, with the indexer and the engine on them."""

    embedder: CachedEmbedder
    index: VectorIndex
    indexer: RecordIndexer
    suggestion_engine: SuggestionEngine


def open_database(settings: Settings) -> Records:
    """The records only (enough for key management and other pure-database commands)."""
    engine, sessions = open_records(settings)
    return Records(settings=settings, engine=engine, session_factory=sessions)


def open_index(settings: Settings, embedder: Embedder, closing: ExitStack) -> VectorIndex:
    """The configured vector index for ``embedder``'s model, ready to serve, closed with
    ``closing``: the Qdrant server's, or the embedded one (Qdrant Edge), which refuses to open
    beside another process that holds it."""
    index: VectorIndex
    if settings.qdrant_url:
        from qdrant_client import QdrantClient  # 1.5 s to import: only where a server is used

        from embeddings.server import ServerIndex

        client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
        closing.callback(client.close)
        index = ServerIndex(client, model_id=embedder.model_id, dimension=embedder.dimension)
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
    closing.callback(index.close)
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


def open_embedder(
    settings: Settings, closing: ExitStack, *, cache_dir: Path | None = None
) -> CachedEmbedder:
    """The configured model behind the persistent embedding cache (closed with ``closing``), in
    the data folder or in ``cache_dir``."""
    folder = cache_dir or settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    cache = EmbeddingCache(folder / EMBEDDING_CACHE_FILE)
    closing.callback(cache.close)
    return CachedEmbedder(configured_model(settings), cache)


def open_runtime(
    settings: Settings, *, repair_index: bool = True, cache_dir: Path | None = None
) -> Runtime:
    """Records, embedder (its cache in the data folder or ``cache_dir``) and vector index;
    repairs the index if it disagrees with the records."""
    records = open_database(settings)
    try:
        embedder = open_embedder(settings, records.closing, cache_dir=cache_dir)
        index = open_index(settings, embedder, records.closing)
        runtime = Runtime(
            settings=settings,
            engine=records.engine,
            session_factory=records.session_factory,
            closing=records.closing,
            embedder=embedder,
            index=index,
            indexer=RecordIndexer(embedder, index),
            suggestion_engine=SuggestionEngine(embedder, index, settings.engine_config()),
        )
        if repair_index:
            with session_scope(runtime.session_factory) as session:
                runtime.indexer.reconcile(session)
    except BaseException:
        records.close()
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
