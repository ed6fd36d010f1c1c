"""Tenant isolation by construction: no path from one workspace's records to another's.

Three defences, each tested on its own: the index is written only after a commit (a failed
request leaves no point behind), ids are never reused (a stale id can only name its own record),
and every id that comes from the index or a stored list is read within the caller's workspace
(a stale id that slips through is dropped, and logged).
"""

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.daily.digest import render_markdown
from app.daily.schemas import DailyListPublic
from app.db import session_scope
from app.indexing import RecordIndexer
from embeddings.cache import text_hash
from embeddings.index import PointKey
from embeddings.points import IndexPoint, Kind
from embeddings.text import sparse_document
from tests.conftest import (
    Api,
    Headers,
    Json,
    get_json,
    make_article,
    make_contact,
    running_api,
    write_held,
)

FIXTURES = Path(__file__).parent / "fixtures" / "imports"

SURVEY_PAIN = "We keep struggling to find the right firm to run our employee engagement survey."
SURVEY_ARTICLE = {
    "title": "How to select an employee engagement survey vendor",
    "summary": "Choosing the right survey firm: a checklist for HR leaders.",
    "text": "Selecting an engagement survey provider means comparing survey firms on method, "
    "benchmarks, confidentiality and follow-up support. Ask each vendor for references.",
}


class InjectedFault(RuntimeError):
    """Raised inside a request's commit, after every index write of the request was made."""


@contextmanager
def commits_fail() -> Iterator[None]:
    """Every commit in this block fails, as a database error at the last moment would."""

    def fail(session: Session) -> None:
        raise InjectedFault("injected at commit")

    event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", fail)


def index_points(api: Api) -> dict[PointKey, str]:
    """Every point of the index, with the hash of the text it holds."""
    indexer: RecordIndexer = api.app.state.indexer
    return indexer.index.all_hashes()


def suggestions(client: TestClient, headers: Headers, contact_id: int) -> list[Json]:
    body = get_json(client, f"/contacts/{contact_id}/suggestions", headers, limit=10)
    items: list[Json] = body["items"]
    return items


def exported(client: TestClient, headers: Headers) -> bytes:
    response = client.get("/export", headers=headers)
    assert response.status_code == 200, response.text
    return response.content


# -- the index never holds what the database does not ----------------------------------------

WritePath = Callable[[TestClient, Headers, Json], Any]

WRITE_PATHS: dict[str, WritePath] = {
    "save an article": lambda c, h, ids: c.post("/articles", json=SURVEY_ARTICLE, headers=h),
    "edit an article": lambda c, h, ids: c.patch(
        f"/articles/{ids['article']}", json={"text": "Brand new words about payroll."}, headers=h
    ),
    "add a contact": lambda c, h, ids: c.post(
        "/contacts",
        json={"name": "Sam", "pain_points": [SURVEY_PAIN], "expertise": ["survey design"]},
        headers=h,
    ),
    "add a pain point": lambda c, h, ids: c.post(
        f"/contacts/{ids['contact']}/pain-points", json={"text": "Our ATS is a mess."}, headers=h
    ),
    "resolve a pain point": lambda c, h, ids: c.patch(
        f"/contacts/{ids['contact']}/pain-points/{ids['pain_point']}",
        json={"active": False},
        headers=h,
    ),
    "delete an article": lambda c, h, ids: c.delete(f"/articles/{ids['article']}", headers=h),
    "delete a contact": lambda c, h, ids: c.delete(f"/contacts/{ids['contact']}", headers=h),
    "import a feed": lambda c, h, ids: c.post(
        "/imports/articles",
        headers=h,
        files={"file": ("feed.xml", (FIXTURES / "feed_rss.xml").read_bytes())},
    ),
    "restore a workspace": lambda c, h, ids: c.post(
        "/imports/workspace",
        headers=h,
        files={"file": ("export.json", ids["document"])},
    ),
}


@pytest.mark.parametrize("path", list(WRITE_PATHS))
def test_a_request_that_fails_after_its_index_writes_leaves_no_point_behind(
    api: Api, path: str
) -> None:
    """Each write path fails at its commit, after embedding and queueing its index writes; in
    the same process, without a restart, the index is exactly what it was."""
    client = api.client
    headers = api.headers("victim")
    contact = make_contact(client, headers, name="Vic", pain_points=["payroll errors"])
    article = make_article(client, headers, **SURVEY_ARTICLE)
    ids: Json = {
        "contact": contact["id"],
        "pain_point": contact["pain_points"][0]["id"],
        "article": article["id"],
        "document": exported(client, headers),
    }
    fresh = api.headers("fresh")  # an empty workspace, for the restore
    target = fresh if path == "restore a workspace" else headers
    before = index_points(api)
    with commits_fail():
        response = WRITE_PATHS[path](client, target, ids)
    assert response.status_code == 500, response.text
    assert index_points(api) == before
    # The records are as they were, and the index still serves them.
    other = make_contact(client, headers, name="Olga", pain_points=[SURVEY_PAIN])
    titles = [
        s["article"]["title"] for s in suggestions(client, headers, other["id"]) if s["article"]
    ]
    assert titles == [SURVEY_ARTICLE["title"]]


