"""Shared fixtures: the real application on a fresh data folder, keys, and record factories.

Every test gets its own temporary data folder and its own app built by ``create_app``; the
``TestClient`` is entered as a context manager so the lifespan (migrations, engine) runs.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.models import ApiKey
from app.workspaces.service import (
    create_api_key,
    get_or_create_workspace,
    hash_key,
    revoke_api_key,
)

Headers = dict[str, str]
Json = dict[str, Any]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the embedded set-up (SQLite and local vectors) inside ``data_dir``.

    The storage URLs are passed explicitly so that a ``GIVEFIRST_*`` variable in the environment
    of the test run cannot point a test at a shared database.
    """
    return Settings(data_dir=data_dir, database_url=None, qdrant_url=None, **overrides)


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
    released at the end of the block, or earlier by calling what it yields."""
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
