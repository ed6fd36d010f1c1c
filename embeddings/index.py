"""The vector index: Qdrant's own engine, embedded (Qdrant Edge) by default, a server at scale.

Every point is one piece of text of one workspace: an article passage, a pain point or an
expertise line, with a dense vector (cosine), a sparse BM25 vector (Qdrant's IDF modifier) and a
payload naming the record it came from and the hash of its text. Its id is an integer packing
the record's id and the passage number (``embeddings.points.point_id``), so an article search
returns ids and scores only: the records are read from the database, scoped to the workspace.

**One shard per (workspace, kind).** Points of one workspace and one kind live in a shard (an Edge
shard folder, or a server collection) of their own: a search reads only the caller's workspace by
construction, BM25's IDF counts that workspace's texts only, and a large workspace never slows or
starves a small one's filtered search.

**One scorer.** A search is the hybrid search of ``embeddings.hybrid``: on a server one nested
query per ``search_many`` (one round trip); on Edge, in-process, the same candidates and scores in
two requests (the lists, then only the scores still missing: ``Candidates``). Both translate the
same ``HybridSearch`` into their client's types; ``tests/test_index.py`` checks that they agree
with each other and with the formula computed exactly.

* ``EdgeIndex``: shards in a folder, opened in-process (``qdrant-edge-py``) on first use. Each
  update is written to the shard's write-ahead log before it returns; ``flush`` (at close) makes
  it survive a power cut too. Only one process can open a shard. A journal beside the shards
  (``ShardJournal``) says which shards may be out of step with the records, so that a start-up
  reconciles those only (``app.indexing``).
* ``ServerIndex`` (``embeddings.server``): one collection per shard on a Qdrant server or
  cluster (``qdrant-client``, imported only where a server is configured: it takes a second and
  a half to import).

Switching the embedding model makes a new set of shards and drops the old: two vector spaces are
never mixed.
"""

import fcntl
import hashlib
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

import qdrant_edge as edge

from embeddings.hybrid import (
    DENSE,
    KEYWORDS,
    Candidates,
    HybridSearch,
)
from embeddings.points import KINDS, Hit, IndexPoint, Kind, Query, point_record

log = logging.getLogger(__name__)

ShardKey = tuple[int, Kind]
PointKey = tuple[int, Kind, int]  # (workspace, kind, point id): a point id is unique in its shard
LOCK_FILE = ".lock"  # held (flock) by the process that has the embedded store open
Payload = dict[str, Any]
Scored = tuple[int, float, Payload]  # a point's id, its hybrid score, its payload (or {})
# The kinds whose hits carry the payload (owner and text): a pain point's or an expertise line's
# owner is a contact the id does not name. An article passage's hit is its id alone (the record
# and passage numbers; the text is the article's, ``embeddings.text.passage_text``): reading 80
# payloads per pain point was a third of a suggestion's search time.
PAYLOAD_KINDS: frozenset[Kind] = frozenset({"pain_point", "expertise"})
PAGE = 1_000
# Below this many points HNSW is not worth it: at 15,000 passages it cut recall@20 (0.981
# against 0.985 by ids) for little speed, at 35,000 it kept recall (docs/benchmarks.md §8).
HNSW_MIN_POINTS = 30_000
# While serving, a shard is checked after this many points written to it, and rebuilt in the
# background once it holds HNSW_MIN_POINTS and this many more points than at its last build
# (those sit in an appendable segment that every search scans in full).
HNSW_CHECK_EVERY = 1_000
HNSW_REBUILD_AFTER = 5_000


# Bumped when the stored points change shape: a store of another version is another model's to
# ``open`` (dropped), and the start-up reconcile writes every point again, vectors from the
# embedding cache. 2: integer point ids (``embeddings.points.point_id``), were UUIDs.
STORE_VERSION = 2


def model_tag(model_id: str) -> str:
    """A short, stable name for an embedding model's shards (and the store version)."""
    return hashlib.sha256(f"{model_id}\x00{STORE_VERSION}".encode()).hexdigest()[:16]