def test_a_write_that_times_out_on_the_database_lock_leaves_no_point_behind(
    data_dir: Path,
) -> None:
    with running_api(data_dir, database_busy_timeout_seconds=0.2) as api:
        headers = api.headers("acme")
        make_article(api.client, headers, title="Payroll basics")
        before = index_points(api)
        with write_held(data_dir):
            response = api.client.post("/articles", json=SURVEY_ARTICLE, headers=headers)
        assert response.status_code == 503, response.text
        assert index_points(api) == before
        titles = [a["title"] for a in get_json(api.client, "/articles", headers)["items"]]
        assert titles == ["Payroll basics"]


# -- ids are never reused ----------------------------------------------------------------------


def test_ids_of_deleted_rows_are_never_given_again(api: Api) -> None:
    client = api.client
    mine, theirs = api.headers("mine"), api.headers("theirs")
    first = make_article(client, mine, title="One")
    with commits_fail():
        assert client.post("/articles", json={"title": "Rolled back"}, headers=mine).is_server_error
    deleted = make_article(client, mine, title="Deleted")
    assert client.delete(f"/articles/{deleted['id']}", headers=mine).status_code == 204
    theirs_article = make_article(client, theirs, title="Theirs")
    # SQLite rolls the id counter back with the row (PostgreSQL's sequence does not): the
    # rolled-back id may be given again, which is safe only because nothing outside the database
    # ever held it (the index is written after the commit). A deleted row's id did leave the
    # database, and is never given again.
    assert first["id"] < deleted["id"] < theirs_article["id"]

    gone = make_contact(client, mine, name="Gone", pain_points=["a"], expertise=["b"])
    assert client.delete(f"/contacts/{gone['id']}", headers=mine).status_code == 204
    new = make_contact(client, theirs, name="New", pain_points=["c"], expertise=["d"])
    assert new["id"] > gone["id"]
    assert new["pain_points"][0]["id"] > gone["pain_points"][0]["id"]


# -- every id from the index or a stored list is read within the workspace -----------------------


def _rogue_point(api: Api, workspace_id: int, kind: Kind, record_id: int, owner_id: int) -> None:
    """A point of ``workspace_id`` that names another workspace's record: what a stale index
    held before these defences (a rolled-back write, then the id reused elsewhere)."""
    indexer: RecordIndexer = api.app.state.indexer
    words = "engagement survey firm vendor selection: choose the right survey provider"
    indexer.index.upsert(
        [
            IndexPoint(
                workspace_id=workspace_id,
                kind=kind,
                record_id=record_id,
                owner_id=owner_id,
                passage=0,
                text=words,
                text_hash=text_hash(words),
                dense=indexer.embedder.embed_documents([words])[0],
                keywords=sparse_document(words),
            )
        ]
    )


def _id(api: Api, sql: str, **params: Any) -> int:
    """One id read straight from the database."""
    with session_scope(api.app.state.session_factory) as session:
        found = session.scalar(text(sql), params)
    assert isinstance(found, int)
    return found


def _workspace_id(api: Api, name: str) -> int:
    return _id(api, "SELECT id FROM workspaces WHERE name = :name", name=name)


