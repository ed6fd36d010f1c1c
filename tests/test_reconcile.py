"""The start-up reconcile reads only the shards the index's journal marks (real Edge, real model,
real SQLite): a clean stop leaves nothing to read, a stop between a commit and its index write
leaves the shard marked and the next start repairs it, and a store the journal cannot vouch for
is reconciled whole."""

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from app.articles.schemas import ArticleCreate
from app.articles.service import delete_article, save_article
from app.contacts.schemas import ContactCreate
from app.contacts.service import create_contact, resolve_pain_point
from app.db import session_scope
from app.indexing import _PENDING, record_texts
from app.models import Article, PainPoint, Workspace
from app.runtime import Runtime, runtime_scope
from app.workspaces.service import get_or_create_workspace
from embeddings.index import EdgeIndex, ShardJournal
from embeddings.points import point_id
from tests.conftest import make_settings

TODAY = date(2026, 11, 30)


def _parts(runtime: Runtime) -> tuple[EdgeIndex, Runtime]:
    assert isinstance(runtime.index, EdgeIndex)
    return runtime.index, runtime


def _workspace(session: Session, name: str) -> Workspace:
    return get_or_create_workspace(session=session, name=name)[0]


def _save(runtime: Runtime, session: Session, workspace: Workspace, title: str) -> Article:
    article, _ = save_article(
        session=session,
        indexer=runtime.indexer,
        workspace=workspace,
        data=ArticleCreate(title=title, summary=f"{title}: how one team did it, step by step."),
        today=TODAY,
    )
    return article


def _die_before_index_writes(session: Session) -> None:
    """Commit the records but never write the index, as a process killed right after the commit
    would (the writes run after the commit, in the same process)."""
    session.info.pop(_PENDING)
    session.commit()


