"""Keeps the vector index in step with the records.

Records are the source of truth. Every write that changes a pain point, an expertise line or an
article calls this module in the same request. The texts are embedded at once (so a model error
fails the request before anything is stored), but the index is written only **after the
transaction commits**, and not at all if it rolls back: the index never holds a point of a record
the database does not. ``reconcile`` repairs whatever a crash between the commit and the index
write left behind (it runs at start-up), and ``rebuild`` makes the index anew.

**The start-up reconcile reads only the shards that may be out of step.** Reading every shard
opens every shard (on Qdrant Edge: tens of MiB and tens of milliseconds each, seconds and GiB at a
million points), so the embedded index keeps a journal (``embeddings.index.ShardJournal``):

* before a transaction that changes a shard's records can commit, the shard is marked pending, on
  disk and fsynced (once per shard and process: the first write pays an fsync);
* a clean close flushes the shards and clears the marks of shards whose every write landed; a
  write that failed after its commit, or never ran, keeps its mark;
* after a whole-index reconcile or a rebuild, the journal records that the index is in step with
  this database (a fingerprint of its URL).

At start-up, a store in step with this database reconciles only its marked shards (each: its
records of that workspace and kind against its points), then clears their marks; any other
store (new, erased, another model's, another database, or from before the journal) gets the
whole reconcile. The shards a reconcile opened are closed again: a shard is opened on first use.
A SIGKILL between a commit and its index write leaves the mark, so nothing acknowledged is lost
and no point of an unacknowledged record stays. What the journal cannot see is a change of the
records behind the service's back (a database file copied over by hand, SQL run directly):
``givefirst reindex`` (``rebuild``) repairs that, as does deleting the ``in-step`` file in the
vector folder. A Qdrant server keeps no journal: every start reconciles every shard.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, object_session

from app.models import Article, Contact, Expertise, PainPoint
from embeddings.cache import text_hash
from embeddings.embedder import Embedder
from embeddings.index import PointKey, ShardKey, VectorIndex
from embeddings.points import IndexPoint, Kind, point_id
from embeddings.text import MAX_PASSAGES, sparse_document, split_passages

log = logging.getLogger(__name__)
_BATCH = 256
_PENDING = "givefirst.pending_index_writes"  # key in Session.info


@dataclass(frozen=True)
class _IndexWrite:
    """A write to some shards of the index, owed once the records' transaction commits."""

    index: VectorIndex
    keys: frozenset[ShardKey]
    write: Callable[[], None]

    def apply(self) -> None:
        try:
            self.write()
        except BaseException:
            self.index.writes_settled(self.keys, applied=False)
            raise
        self.index.writes_settled(self.keys, applied=True)

    def drop(self) -> None:
        """The transaction did not commit: nothing is owed."""
        self.index.writes_settled(self.keys, applied=True)


def _defer(
    session: Session | None,
    index: VectorIndex,
    keys: Iterable[ShardKey],
    write: Callable[[], None],
) -> None:
    """Run ``write`` when ``session`` commits; at once for a record in no session. The shards are
    journalled first, before the commit can happen."""
    job = _IndexWrite(index, frozenset(keys), write)
    index.writes_coming(job.keys)
    if session is None:
        job.apply()
        return
    session.info.setdefault(_PENDING, []).append(job)


@event.listens_for(Session, "after_commit")
def _apply_pending_writes(session: Session) -> None:
    """The transaction is stored: bring the index in step, in the order the writes were made.

    A failure here is logged, not raised: the records are committed and the caller must hear so;
    the shard stays marked in the journal and ``reconcile`` writes the missing points at the next
    start.
    """
    for job in session.info.pop(_PENDING, []):
        try:
            job.apply()
        except Exception:
            log.exception("Index write after commit failed; the next start repairs the index")