def test_index_hits_naming_another_workspaces_records_are_dropped_and_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    client = api.client
    attacker, victim = api.headers("attacker"), api.headers("victim")
    secret = make_article(client, victim, **SURVEY_ARTICLE, url="https://victim.example/secret")
    expert = make_contact(
        client, victim, name="Vera Victim", expertise=["runs engagement survey programmes"]
    )
    mine = make_contact(client, attacker, name="Mallory", pain_points=[SURVEY_PAIN])
    attacker_id = _workspace_id(api, "attacker")
    _rogue_point(api, attacker_id, "article", secret["id"], secret["id"])
    expertise_id = _id(api, "SELECT id FROM expertise WHERE contact_id = :c", c=expert["id"])
    _rogue_point(api, attacker_id, "expertise", expertise_id, expert["id"])

    with caplog.at_level(logging.WARNING, logger="app.suggestions.engine"):
        items = suggestions(client, attacker, mine["id"])
    shown = json.dumps(items)
    assert "victim.example" not in shown and SURVEY_ARTICLE["title"] not in shown
    assert "Vera" not in shown
    assert [i["kind"] for i in items] == ["check_in"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Index inconsistency" in logged and "article" in logged and "contact" in logged

    # The other way: the victim's index names the attacker's pain point.
    victim_id = _workspace_id(api, "victim")
    _rogue_point(api, victim_id, "pain_point", mine["pain_points"][0]["id"], mine["id"])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.suggestions.engine"):
        recipients = get_json(client, f"/articles/{secret['id']}/recipients", victim)["items"]
    assert "Mallory" not in json.dumps(recipients)
    assert "pain point" in " ".join(r.getMessage() for r in caplog.records)


def test_a_stored_suggestion_naming_another_workspaces_records_shows_and_logs_none_of_them(
    api: Api,
) -> None:
    """A suggestion row whose ids point into another workspace (a corrupt row, a bad restore)
    shows none of those records, and marking it sent writes nothing into that workspace."""
    client = api.client
    attacker, victim = api.headers("attacker"), api.headers("victim")
    secret = make_article(client, victim, title="Victim's secret plan")
    vera = make_contact(client, victim, name="Vera Victim", tier="A")
    mine = make_contact(client, attacker, name="Mallory")
    attacker_id = _workspace_id(api, "attacker")
    rows = []
    with session_scope(api.app.state.session_factory) as session:
        for kind, column, target in (
            ("article", "article_id", secret["id"]),
            ("introduction", "introduce_contact_id", vera["id"]),
        ):
            rows.append(
                session.scalar(
                    text(
                        "INSERT INTO suggestions (workspace_id, contact_id, kind, target_key, "
                        f"{column}, score, reason, drafts, status, created_at) VALUES (:w, :c, "
                        ":k, :t, :id, 1.0, '', '{}', 'open', '2026-01-01') RETURNING id"
                    ),
                    {
                        "w": attacker_id,
                        "c": mine["id"],
                        "k": kind,
                        "t": f"{kind}:{target}",
                        "id": target,
                    },
                )
            )
    for row in rows:
        sent = client.post(f"/suggestions/{row}/sent", headers=attacker)
        assert sent.status_code == 200, sent.text
        assert "Victim" not in sent.text
        assert sent.json()["article"] is None and sent.json()["introduce"] is None
    assert "Victim" not in exported(client, attacker).decode()
    victim_ledger = get_json(client, f"/contacts/{vera['id']}/ledger", victim)
    assert victim_ledger["gives"] == []
    assert get_json(client, f"/contacts/{vera['id']}", victim)["last_contacted_on"] is None
    mine_ledger = get_json(client, f"/contacts/{mine['id']}/ledger", attacker)
    assert all(g["article_id"] is None for g in mine_ledger["gives"])
    assert all(g["introduced_contact_id"] is None for g in mine_ledger["gives"])


def test_a_daily_list_never_shows_a_contact_deleted_since_or_another_workspaces(
    data_dir: Path,
) -> None:
    """A list keeps its coming-up contacts by foreign key: a deleted contact leaves it, and a
    contact made afterwards in another workspace never takes its place."""
    with running_api(data_dir, daily_budget=1) as api:
        client = api.client
        mine, theirs = api.headers("mine"), api.headers("theirs")
        long_ago = (date.today() - timedelta(days=400)).isoformat()
        for name in ("Ann", "Ben", "Cat"):
            make_contact(client, mine, name=name, tier="A", last_contacted_on=long_ago)
        built = client.post("/daily", headers=mine)
        assert built.status_code == 200, built.text
        later = [c for day in built.json()["coming_up"] for c in day["contacts"]]
        assert len(later) == 2
        gone = later[-1]  # the newest contact: the id SQLite would hand out next
        assert client.delete(f"/contacts/{gone['id']}", headers=mine).status_code == 204
        make_contact(client, theirs, name="Zed of another workspace")

        zed = make_contact(client, theirs, name="Zoe of another workspace")
        # A forged row naming the other workspace's contact on this workspace's list.
        with session_scope(api.app.state.session_factory) as session:
            session.execute(
                text(
                    "INSERT INTO daily_coming_up (daily_list_id, day, position, contact_id) "
                    "SELECT id, day, 9, :zed FROM daily_lists"
                ),
                {"zed": zed["id"]},
            )

        shown = get_json(client, "/daily", mine)
        names = [c["name"] for day in shown["coming_up"] for c in day["contacts"]]
        assert names == [later[0]["name"]]
        digest = render_markdown(DailyListPublic.model_validate(shown))
        for text_shown in (json.dumps(shown), digest):
            assert "Zed" not in text_shown and "Zoe" not in text_shown
            assert gone["name"] not in text_shown
