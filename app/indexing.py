"""Keeps the vector index in step with the records.

Records are the source of truth. Every write that changes a pain point, an expertise line or an
article calls this module in the same request. The texts are embedded at once (so a model error
fails the request before anything is stored), but the index is written only **after the
transaction commits**, and not at all if it rolls back: the index never holds a point of a record
the database does not. ``reconcile`` repairs whatever a crash between the commit and the index
write left behind (it runs at start-up), and ``rebuild`` makes the index anew.
"""

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, object_session

from app.models import Article, Contact, Expertise, PainPoint
from embeddings.cache import text_hash
from embeddings.embedder import Embedder
from embeddings.index import VectorIndex
from embeddings.points import IndexPoint, Kind, point_id
from embeddings.text import MAX_PASSAGES, sparse_document, split_passages

log = logging.getLogger(__name__)
_BATCH = 256
_PENDING = "givefirst.pending_index_writes"  # key in Session.info

IndexWrite = Callable[[], None]


def _defer(session: Session | None, write: IndexWrite) -> None:
    """Run ``write`` when ``session`` commits; at once for a record in no session."""
    if session is None:
        write()
        return
    session.info.setdefault(_PENDING, []).append(write)


@event.listens_for(Session, "after_commit")
def _apply_pending_writes(session: Session) -> None:
    """The transaction is stored: bring the index in step, in the order the writes were made.

    A failure here is logged, not raised: the records are committed and the caller must hear so;
    ``reconcile`` writes the missing points at the next start.
    """
    for write in session.info.pop(_PENDING, []):
        try:
            write()
        except Exception:
            log.exception("Index write after commit failed; the next start repairs the index")


@event.listens_for(Session, "after_transaction_end")
def _drop_pending_writes(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without committing (rollback, close) leaves nothing behind."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
    def id(self) -> str:
        return point_id(self.kind, self.record_id, self.passage)

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


def record_texts(session: Session, workspace_id: int | None = None) -> Iterator[_Text]:
    """Every text the records put in the index (of one workspace, or of all)."""
    articles = select(Article).execution_options(yield_per=500)
    pain_points = select(PainPoint).where(PainPoint.active)
    expertise = select(Expertise)
    if workspace_id is not None:
        articles = articles.where(Article.workspace_id == workspace_id)
        pain_points = pain_points.where(PainPoint.workspace_id == workspace_id)
        expertise = expertise.where(Expertise.workspace_id == workspace_id)
    for article in session.scalars(articles):
        yield from _article_texts(article)
    for pain_point in session.scalars(pain_points):
        yield _Text(
            pain_point.workspace_id,
            "pain_point",
            pain_point.id,
            pain_point.contact_id,
            0,
            pain_point.text,
        )
    for line in session.scalars(expertise):
        yield _Text(line.workspace_id, "expertise", line.id, line.contact_id, 0, line.text)


def contact_point_ids(contact: Contact) -> set[str]:
    """The ids of the points a contact has in the index now (take them before changing it)."""
    return {t.id for t in _contact_texts(contact)}


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
            _defer(session, partial(self.index.upsert, points))
        return len(texts)

    def _changed(self, texts: list[_Text]) -> list[_Text]:
        """The texts the index does not hold yet with the same words."""
        by_shard: dict[tuple[int, Kind], list[_Text]] = {}
        for text in texts:
            by_shard.setdefault((text.workspace_id, text.kind), []).append(text)
        stored: dict[str, str] = {}
        for (workspace_id, kind), group in by_shard.items():
            stored |= self.index.stored_hashes(workspace_id, kind, [t.id for t in group])
        return [t for t in texts if stored.get(t.id) != t.hash]

    def _delete(
        self, session: Session | None, workspace_id: int, kind: Kind, ids: Iterable[str]
    ) -> None:
        _defer(session, partial(self.index.delete, workspace_id, kind, list(ids)))

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
            [point_id("article", article.id, n) for n in past_the_last],
        )

    def remove_article(self, article: Article) -> None:
        self._delete(
            object_session(article),
            article.workspace_id,
            "article",
            [point_id("article", article.id, n) for n in range(MAX_PASSAGES + 2)],
        )

    def sync_contact(self, contact: Contact, previous_ids: set[str] | None = None) -> None:
        """Index the contact's active pain points and expertise; drop points it no longer has."""
        session = object_session(contact)
        texts = _contact_texts(contact)
        self._write(texts, session=session)
        gone = (previous_ids or set()) - {t.id for t in texts}
        for kind in ("pain_point", "expertise"):
            self._delete(session, contact.workspace_id, kind, gone)

    def remove_contact(self, contact: Contact) -> None:
        gone = contact_point_ids(contact)
        for kind in ("pain_point", "expertise"):
            self._delete(object_session(contact), contact.workspace_id, kind, gone)

    # -- whole-index operations ---------------------------------------------------------------

    def rebuild(self, session: Session) -> int:
        """Drop the index and write every record's texts again (vectors come from the cache)."""
        self.index.drop()
        self.index.open()
        return self._write_all(record_texts(session), only_changed=False)

    def _write_all(self, texts: Iterable[_Text], *, only_changed: bool) -> int:
        written = 0
        batch: list[_Text] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= 2_000:
                written += self._write(batch, only_changed=only_changed)
                batch = []
        return written + self._write(batch, only_changed=only_changed)

    def reconcile(self, session: Session) -> tuple[int, int]:
        """Make the index match the records: write missing or stale points, delete extra ones.

        Returns (points written, points deleted). Cheap when nothing is wrong: no model call.
        """
        expected = list(record_texts(session))
        written = self._write_all(expected, only_changed=True)
        wanted = {t.id for t in expected}
        extra = [
            (workspace_id, kind, pid)
            for pid, workspace_id, kind in self.index.all_points()
            if pid not in wanted
        ]
        for workspace_id, kind, pid in extra:
            self.index.delete(workspace_id, kind, [pid])
        if written or extra:
            log.warning("Index repaired: %d points written, %d deleted", written, len(extra))
        return written, len(extra)