@event.listens_for(Session, "after_transaction_end")
def _drop_pending_writes(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without committing (rollback, close) leaves nothing behind."""
    if transaction.parent is None:
        for job in session.info.pop(_PENDING, []):
            job.drop()


@dataclass(frozen=True)
class _Text:
    """A piece of text a record puts in the index, before it is embedded."""

    workspace_id: int
    kind: Kind
    record_id: int
    owner_id: int
    passage: int
    text: str

    @property
    def id(self) -> int:
        return point_id(self.record_id, self.passage)

    @property
    def key(self) -> PointKey:
        """The point's workspace, kind and id (an id is unique within its shard only)."""
        return self.workspace_id, self.kind, self.id

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def _article_texts(article: Article) -> list[_Text]:
    return [
        _Text(article.workspace_id, "article", article.id, article.id, p.index, p.text)
        for p in split_passages(article.title, article.summary, article.text)
    ]


def _contact_texts(contact: Contact) -> list[_Text]:
    # Resolved pain points leave the index: they must not drive suggestions any more.
    texts = [
        _Text(contact.workspace_id, "pain_point", p.id, contact.id, 0, p.text)
        for p in contact.pain_points
        if p.active
    ]
    texts += [
        _Text(contact.workspace_id, "expertise", e.id, contact.id, 0, e.text)
        for e in contact.expertise
    ]
    return texts


def embed_texts(embedder: Embedder, texts: Sequence[_Text]) -> list[IndexPoint]:
    """The index points of ``texts``: pain points embedded as queries, the rest as documents."""
    queries = [t for t in texts if t.kind == "pain_point"]
    documents = [t for t in texts if t.kind != "pain_point"]
    vectors = dict(
        zip(
            [t.id for t in queries] + [t.id for t in documents],
            [
                *embedder.embed_queries([t.text for t in queries]),
                *embedder.embed_documents([t.text for t in documents]),
            ],
            strict=True,
        )
    )
    return [
        IndexPoint(
            workspace_id=t.workspace_id,
            kind=t.kind,
            record_id=t.record_id,
            owner_id=t.owner_id,
            passage=t.passage,
            text=t.text,
            text_hash=t.hash,
            dense=vectors[t.id],
            keywords=sparse_document(t.text),
        )
        for t in texts
    ]


def record_texts(
    session: Session, workspace_id: int | None = None, kind: Kind | None = None
) -> Iterator[_Text]:
    """Every text the records put in the index (of one workspace, or of all; of one kind, or of
    all)."""
    articles = select(Article).execution_options(yield_per=500)
    pain_points = select(PainPoint).where(PainPoint.active)
    expertise = select(Expertise)
    if workspace_id is not None:
        articles = articles.where(Article.workspace_id == workspace_id)
        pain_points = pain_points.where(PainPoint.workspace_id == workspace_id)
        expertise = expertise.where(Expertise.workspace_id == workspace_id)
    if kind in (None, "article"):
        for article in session.scalars(articles):
            yield from _article_texts(article)
    if kind in (None, "pain_point"):
        for pain_point in session.scalars(pain_points):
            yield _Text(
                pain_point.workspace_id,
                "pain_point",
                pain_point.id,
                pain_point.contact_id,
                0,
                pain_point.text,
            )
    if kind in (None, "expertise"):
        for line in session.scalars(expertise):
            yield _Text(line.workspace_id, "expertise", line.id, line.contact_id, 0, line.text)


def database_fingerprint(session: Session) -> str:
    """Names the records' database (its URL, password hidden), for the index's journal."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def contact_point_ids(contact: Contact) -> set[PointKey]:
    """The points a contact has in the index now (take them before changing it)."""
    return {t.key for t in _contact_texts(contact)}


class RecordIndexer:
    """Writes records' texts to the vector index, embedding only what is new or changed."""

    def __init__(self, embedder: Embedder, index: VectorIndex) -> None:
        self.embedder = embedder
        self.index = index

    def _write(
        self, texts: list[_Text], *, only_changed: bool = True, session: Session | None = None
    ) -> int:
        """Embed ``texts`` now and upsert them when ``session`` commits (at once without one);
        skip those stored already with the same text."""
        if only_changed:
            texts = self._changed(texts)
        for start in range(0, len(texts), _BATCH):
            points = embed_texts(self.embedder, texts[start : start + _BATCH])
            keys = {(p.workspace_id, p.kind) for p in points}
            _defer(session, self.index, keys, partial(self.index.upsert, points))
        return len(texts)

    def _changed(self, texts: list[_Text]) -> list[_Text]:
        """The texts the index does not hold yet with the same words."""
        by_shard: dict[tuple[int, Kind], list[_Text]] = {}
        for text in texts:
            by_shard.setdefault((text.workspace_id, text.kind), []).append(text)
        stored: dict[PointKey, str] = {}
        for (workspace_id, kind), group in by_shard.items():
            hashes = self.index.stored_hashes(workspace_id, kind, [t.id for t in group])
            stored |= {(workspace_id, kind, pid): h for pid, h in hashes.items()}
        return [t for t in texts if stored.get(t.key) != t.hash]

    def _delete(
        self, session: Session | None, workspace_id: int, kind: Kind, ids: Iterable[int]
    ) -> None:
        _defer(
            session,
            self.index,
            [(workspace_id, kind)],
            partial(self.index.delete, workspace_id, kind, list(ids)),
        )

    def sync_article(self, article: Article) -> None:
        session = object_session(article)
        texts = _article_texts(article)
        self._write(texts, session=session)
        # A shorter text leaves passages behind: delete every passage number past the last.
        past_the_last = range(len(texts), MAX_PASSAGES + 2)
        self._delete(
            session,
            article.workspace_id,
            "article",
            [point_id(article.id, n) for n in past_the_last],
        )

    def remove_article(self, article: Article) -> None:
        self._delete(
            object_session(article),
            article.workspace_id,
            "article",
            [point_id(article.id, n) for n in range(MAX_PASSAGES + 2)],
        )

    def sync_contact(self, contact: Contact, previous_ids: set[PointKey] | None = None) -> None:
        """Index the contact's active pain points and expertise; drop points it no longer has
        (``previous_ids``: ``contact_point_ids`` before the change)."""
        session = object_session(contact)
        texts = _contact_texts(contact)
        self._write(texts, session=session)
        self._delete_contact_points(
            session, contact, (previous_ids or set()) - {t.key for t in texts}
        )

    def remove_contact(self, contact: Contact) -> None:
        self._delete_contact_points(object_session(contact), contact, contact_point_ids(contact))

    def _delete_contact_points(
        self, session: Session | None, contact: Contact, gone: set[PointKey]
    ) -> None:
        kinds: tuple[Kind, ...] = ("pain_point", "expertise")
        for kind in kinds:
            ids = [pid for _, point_kind, pid in gone if point_kind == kind]
            if ids:
                self._delete(session, contact.workspace_id, kind, ids)

    # -- whole-index operations ---------------------------------------------------------------

    def rebuild(self, session: Session) -> int:
        """Drop the index and write every record's texts again (vectors come from the cache)."""
        self.index.drop()
        self.index.open()
        written = self._write_all(record_texts(session), only_changed=False)
        self.index.mark_in_step(database_fingerprint(session))
        return written

    def _write_all(self, texts: Iterable[_Text], *, only_changed: bool) -> int:
        written = 0
        batch: list[_Text] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= 2_000:
                written += self._write(batch, only_changed=only_changed)
                batch = []
        return written + self._write(batch, only_changed=only_changed)

    def reconcile(self, session: Session, *, full: bool = False) -> tuple[int, int]:
        """Make the index match the records: write missing or stale points, delete extra ones.

        Reads only the shards the index's journal marks (see the module docstring), or every
        shard if the index is not known to be in step with this database, or if ``full``. Only
        while nothing else writes (at start-up). Returns (points written, points deleted).
        Cheap when nothing is wrong: no model call.
        """
        source = database_fingerprint(session)
        held = self.index.open_shards()
        if full or not self.index.in_step_with(source):
            written, deleted = self._reconcile_all(session)
            self.index.mark_in_step(source)
        else:
            written = deleted = 0
            for key in sorted(self.index.shards_to_check()):
                shard_written, shard_deleted = self._reconcile_shard(session, key)
                self.index.shard_checked(key)
                written, deleted = written + shard_written, deleted + shard_deleted
        self.index.release(self.index.open_shards() - held)  # opened on first use instead
        if written or deleted:
            log.warning("Index repaired: %d points written, %d deleted", written, deleted)
        return written, deleted

    def _reconcile_all(self, session: Session) -> tuple[int, int]:
        expected = list(record_texts(session))
        written = self._write_all(expected, only_changed=True)
        wanted = {t.key for t in expected}
        extra = [point for point in self.index.all_points() if point not in wanted]
        for workspace_id, kind, pid in extra:
            self.index.delete(workspace_id, kind, [pid])
        return written, len(extra)

    def _reconcile_shard(self, session: Session, key: ShardKey) -> tuple[int, int]:
        """One (workspace, kind): its records' texts against its shard's points."""
        workspace_id, kind = key
        expected = list(record_texts(session, workspace_id, kind))
        written = self._write_all(expected, only_changed=True)
        wanted = {t.id for t in expected}
        extra = [pid for pid in self.index.point_ids(key) if pid not in wanted]
        self.index.delete(workspace_id, kind, extra)
        return written, len(extra)
