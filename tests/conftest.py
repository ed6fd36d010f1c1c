"""Shared fixtures: the real application on a fresh data folder, keys, and record factories.

Every test gets its own temporary data folder and its own app built by ``create_app``; the
``TestClient`` is entered as a context manager so the lifespan (migrations, engine) runs.

The records are in SQLite in the data folder, or with ``--database=postgresql`` (or
``GIVEFIRST_TEST_DATABASE=postgresql``) in a PostgreSQL database of the data folder's own
(``tests/postgres.py``). A test that is about SQLite itself is marked ``sqlite_only`` and skipped
there, with its reason.
"""

import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import create_db_engine, session_scope, take_write_turn
from app.main import create_app
from app.models import ApiKey
from app.workspaces.service import (
    create_api_key,
    get_or_create_workspace,
    hash_key,
    revoke_api_key,
)
from tests.postgres import Databases, LocalCluster, server_url_from_environment, wait_for

Headers = dict[str, str]
Json = dict[str, Any]


DATABASES: Databases | None = None  # set for the session on PostgreSQL


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("GIVEFIRST_TEST_DATABASE", "sqlite"),
        help="where the records are: SQLite in each data folder (default), or PostgreSQL "
        "(a throwaway cluster, or the server GIVEFIRST_TEST_DATABASE_URL names)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): about SQLite itself (its files, its locks); skipped on PostgreSQL",
    )