class VectorIndex(ABC):
    """Points of one embedding model, in a shard per (workspace, kind)."""

    def __init__(self, *, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.tag = model_tag(model_id)
        self._write_lock = threading.Lock()
        self._known: set[ShardKey] | None = None  # read from the backend once, then kept
        self._known_lock = threading.Lock()

    # -- what a backend provides -------------------------------------------------------------

    @abstractmethod
    def _discover_shards(self) -> set[ShardKey]:
        """Every (workspace, kind) the backend holds a shard of (read once per life cycle)."""

    @abstractmethod
    def _upsert(self, key: ShardKey, points: Sequence[IndexPoint]) -> None: ...

    @abstractmethod
    def _delete(self, key: ShardKey, ids: Sequence[int]) -> None: ...

    @abstractmethod
    def _payloads(self, key: ShardKey, ids: Sequence[int]) -> dict[int, Payload]: ...

    @abstractmethod
    def _scroll(
        self, key: ShardKey, *, with_hash: bool = False
    ) -> Iterator[list[tuple[int, Payload]]]: ...

    @abstractmethod
    def _count(self, key: ShardKey, *, with_keywords: bool = False) -> int:
        """Points in the shard; ``with_keywords``: only those holding a BM25 vector (what
        Qdrant's IDF counts)."""

    @abstractmethod
    def _search(
        self,
        key: ShardKey,
        searches: Sequence[HybridSearch],
        record_ids: set[int] | None,
        *,
        with_payload: bool,
    ) -> list[list[Scored]]:
        """Per search, its candidates scored by the hybrid formula, best ``limit`` first, every
        search of the batch together (``HybridSearch``'s nested query on a server, the same in
        two requests on Edge); each with its payload if ``with_payload`` (else an empty one)."""

    @abstractmethod
    def drop(self) -> None:
        """Delete every shard of this model."""

    @abstractmethod
    def open(self) -> None:
        """Get ready to serve, and drop other models' shards."""

    # -- the shards there are ----------------------------------------------------------------

    def _known_shards(self) -> set[ShardKey]:
        with self._known_lock:
            if self._known is None:
                self._known = self._discover_shards()
            return self._known

    def shards(self) -> list[ShardKey]:
        """Every (workspace, kind) that has a shard."""
        return sorted(self._known_shards())

    def has_shard(self, key: ShardKey) -> bool:
        return key in self._known_shards()

    def _shard_made(self, key: ShardKey) -> None:
        with self._known_lock:
            if self._known is not None:
                self._known.add(key)

    def _shards_dropped(self) -> None:
        with self._known_lock:
            self._known = None

    # -- which shards may be out of step with the records (see ``ShardJournal``) -------------
    # A backend without a journal (a server, shared by several processes) answers "unknown":
    # every start-up reconciles every shard.

    def in_step_with(self, source: str) -> bool:
        """Whether every shard matched the records of ``source`` (a database fingerprint) when
        last reconciled, and every change since is journalled."""
        return False

    def mark_in_step(self, source: str) -> None:  # noqa: B027 (nothing to record)
        """Every shard matches the records of ``source`` now; no write is in flight."""

    def shards_to_check(self) -> set[ShardKey]:
        """Shards an earlier process may have left out of step with the records."""
        return set()

    def shard_checked(self, key: ShardKey) -> None:  # noqa: B027 (nothing to record)
        """``key`` was reconciled: flush it and clear its journal entry."""

    def writes_coming(self, keys: Iterable[ShardKey]) -> None:  # noqa: B027 (nothing to record)
        """Durably note that writes to these shards will follow a commit of the records."""

    def writes_settled(  # noqa: B027 (nothing to record)
        self, keys: Iterable[ShardKey], *, applied: bool
    ) -> None:
        """The writes announced by ``writes_coming`` ran (``applied``), failed, or were dropped
        with their transaction (``applied``: nothing was owed)."""

    def open_shards(self) -> set[ShardKey]:
        """The shards this process holds open now."""
        return set()

    def start_background_work(self) -> None:  # noqa: B027 (a server builds its own indexes)
        """For a long-running server: build search indexes while serving (never in a
        request)."""

    def release(self, keys: Iterable[ShardKey]) -> None:  # noqa: B027 (nothing held)
        """Flush and close these shards (reopened on their next use). Only while nothing else
        uses the index (at start-up)."""

    def flush(self) -> None:  # noqa: B027 (a server is durable on its own)
        """Make every acknowledged write durable."""

    def close(self) -> None:  # noqa: B027 (a server client is closed by its owner)
        """Flush and release the shards."""

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        by_shard: dict[ShardKey, list[IndexPoint]] = {}
        for point in points:
            by_shard.setdefault((point.workspace_id, point.kind), []).append(point)
        with self._write_lock:
            for key, group in by_shard.items():
                self._upsert(key, group)

    def delete(self, workspace_id: int, kind: Kind, point_ids: Iterable[int]) -> None:
        ids = list(point_ids)
        if ids and self.has_shard((workspace_id, kind)):
            with self._write_lock:
                self._delete((workspace_id, kind), ids)

    # -- reads --------------------------------------------------------------------------------

    def stored_hashes(self, workspace_id: int, kind: Kind, ids: Sequence[int]) -> dict[int, str]:
        """The text hash stored with each of these point ids (missing ids are left out)."""
        if not ids or not self.has_shard((workspace_id, kind)):
            return {}
        payloads = self._payloads((workspace_id, kind), ids)
        return {pid: str(payload["text_hash"]) for pid, payload in payloads.items()}

    def point_ids(self, key: ShardKey) -> Iterator[int]:
        """The id of every point of one shard."""
        if self.has_shard(key):
            for page in self._scroll(key):
                for pid, _ in page:
                    yield pid

    def all_points(self) -> Iterator[PointKey]:
        """(workspace id, kind, point id) of every point (opens every shard)."""
        for key in self.shards():
            for pid in self.point_ids(key):
                yield key[0], key[1], pid

    def all_hashes(self) -> dict[PointKey, str]:
        """Every point, with the hash of its text."""
        return {
            (*key, pid): str(payload["text_hash"])
            for key in self.shards()
            for page in self._scroll(key, with_hash=True)
            for pid, payload in page
        }

    def count(self, workspace_id: int | None = None, kind: Kind | None = None) -> int:
        return sum(
            self._count(key)
            for key in self.shards()
            if workspace_id in (None, key[0]) and kind in (None, key[1])
        )

    def search_many(
        self,
        workspace_id: int,
        kind: Kind,
        queries: Sequence[Query],
        *,
        limit: int,
        keyword_weight: float,
        record_ids: set[int] | None = None,
    ) -> list[list[Hit]]:
        """For each query, its ``limit`` best points of ``kind`` in the workspace, best first;
        ``record_ids`` limits the search to those records' points."""
        key = (workspace_id, kind)
        if not queries or not self.has_shard(key) or record_ids == set():
            return [[] for _ in queries]
        points = self._keyword_points(key)
        searches = [
            HybridSearch.plan(q, limit=limit, keyword_weight=keyword_weight, points=points)
            for q in queries
        ]
        with_payload = kind in PAYLOAD_KINDS
        return [
            _ranked([_hit(kind, point, score, payload) for point, score, payload in scored])
            for scored in self._search(key, searches, record_ids, with_payload=with_payload)
        ]

    def _keyword_points(self, key: ShardKey) -> int:
        """The N of BM25's IDF for the shard (cached where one process owns the shard)."""
        return self._count(key, with_keywords=True)

    def search(
        self,
        workspace_id: int,
        kind: Kind,
        query: Query,
        *,
        limit: int,
        keyword_weight: float,
        record_ids: set[int] | None = None,
    ) -> list[Hit]:
        """One query's ``limit`` best points, best first."""
        return self.search_many(
            workspace_id,
            kind,
            [query],
            limit=limit,
            keyword_weight=keyword_weight,
            record_ids=record_ids,
        )[0]


def shard_keys(names: Iterable[str], *, separator: str) -> set[ShardKey]:
    """The (workspace, kind) of each shard name ``<workspace><separator><kind>``."""
    keys: set[ShardKey] = set()
    for name in names:
        workspace, _, kind = name.partition(separator)
        if workspace.isdigit() and kind in KINDS:
            keys.add((int(workspace), kind))
    return keys


def _ranked(hits: list[Hit]) -> list[Hit]:
    """Best first; equal scores in record and passage order, so a ranking never flickers."""
    return sorted(hits, key=lambda h: (-h.score, h.record_id, h.passage))


def _hit(kind: Kind, point: int, score: float, payload: Payload) -> Hit:
    if kind not in PAYLOAD_KINDS:  # an article passage: the id says it all
        record_id, passage = point_record(point)
        return Hit(kind, record_id, record_id, passage, None, score)
    return Hit(
        kind=kind,
        record_id=int(payload["record_id"]),
        owner_id=int(payload["owner_id"]),
        passage=int(payload["passage"]),
        text=str(payload["text"]),
        score=score,
    )


def point_payload(point: IndexPoint) -> Payload:
    return {
        "record_id": point.record_id,
        "owner_id": point.owner_id,
        "passage": point.passage,
        "text": point.text,
        "text_hash": point.text_hash,
    }


# -- which shards may be out of step with the records ---------------------------------------------


class ShardJournal:
    """Files beside the Edge shards saying which shards may be out of step with the records, so
    that a start-up reads only those instead of every shard.

    * ``in-step``: written after a whole-index reconcile or rebuild, naming the records' database
      (a fingerprint of its URL). Without it, or for another database, every shard is reconciled.
    * ``pending/<workspace>-<kind>``: created (and fsynced) **before** the first transaction of
      this process that changes that shard's records commits. It is removed at a clean close once
      every such write reached the shard (then flushed), or after the shard is reconciled; it is
      kept if a write after a commit failed or never ran. A process killed between a commit and
      the index write leaves the marker, and the next start reconciles that shard.
    """

    IN_STEP = "in-step"
    PENDING = "pending"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._found = self._read_markers()  # left by an earlier process: only a reconcile clears
        self._marked: set[ShardKey] = set()  # marked by this process
        self._unsettled: dict[ShardKey, int] = {}
        self._failed: set[ShardKey] = set()

    def _marker(self, key: ShardKey) -> Path:
        return self.folder / self.PENDING / f"{key[0]}-{key[1]}"

    def _read_markers(self) -> set[ShardKey]:
        pending = self.folder / self.PENDING
        if not pending.is_dir():
            return set()
        return shard_keys((path.name for path in pending.iterdir()), separator="-")

    def in_step_with(self, source: str) -> bool:
        try:
            return bool(json.loads((self.folder / self.IN_STEP).read_text())["source"] == source)
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def mark_in_step(self, source: str) -> None:
        """Every shard matches the records of ``source`` now (no write may be in flight)."""
        with self._lock:
            pending = self.folder / self.PENDING
            if pending.is_dir():
                for marker in pending.iterdir():
                    marker.unlink(missing_ok=True)
            self._found.clear()
            self._marked.clear()
            self._unsettled.clear()
            self._failed.clear()
            _write_durably(self.folder / self.IN_STEP, json.dumps({"source": source}))

    def suspects(self) -> set[ShardKey]:
        """Shards an earlier process may have left out of step."""
        with self._lock:
            return set(self._found)

    def checked(self, key: ShardKey) -> None:
        """``key`` was reconciled and flushed (no write may be in flight)."""
        with self._lock:
            self._marker(key).unlink(missing_ok=True)
            _sync_folder(self.folder / self.PENDING)
            self._found.discard(key)
            self._marked.discard(key)
            self._failed.discard(key)
            self._unsettled.pop(key, None)

    def writes_coming(self, keys: Iterable[ShardKey]) -> None:
        with self._lock:
            for key in keys:
                if key not in self._found and key not in self._marked:
                    marker = self._marker(key)
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    _write_durably(marker, "")
                    self._marked.add(key)
                self._unsettled[key] = self._unsettled.get(key, 0) + 1

    def writes_settled(self, keys: Iterable[ShardKey], *, applied: bool) -> None:
        with self._lock:
            for key in keys:
                self._unsettled[key] = self._unsettled.get(key, 0) - 1
                if not applied:
                    self._failed.add(key)

    def close(self) -> None:
        """After a flush: drop the markers of this process's shards whose writes all landed."""
        with self._lock:
            done = {
                key
                for key in self._marked - self._found - self._failed
                if self._unsettled.get(key, 0) <= 0
            }
            for key in done:
                self._marker(key).unlink(missing_ok=True)
            if done:
                _sync_folder(self.folder / self.PENDING)
            self._marked -= done


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that files created or removed in it stay so after a power cut."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_durably(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all, and fsync it and its folder."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    _sync_folder(path.parent)


# -- Qdrant Edge: the embedded default -----------------------------------------------------------


class EdgeIndex(VectorIndex):
    """Shards in ``root/<model tag>/<workspace>-<kind>``, opened in this process."""

    def __init__(self, root: Path, *, model_id: str, dimension: int) -> None:
        super().__init__(model_id=model_id, dimension=dimension)
        self.root = root
        self.folder = root / self.tag
        self._shards: dict[ShardKey, edge.EdgeShard] = {}
        self._open_lock = threading.Lock()
        self._lock: TextIO | None = None
        self._keyword_counts: dict[ShardKey, int] = {}
        self._journal: ShardJournal | None = None
        # Searches hold a shard while they use it; a swap (``build_hnsw_beside``) waits for them.
        self._in_use = threading.Condition(self._open_lock)
        self._users: dict[ShardKey, int] = {}
        self._swapping: set[ShardKey] = set()
        # Background HNSW: the point ids written to a shard while its copy is being optimised.
        self._recording: dict[ShardKey, set[int]] = {}
        self._written: dict[ShardKey, int] = {}
        self._hnsw_queue: queue.Queue[ShardKey | None] | None = None
        self._hnsw_queued: set[ShardKey] = set()
        self._hnsw_thread: threading.Thread | None = None
        self._hnsw_child: subprocess.Popen[bytes] | None = None
        self._stopping = False

    #: Shards of at least this many points get HNSW (``optimize``, ``build_hnsw_beside``).
    hnsw_min_points = HNSW_MIN_POINTS
    #: Points written to a shard between two checks of whether it needs HNSW (while serving).
    hnsw_check_every = HNSW_CHECK_EVERY
    #: Qdrant's indexing threshold (KiB of vectors) for the optimiser, if not its default.
    indexing_threshold_kb: int | None = None

    @staticmethod
    def check_free(root: Path) -> None:
        """Raise ``StoreHeldError`` if a process (this one too) has the store under ``root``."""
        lock = root / LOCK_FILE
        if lock.exists():
            with lock.open("a") as handle:
                _lock(handle)

    def open(self) -> None:
        """Take the store (one process at a time, as each shard's log admits one), and drop
        other models' shards."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            handle = (self.root / LOCK_FILE).open("a")
            try:
                _lock(handle)
            except StoreHeldError:
                handle.close()
                raise
            self._lock = handle
        self.folder.mkdir(parents=True, exist_ok=True)
        for other in self.root.iterdir():
            if other.is_dir() and other != self.folder:
                log.info("Dropping the vectors of another embedding model: %s", other.name)
                shutil.rmtree(other)
        self._recover_swaps()
        if self._journal is None:
            self._journal = ShardJournal(self.folder)

    def _recover_swaps(self) -> None:
        """Undo what a process stopped during a background HNSW build left: a copy being
        optimised is dropped; a shard moved aside for a swap that never finished is put back."""
        shutil.rmtree(self.folder / OPTIMIZING, ignore_errors=True)
        retired = self.folder / RETIRED
        if retired.is_dir():
            for old in retired.iterdir():
                live = self.folder / old.name
                if live.is_dir():
                    shutil.rmtree(old)
                else:
                    log.warning("Restoring shard %s after an interrupted HNSW swap", old.name)
                    old.rename(live)
            shutil.rmtree(retired, ignore_errors=True)

    def _journalled(self) -> ShardJournal:
        if self._journal is None:
            raise RuntimeError("the index is not open")
        return self._journal

    def in_step_with(self, source: str) -> bool:
        return self._journalled().in_step_with(source)

    def mark_in_step(self, source: str) -> None:
        self.flush()
        self._journalled().mark_in_step(source)

    def shards_to_check(self) -> set[ShardKey]:
        return self._journalled().suspects()

    def shard_checked(self, key: ShardKey) -> None:
        with self._open_lock:
            shard = self._shards.get(key)
            if shard is not None:
                shard.flush()
        self._journalled().checked(key)

    def writes_coming(self, keys: Iterable[ShardKey]) -> None:
        self._journalled().writes_coming(keys)

    def writes_settled(self, keys: Iterable[ShardKey], *, applied: bool) -> None:
        if self._journal is not None:
            self._journal.writes_settled(keys, applied=applied)

    def open_shards(self) -> set[ShardKey]:
        with self._open_lock:
            return set(self._shards)

    def release(self, keys: Iterable[ShardKey]) -> None:
        with self._open_lock:
            for key in keys:
                shard = self._shards.pop(key, None)
                if shard is not None:
                    shard.flush()
                    shard.close()
                self._keyword_counts.pop(key, None)

    def _discover_shards(self) -> set[ShardKey]:
        if not self.folder.is_dir():
            return set()
        return shard_keys((path.name for path in self.folder.iterdir()), separator="-")

    def _path(self, key: ShardKey) -> Path:
        return self.folder / f"{key[0]}-{key[1]}"

    def _shard(self, key: ShardKey, *, create: bool = False) -> edge.EdgeShard:
        """The open shard, opened now if need be. For writers (under the write lock, which a
        swap holds too) and single-threaded maintenance; searches use ``_using``."""
        with self._open_lock:
            return self._shard_locked(key, create=create)

    @contextmanager
    def _using(self, key: ShardKey) -> Iterator[edge.EdgeShard]:
        """The open shard, held open while the caller uses it (a swap waits for it)."""
        with self._in_use:
            while key in self._swapping:
                self._in_use.wait()
            shard = self._shard_locked(key)
            self._users[key] = self._users.get(key, 0) + 1
        try:
            yield shard
        finally:
            with self._in_use:
                self._users[key] -= 1
                if not self._users[key]:
                    self._in_use.notify_all()

    def _shard_locked(self, key: ShardKey, *, create: bool = False) -> edge.EdgeShard:
        shard = self._shards.get(key)
        if shard is not None:
            return shard
        path = self._path(key)
        if path.is_dir() and any(path.iterdir()):
            shard = edge.EdgeShard.load(str(path))
            self._queue_hnsw_check(key)
        elif create:
            shard = edge.EdgeShard.create(str(path), self._config(key[1]))
            shard.update(
                edge.UpdateOperation.create_field_index("record_id", edge.PayloadSchemaType.Integer)
            )
            self._shard_made(key)
        else:
            raise KeyError(key)
        self._shards[key] = shard
        return shard

    def _config(self, kind: Kind) -> edge.EdgeConfig:
        """Dense vectors in a plain memory map (``on_disk``), not read in when the shard opens:
        Edge's default (``InRamChunkedMmap``) populates the first 32 MiB chunk of every opened
        shard, however small; searches then page in what they read (the page cache keeps it).
        The payload stays on disk where searches do not read it (article passages); the shards
        whose hits carry it (``PAYLOAD_KINDS``: short texts) keep it in memory. A shard keeps
        the configuration it was created with (``givefirst reindex`` remakes it)."""
        return edge.EdgeConfig(
            vectors={
                DENSE: edge.EdgeVectorParams(
                    size=self.dimension, distance=edge.Distance.Cosine, on_disk=True
                )
            },
            sparse_vectors={KEYWORDS: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
            on_disk_payload=kind not in PAYLOAD_KINDS,
        )

    def _upsert(self, key: ShardKey, points: Sequence[IndexPoint]) -> None:
        shard = self._shard(key, create=True)
        for start in range(0, len(points), PAGE):
            shard.update(
                edge.UpdateOperation.upsert_points(
                    [_edge_point(p) for p in points[start : start + PAGE]]
                )
            )
        # After the write: a search counting during it may have cached the count before it.
        self._keyword_counts.pop(key, None)
        self._written_to(key, [p.id for p in points])

    def _delete(self, key: ShardKey, ids: Sequence[int]) -> None:
        self._shard(key).update(edge.UpdateOperation.delete_points(list(ids)))
        self._keyword_counts.pop(key, None)
        self._written_to(key, ids)

    def _payloads(self, key: ShardKey, ids: Sequence[int]) -> dict[int, Payload]:
        with self._using(key) as shard:
            return _edge_payloads(shard, ids)

    def _scroll(
        self, key: ShardKey, *, with_hash: bool = False
    ) -> Iterator[list[tuple[int, Payload]]]:
        offset: Any = None
        payload = ["text_hash"] if with_hash else False
        while True:
            with self._using(key) as shard:
                records, offset = shard.scroll(
                    edge.ScrollRequest(offset=offset, limit=PAGE, with_payload=payload)
                )
            yield [(int(r.id), dict(r.payload or {})) for r in records]
            if offset is None:
                return

    def _count(self, key: ShardKey, *, with_keywords: bool = False) -> int:
        where = edge.Filter(must=[edge.HasVectorCondition(KEYWORDS)]) if with_keywords else None
        with self._using(key) as shard:
            return int(shard.count(edge.CountRequest(exact=True, filter=where)))

    def _keyword_points(self, key: ShardKey) -> int:
        # This process owns the shards: the count changes only through its own writes.
        cached = self._keyword_counts.get(key)
        if cached is None:
            cached = self._keyword_counts[key] = self._count(key, with_keywords=True)
        return cached

    def _search(
        self,
        key: ShardKey,
        searches: Sequence[HybridSearch],
        record_ids: set[int] | None,
        *,
        with_payload: bool,
    ) -> list[list[Scored]]:
        """Two requests, every search of the batch in each: the two candidate lists, then the
        one score missing of each candidate that can still make the top ``limit``
        (``Candidates``: a fifth of the union for a suggestion's 80 passages), as plain searches
        over their ids; the formula is applied here. Qdrant's nested query would give the same
        hits, but runs each candidate list once per rescoring, and its formula over two rescored
        lists costs more than the lists themselves (docs/benchmarks.md §8)."""
        with self._using(key) as shard:
            return _edge_search(shard, searches, _edge_records(record_ids), with_payload)

    def drop(self) -> None:
        self.close()
        self._keyword_counts.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
        self._journal = None
        self._shards_dropped()

    def optimize(self, workspace_id: int, kind: Kind, *, min_points: int = HNSW_MIN_POINTS) -> bool:
        """Build the shard's HNSW index (Qdrant's optimizers, run to the end in this thread) if
        it holds at least ``min_points`` points; whether anything changed.

        It blocks for as long as the build takes (10-40 s for 35,000 passages on 2 busy cores)
        and holds the GIL: never from a request. It is for a process that has the store to
        itself (``givefirst optimize``, ``scripts/bench_engine.py --optimize``); writes after it
        go to a new appendable segment, scanned in full until the next optimisation.
        """
        key = (workspace_id, kind)
        with self._write_lock:
            points = self._count(key)
            if points < min_points:
                return False
            shard = self._shard(key)
            changed = bool(shard.optimize())
            shard.flush()
            self._hnsw_built(key, points)
        return changed

    # -- HNSW built in the background, while serving --------------------------------------------

    def start_background_work(self) -> None:
        """Build HNSW for large shards while serving: checked when a shard opens and after
        every ``HNSW_CHECK_EVERY`` points written to it, one shard at a time, by one thread
        (``build_hnsw_beside``)."""
        with self._open_lock:
            if self._hnsw_thread is not None:
                return
            self._stopping = False
            self._hnsw_queue = queue.Queue()
            self._hnsw_thread = threading.Thread(
                target=self._hnsw_worker, name="givefirst-hnsw", daemon=True
            )
            self._hnsw_thread.start()
            for key in self._shards:
                self._queue_hnsw_check(key)

    def _queue_hnsw_check(self, key: ShardKey) -> None:
        if self._hnsw_queue is not None and key not in self._hnsw_queued:
            self._hnsw_queued.add(key)
            self._hnsw_queue.put(key)

    def _written_to(self, key: ShardKey, ids: Iterable[int]) -> None:
        """After a write (under the write lock): record the ids for a build in progress, and
        check the shard now and then."""
        ids = list(ids)
        recording = self._recording.get(key)
        if recording is not None:
            recording.update(ids)
        if self._hnsw_queue is None:
            return
        written = self._written.get(key, 0) + len(ids)
        if written >= self.hnsw_check_every:
            self._queue_hnsw_check(key)
            written = 0
        self._written[key] = written

    def _hnsw_worker(self) -> None:
        assert self._hnsw_queue is not None
        while (key := self._hnsw_queue.get()) is not None:
            self._hnsw_queued.discard(key)
            try:
                if self._wants_hnsw(key):
                    self.build_hnsw_beside(key)
            except Exception:
                if not self._stopping:
                    log.exception("Background HNSW build of shard %s-%s failed", *key)

    def _hnsw_marker(self, key: ShardKey) -> Path:
        return self.folder / HNSW_BUILT / f"{key[0]}-{key[1]}"

    def _hnsw_points(self, key: ShardKey) -> int:
        """How many points the shard held at its last HNSW build (0: never built)."""
        try:
            return int(json.loads(self._hnsw_marker(key).read_text())["points"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def _hnsw_built(self, key: ShardKey, points: int) -> None:
        marker = self._hnsw_marker(key)
        marker.parent.mkdir(parents=True, exist_ok=True)
        _write_durably(marker, json.dumps({"points": points}))

    def _wants_hnsw(self, key: ShardKey) -> bool:
        with self._open_lock:
            if self._stopping or key not in self._shards:  # never opens a shard for this
                return False
        points = self._count(key)
        built = self._hnsw_points(key)
        return points >= self.hnsw_min_points and (
            not built or points - built >= HNSW_REBUILD_AFTER
        )

    def build_hnsw_beside(self, key: ShardKey) -> None:
        """Build the shard's HNSW without blocking searches or writes for longer than a copy
        and a swap: the shard is flushed and copied (under the write lock, a few hundred
        milliseconds at 35,000 passages); a child process optimises the copy (Qdrant's
        ``optimize``, 1 ms of CPU per point, outside this process's GIL); the points written
        meanwhile are copied over from the live shard, and the copy replaces it (under the
        write lock, once no search holds the shard). A stop at any step leaves the live shard
        or its optimised copy in place (``_recover_swaps``), and the journal and start-up
        reconcile work as for any shard."""
        name = f"{key[0]}-{key[1]}"
        work = self.folder / OPTIMIZING / name
        with self._write_lock:
            self._shard(key).flush()
            shutil.rmtree(work, ignore_errors=True)
            work.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(self._path(key), work)
            self._recording[key] = set()
        try:
            self._optimize_in_child(work)
            with self._write_lock:
                touched = self._recording.pop(key)
                points = self._replay(key, work, touched)
                self._swap(key, work)
                self._hnsw_built(key, points)
            log.info("HNSW built for shard %s (%d points)", name, points)
        finally:
            with self._write_lock:
                self._recording.pop(key, None)
            _remove_with_parent(work)

    def _optimize_in_child(self, work: Path) -> None:
        command = [sys.executable, "-m", "embeddings.index", str(work), str(self.dimension)]
        if self.indexing_threshold_kb is not None:
            command.append(str(self.indexing_threshold_kb))
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        self._hnsw_child = child
        try:
            if child.wait() != 0:
                raise RuntimeError(f"optimising {work.name} failed (exit {child.returncode})")
        finally:
            self._hnsw_child = None

    def _replay(self, key: ShardKey, work: Path, touched: set[int]) -> int:
        """Bring the optimised copy up to the live shard for the points written meanwhile
        (under the write lock); returns the copy's point count."""
        fresh = edge.EdgeShard.load(str(work))
        try:
            if touched:
                ids = sorted(touched)
                with self._using(key) as live:
                    records = live.retrieve(list(ids), with_payload=True, with_vector=True)
                if records:
                    fresh.update(
                        edge.UpdateOperation.upsert_points(
                            [
                                edge.Point(id=r.id, vector=r.vector, payload=r.payload)
                                for r in records
                                if r.vector is not None
                            ]
                        )
                    )
                present = {int(r.id) for r in records}
                gone = [pid for pid in ids if pid not in present]
                if gone:
                    fresh.update(edge.UpdateOperation.delete_points(list(gone)))
            points = int(fresh.count(edge.CountRequest(exact=True)))
            fresh.flush()
        finally:
            fresh.close()
        return points

    def _swap(self, key: ShardKey, work: Path) -> None:
        """Put the optimised copy in the live shard's place (under the write lock), once no
        search holds the live shard."""
        live = self._path(key)
        retired = self.folder / RETIRED / live.name
        with self._in_use:
            self._swapping.add(key)
            try:
                while self._users.get(key, 0):
                    self._in_use.wait()
                old = self._shards.pop(key, None)
                if old is not None:
                    old.flush()
                    old.close()
                retired.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(retired, ignore_errors=True)
                live.rename(retired)
                work.rename(live)
                _sync_folder(self.folder)
                self._shards[key] = edge.EdgeShard.load(str(live))
                self._keyword_counts.pop(key, None)
            finally:
                self._swapping.discard(key)
                self._in_use.notify_all()
        _remove_with_parent(retired)

    def _stop_background_work(self) -> None:
        thread, work = self._hnsw_thread, self._hnsw_queue
        if thread is None or work is None:
            return
        self._stopping = True
        work.put(None)
        child = self._hnsw_child
        if child is not None:
            child.kill()  # the copy is thrown away; the live shard never depended on it
        thread.join()
        self._hnsw_thread = self._hnsw_queue = None
        self._hnsw_queued.clear()

    def flush(self) -> None:
        with self._open_lock:
            for shard in self._shards.values():
                shard.flush()

    def close(self) -> None:
        self._stop_background_work()
        with self._open_lock:
            for shard in self._shards.values():
                shard.flush()
                shard.close()
            self._shards.clear()
            if self._journal is not None and self.folder.is_dir():
                self._journal.close()  # after the flush: the shards hold every settled write
            self._journal = None
            if self._lock is not None:
                self._lock.close()  # releases the lock
                self._lock = None


OPTIMIZING = ".optimizing"  # copies of shards being optimised by a child process
RETIRED = ".retired"  # a shard moved aside while its optimised copy takes its place
HNSW_BUILT = "hnsw"  # per shard: its point count at its last HNSW build


def _remove_with_parent(folder: Path) -> None:
    """Delete ``folder``, and its parent if nothing else is left in it."""
    shutil.rmtree(folder, ignore_errors=True)
    with suppress(OSError):
        folder.parent.rmdir()


def _optimize_folder(path: str, dimension: int, indexing_threshold_kb: int | None) -> None:
    """In a child process: build HNSW for the shard copy in ``path`` (``build_hnsw_beside``)."""
    config = (
        edge.EdgeConfig(
            vectors={
                DENSE: edge.EdgeVectorParams(
                    size=dimension, distance=edge.Distance.Cosine, on_disk=True
                )
            },
            sparse_vectors={KEYWORDS: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
            optimizers=edge.EdgeOptimizersConfig(indexing_threshold=indexing_threshold_kb),
        )
        if indexing_threshold_kb is not None
        else None
    )
    shard = edge.EdgeShard.load(path, config)
    shard.optimize()
    shard.flush()
    shard.close()


class StoreHeldError(RuntimeError):
    """Another process has the embedded store open."""


def _lock(handle: TextIO) -> None:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        raise StoreHeldError(f"{handle.name} is held by another process") from error


def is_held_elsewhere(error: Exception) -> bool:
    """Whether opening the store failed because another process has it (or a shard's log)."""
    return isinstance(error, StoreHeldError) or "WouldBlock" in str(error)


def _edge_search(
    shard: edge.EdgeShard,
    searches: Sequence[HybridSearch],
    where: edge.Filter | None,
    with_payload: bool,
) -> list[list[Scored]]:
    """``EdgeIndex._search`` on an open shard."""
    queries = [_edge_lists(s) for s in searches]  # built once: a vector crosses slowly
    lists = shard.query_batch(
        edge.QueryBatchRequest(
            [
                request
                for search, asked in zip(searches, queries, strict=True)
                for request in _edge_list_requests(search, asked, where)
            ]
        )
    )
    found = [
        Candidates(search, _edge_list(lists[2 * i]), _edge_list(lists[2 * i + 1]))
        for i, search in enumerate(searches)
    ]
    # Step 2: (search, which score, request) for each score still missing somewhere.
    rescoring = [
        (n, part, request)
        for n, (candidates, asked) in enumerate(zip(found, queries, strict=True))
        for part, request in enumerate(_edge_rescoring_requests(candidates, asked))
        if request is not None
    ]
    answers = (
        shard.query_batch(edge.QueryBatchRequest([r for _, _, r in rescoring])) if rescoring else []
    )
    rescored: list[list[tuple[Sequence[int], Sequence[float]]]] = [[((), ())] * 2 for _ in found]
    for (n, part, _), points in zip(rescoring, answers, strict=True):
        rescored[n][part] = _edge_list(points)
    ranked = [candidates.top(*more) for candidates, more in zip(found, rescored, strict=True)]
    shown = {point for top in ranked for point, _ in top}
    payloads = _edge_payloads(shard, list(shown)) if with_payload and shown else {}
    return [[(point, score, payloads.get(point, {})) for point, score in top] for top in ranked]


def _edge_point(point: IndexPoint) -> edge.Point:
    vectors: dict[str, Any] = {DENSE: point.dense.tolist()}
    if point.keywords.values.size:  # a text with no keyword is no point of BM25's IDF
        keywords = point.keywords
        vectors[KEYWORDS] = edge.SparseVector(keywords.indices.tolist(), keywords.values.tolist())
    return edge.Point(id=point.id, vector=vectors, payload=point_payload(point))


def _edge_dense(query: Query) -> edge.Query:
    return edge.Query.Nearest(query.dense.tolist(), using=DENSE)


def _edge_keywords(query: Query) -> edge.Query:
    sparse = edge.SparseVector(query.keywords.indices.tolist(), query.keywords.values.tolist())
    return edge.Query.Nearest(sparse, using=KEYWORDS)


def _edge_lists(search: HybridSearch) -> tuple[edge.Query, edge.Query]:
    """The two candidate lists' queries: dense, BM25."""
    return _edge_dense(search.query), _edge_keywords(search.query)


def _edge_list_requests(
    search: HybridSearch, queries: tuple[edge.Query, edge.Query], where: edge.Filter | None
) -> tuple[edge.QueryRequest, edge.QueryRequest]:
    """The first of two requests: the candidate lists alone (``queries``: ``_edge_lists``)."""
    dense, keywords = queries
    return (
        edge.QueryRequest(
            limit=search.depth,
            query=dense,
            filter=where,
            params=edge.SearchParams(hnsw_ef=search.ef),
        ),
        edge.QueryRequest(limit=search.depth, query=keywords, filter=where),
    )


def _edge_rescoring_requests(
    candidates: Candidates, queries: tuple[edge.Query, edge.Query]
) -> tuple[edge.QueryRequest | None, edge.QueryRequest | None]:
    """The second of two requests: the cosine of the contenders found by the keyword list
    alone, the BM25 of those found by the dense list alone, in that order (None where none is
    missing: ``Candidates.top`` takes the two answers in the same order)."""
    dense, keywords = queries

    def scoring(query: edge.Query, ids: list[int]) -> edge.QueryRequest | None:
        if not ids:
            return None
        only = edge.Filter(must=[edge.HasIdCondition(set(ids))])
        return edge.QueryRequest(limit=len(ids), query=query, filter=only)

    return (
        scoring(dense, candidates.missing_dense),
        scoring(keywords, candidates.missing_keywords),
    )


def _edge_list(points: Sequence[edge.ScoredPoint]) -> tuple[list[int], list[float]]:
    """A list's point ids (integers: ``point_id``) and scores."""
    return [p.id for p in points], [p.score for p in points]  # type: ignore[misc]


def _edge_payloads(shard: edge.EdgeShard, ids: Sequence[int]) -> dict[int, Payload]:
    records = shard.retrieve(list(ids), with_payload=True, with_vector=False)
    return {int(r.id): dict(r.payload or {}) for r in records}


def _edge_records(record_ids: set[int] | None) -> edge.Filter | None:
    if record_ids is None:
        return None
    return edge.Filter(
        must=[edge.FieldCondition(key="record_id", match=edge.MatchAny(sorted(record_ids)))]
    )


if __name__ == "__main__":  # the child process of ``EdgeIndex.build_hnsw_beside``
    _optimize_folder(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