def _pending(index: EdgeIndex) -> set[str]:
    folder = index.folder / ShardJournal.PENDING
    return (
        {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        if folder.exists()
        else set()
    )


def _seed(data_dir: Path) -> dict[str, int]:
    """Two workspaces with two articles each, written and closed cleanly; their ids by title."""
    ids: dict[str, int] = {}
    with runtime_scope(make_settings(data_dir)) as runtime:
        with session_scope(runtime.session_factory) as session:
            for name in ("acme", "globex"):
                workspace = _workspace(session, name)
                for title in (f"{name} salary bands", f"{name} onboarding plan"):
                    ids[title] = _save(runtime, session, workspace, title).id
        index, _ = _parts(runtime)
        assert _pending(index) == {"1-article", "2-article"}, "marked before the commit"
    return ids


def test_a_clean_stop_leaves_nothing_to_read_and_shards_open_on_first_use(data_dir: Path) -> None:
    ids = _seed(data_dir)
    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        assert _pending(index) == set(), "a clean close clears the marks"
        assert (index.folder / ShardJournal.IN_STEP).is_file()
        assert index.open_shards() == set(), "the start-up opened no shard"
        assert index.count(1, "article") == 2
        assert index.open_shards() == {(1, "article")}
        with session_scope(runtime.session_factory) as session:
            expected = {t.key: t.hash for t in record_texts(session)}
        assert index.all_hashes() == expected
        assert (1, "article", point_id(ids["acme salary bands"], 0)) in expected


def test_a_stop_between_commit_and_index_write_is_repaired_at_the_next_start(
    data_dir: Path,
) -> None:
    ids = _seed(data_dir)
    gone = ids["acme salary bands"]
    with runtime_scope(make_settings(data_dir), repair=False) as runtime:
        index, _ = _parts(runtime)
        session = runtime.session_factory()
        acme, globex = _workspace(session, "acme"), _workspace(session, "globex")
        article = session.get(Article, gone)
        assert article is not None
        delete_article(session=session, indexer=runtime.indexer, article=article)
        new = _save(runtime, session, globex, "globex churn survey").id
        _die_before_index_writes(session)
        session.close()
        assert index.stored_hashes(acme.id, "article", [point_id(gone, 0)])
        assert not index.stored_hashes(globex.id, "article", [point_id(new, 0)])
    assert _pending(index) == {"1-article", "2-article"}, "writes that never ran keep the marks"

    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        assert index.open_shards() == set(), "the repaired shards were closed again"
        assert _pending(index) == set(), "the start-up repaired and cleared both"
        hits = index.stored_hashes(1, "article", [point_id(gone, n) for n in range(3)])
        assert hits == {}, "the deleted record's point is gone"
        assert index.stored_hashes(2, "article", [point_id(new, 0)]), "a point now"
        with session_scope(runtime.session_factory) as session:
            assert index.all_hashes() == {t.key: t.hash for t in record_texts(session)}
        assert runtime.indexer.embedder.computed == 0, "the vector came from the cache"


def test_a_rolled_back_write_leaves_no_mark_after_a_clean_stop(data_dir: Path) -> None:
    _seed(data_dir)
    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        session = runtime.session_factory()
        _save(runtime, session, _workspace(session, "acme"), "acme travel policy")
        assert _pending(index) == {"1-article"}, "marked before the commit could happen"
        session.rollback()
        session.close()
    assert _pending(index) == set()
    with (
        runtime_scope(make_settings(data_dir)) as runtime,
        session_scope(runtime.session_factory) as session,
    ):
        assert runtime.indexer.reconcile(session, full=True) == (0, 0)


def test_a_store_without_the_in_step_record_is_reconciled_whole(data_dir: Path) -> None:
    ids = _seed(data_dir)
    lost = point_id(ids["globex onboarding plan"], 0)
    with runtime_scope(make_settings(data_dir), repair=False) as runtime:
        index, _ = _parts(runtime)
        index.delete(2, "article", [lost])  # behind the journal's back
        (index.folder / ShardJournal.IN_STEP).unlink()  # as a store from before the journal
    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        assert index.stored_hashes(2, "article", [lost]), "the whole reconcile wrote it back"
        assert (index.folder / ShardJournal.IN_STEP).is_file()
        assert index.open_shards() == {(2, "article")}, "only what was read since"


def test_a_store_of_an_earlier_version_is_rebuilt_at_the_next_start(data_dir: Path) -> None:
    """A store written before integer point ids (another ``STORE_VERSION``) is dropped as another
    model's would be, and the start-up reconcile writes every point again from the embedding
    cache."""
    _seed(data_dir)
    with runtime_scope(make_settings(data_dir), repair=False) as runtime:
        index, _ = _parts(runtime)
        old = index.root / "0123456789abcdef"  # the version-1 tag of this model, say
    index.folder.rename(old)
    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        assert not old.exists(), "the earlier version's store is dropped"
        with session_scope(runtime.session_factory) as session:
            expected = {t.key: t.hash for t in record_texts(session)}
        assert len(expected) == 4 and index.all_hashes() == expected
        assert runtime.indexer.embedder.computed == 0, "the vectors came from the cache"


def test_a_pain_point_and_an_expertise_line_with_the_same_id_are_two_points(
    data_dir: Path,
) -> None:
    """Point ids are unique within a shard only: resolving pain point 1 must not delete the
    point of expertise line 1."""
    with runtime_scope(make_settings(data_dir)) as runtime:
        index, _ = _parts(runtime)
        with session_scope(runtime.session_factory) as session:
            workspace = _workspace(session, "acme")
            contact = create_contact(
                session=session,
                indexer=runtime.indexer,
                workspace=workspace,
                data=ContactCreate(
                    name="Dana",
                    pain_points=["hiring a first sales lead"],
                    expertise=["building a sales team from scratch"],
                ),
                today=TODAY,
            )
            pain_point, line = contact.pain_points[0], contact.expertise[0]
            assert pain_point.id == line.id == 1, "the same record id in both tables"
        same = point_id(1)
        assert index.stored_hashes(workspace.id, "pain_point", [same])
        assert index.stored_hashes(workspace.id, "expertise", [same])
        with session_scope(runtime.session_factory) as session:
            stored = session.get(PainPoint, pain_point.id)
            assert stored is not None
            resolve_pain_point(session=session, indexer=runtime.indexer, pain_point=stored)
        assert not index.stored_hashes(workspace.id, "pain_point", [same]), "resolved: gone"
        assert index.stored_hashes(workspace.id, "expertise", [same]), "the expertise line stays"