def on_postgresql(config: pytest.Config) -> bool:
    return bool(config.getoption("--database") == "postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgresql(config):
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "about SQLite itself"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def database_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL: the server for the whole run (a cluster of our own unless a URL is given)."""
    global DATABASES
    if not on_postgresql(request.config):
        yield
        return
    cluster = None
    url = server_url_from_environment()
    if url is None:
        cluster = LocalCluster()
        url = cluster.start()
    try:
        wait_for(url)
        DATABASES = Databases(url)
        try:
            yield
        finally:
            DATABASES.close()
            DATABASES = None
    finally:
        if cluster is not None:
            cluster.stop()


def database_url(data_dir: Path) -> str | None:
    """The records' URL for ``data_dir``: None (SQLite inside it), or its PostgreSQL database."""
    return DATABASES.url_for(data_dir) if DATABASES is not None else None


def database_env(data_dir: Path) -> dict[str, str]:
    """The environment that points a subprocess at ``data_dir``'s records."""
    url = database_url(data_dir)
    return {"GIVEFIRST_DATABASE_URL": url} if url else {}


def copy_data_dir(source: Path, target: Path) -> None:
    """``target`` becomes a copy of the data folder ``source``, its records included."""
    shutil.copytree(source, target, symlinks=True)
    if DATABASES is not None:
        DATABASES.copy(source, target)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the embedded set-up (SQLite and local vectors) inside ``data_dir``, or with
    the records in ``data_dir``'s PostgreSQL database when the suite runs there.

    The storage URLs are passed explicitly so that a ``GIVEFIRST_*`` variable in the environment
    of the test run cannot point a test at a shared database.
    """
    overrides.setdefault("database_url", database_url(data_dir))
    # The server polls no feed by itself unless a test asks it to: the feeds that test files
    # name (https://peopleops.example/feed.xml…) are never fetched.
    overrides.setdefault("feed_poll_minutes", 0)
    return Settings(data_dir=data_dir, qdrant_url=None, **overrides)


def auth(key: str) -> Headers:
    """The header that carries ``key``."""
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Api:
    """A running application and its test client, plus helpers to manage keys."""

    app: FastAPI
    client: TestClient
    data_dir: Path

    def new_key(self, workspace: str = "acme") -> str:
        """A fresh API key for ``workspace`` (created if new), made by the service functions."""
        with session_scope(self.app.state.session_factory) as session:
            ws, _ = get_or_create_workspace(session=session, name=workspace)
            return create_api_key(session=session, workspace=ws)

    def headers(self, workspace: str = "acme") -> Headers:
        """Authorization headers carrying a new key for ``workspace``."""
        return auth(self.new_key(workspace))

    def key_id(self, key: str) -> int:
        """The database id of ``key`` (looked up by its hash, the way the service stores it)."""
        with session_scope(self.app.state.session_factory) as session:
            key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key)))
        assert key_id is not None, "the key is not stored"
        return key_id

    def revoke(self, key: str) -> None:
        """Revoke ``key`` through the service function."""
        key_id = self.key_id(key)
        with session_scope(self.app.state.session_factory) as session:
            assert revoke_api_key(session=session, key_id=key_id) is not None


@contextmanager
def running_api(data_dir: Path, **settings: Any) -> Iterator[Api]:
    """The real app on ``data_dir`` (and any other ``settings``), with its lifespan running for
    the duration of the block.

    Server errors come back as 500 responses (not exceptions), so that a test can assert that a
    bad request gets a 4xx and not a crash.
    """
    app = create_app(make_settings(data_dir, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(app=app, client=client, data_dir=data_dir)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, not yet created, data folder for this test."""
    return tmp_path / "data"


@pytest.fixture
def api(data_dir: Path) -> Iterator[Api]:
    with running_api(data_dir) as running:
        yield running


@pytest.fixture
def client(api: Api) -> TestClient:
    return api.client


@pytest.fixture
def headers(api: Api) -> Headers:
    """A key of the workspace ``acme``."""
    return api.headers("acme")


def error_text(response: httpx.Response) -> str:
    """The readable error of a JSON error body: ``message`` if present, else a string ``detail``."""
    body = response.json()
    assert isinstance(body, dict), body
    text = body.get("message", body.get("detail"))
    assert isinstance(text, str) and text.strip(), f"no readable error message in {body}"
    return text


TIMESTAMPS = frozenset({"created_at", "updated_at"})


def without_timestamps(record: Json) -> Json:
    """``record`` without its bookkeeping timestamps (to compare a write's answer with a read)."""
    return {k: v for k, v in record.items() if k not in TIMESTAMPS}


def make_contact(client: TestClient, headers: Headers, **overrides: Any) -> Json:
    """Create a contact (``name`` defaults to "Ada Lovelace") and return the response body."""
    payload: Json = {"name": "Ada Lovelace", **overrides}
    response = client.post("/contacts", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


def make_article(client: TestClient, headers: Headers, **overrides: Any) -> Json:
    """Save an article (``title`` defaults to a fixed title) and return the response body."""
    payload: Json = {"title": "How to hire your first engineer", **overrides}
    response = client.post("/articles", json=payload, headers=headers)
    assert response.status_code in (200, 201), response.text
    body: Json = response.json()
    return body


def get_json(client: TestClient, path: str, headers: Headers, **params: Any) -> Json:
    """GET ``path`` and return the body, asserting a 200."""
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def snapshot(client: TestClient, headers: Headers) -> Json:
    """Everything the workspace has, as the API shows it (to compare before and after)."""
    return {
        "workspace": get_json(client, "/workspace", headers),
        "contacts": get_json(client, "/contacts", headers, limit=500),
        "articles": get_json(client, "/articles", headers, limit=500),
    }


@contextmanager
def write_held(data_dir: Path) -> Iterator[Callable[[], None]]:
    """Another connection's write transaction on the records (another process's long write);
    released at the end of the block, or earlier by calling what it yields.

    On SQLite it holds the database's write lock; on PostgreSQL the write turn (the advisory
    lock a replica's write transaction holds: ``app.db.take_write_turn``)."""
    url = database_url(data_dir)
    if url is not None:
        with _postgresql_write_held(url) as release:
            yield release
        return
    connection = sqlite3.connect(
        data_dir / "givefirst.sqlite3", isolation_level=None, check_same_thread=False
    )
    connection.execute("BEGIN IMMEDIATE")
    lock, closed = threading.Lock(), threading.Event()

    def release() -> None:
        with lock:
            if not closed.is_set() and connection.in_transaction:
                connection.rollback()

    try:
        yield release
    finally:
        release()
        with lock:
            closed.set()
            connection.close()


@contextmanager
def _postgresql_write_held(url: str) -> Iterator[Callable[[], None]]:
    engine = create_db_engine(url)
    session = Session(engine)
    lock, closed = threading.Lock(), threading.Event()
    take_write_turn(session)

    def release() -> None:
        with lock:
            if not closed.is_set() and session.in_transaction():
                session.rollback()

    try:
        yield release
    finally:
        release()
        with lock:
            closed.set()
            session.close()
            engine.dispose()


WEB_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Choosing an engagement survey vendor</title></head><body><article>
<h1>Choosing an engagement survey vendor</h1>
<p>Choosing a firm to run your employee engagement survey is one of the harder calls an HR
leader makes. Ask every vendor about benchmarks, anonymity and action planning.</p>
<p>Speak with a customer of your size who has run the survey with them for three years.</p>
</article></body></html>"""


class WebPages(BaseHTTPRequestHandler):
    """A small web site: /article and /stalled (which answers once the test lets it go) are
    the same article; anything else is a 404."""

    stalled = threading.Event()
    let_go = threading.Event()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/stalled":
            self.stalled.set()
            self.let_go.wait(timeout=30)
        status = 200 if self.path in ("/stalled", "/article") else 404
        body = WEB_PAGE if status == 200 else b"<html><body>Not found</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def web_pages() -> Iterator[str]:
    """A web server on 127.0.0.1 (allowed by the setting in the test): its base address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebPages)
    server.daemon_threads = True
    WebPages.stalled.clear()
    WebPages.let_go.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        WebPages.let_go.set()
        server.shutdown()
        server.server_close()
