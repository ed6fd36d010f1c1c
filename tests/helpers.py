"""Helpers shared by several test modules (fixtures stay in ``conftest.py``).

- the ``givefirst`` command run for real: ``givefirst`` (run and wait), ``givefirst_command``
  (its argument list, for a test that starts it itself), ``command_env``, ``create_key``;
- ``serving``: ``givefirst serve`` on a free loopback port, ready to answer;
- ``write_records`` and its ``Ledger``: a writer that keeps what the server acknowledged, and
  ``assert_index_matches_records`` to check the vector index against the records after;
- ``Mailbox`` and ``smtp_settings``: a real SMTP server on loopback that keeps what it receives.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.db import session_scope
from app.indexing import record_texts
from app.runtime import runtime_scope
from tests.conftest import (
    Api,
    Headers,
    Json,
    auth,
    database_env,
    get_json,
    make_article,
    make_contact,
    make_settings,
)

ROOT = Path(__file__).resolve().parent.parent


GIVEFIRST = Path(sys.executable).parent / "givefirst"
COMMAND_TIMEOUT_S = 120
READY_TIMEOUT_S = 180  # a loaded 2-core machine can take a minute to load the model


def free_port() -> int:
    """A TCP port free on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``givefirst`` command: the test's own without any GIVEFIRST_*
    setting, plus the data folder, its database and any ``settings`` (``rate_limit="5/minute"``
    becomes ``GIVEFIRST_RATE_LIMIT``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIVEFIRST_")}
    env["GIVEFIRST_DATA_DIR"] = str(data_dir)
    env.update(database_env(data_dir))
    env["PYTHONUNBUFFERED"] = "1"
    env.update({f"GIVEFIRST_{name.upper()}": value for name, value in settings.items()})
    return env


def givefirst_command(*args: str) -> list[str]:
    """The installed ``givefirst`` command with ``args``, as a user runs it."""
    return [str(GIVEFIRST), *args]


def givefirst(
    data_dir: Path, *args: str, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``givefirst ARGS`` on ``data_dir`` (plus any ``GIVEFIRST_*`` ``settings``), and wait."""
    assert GIVEFIRST.is_file(), f"the console script is not installed at {GIVEFIRST}"
    return subprocess.run(
        givefirst_command(*args),
        env={**command_env(data_dir), **(settings or {})},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def create_key(data_dir: Path, workspace: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """``givefirst keys create WORKSPACE``: the key (its last line) and the finished process."""
    result = givefirst(data_dir, "keys", "create", workspace)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("gf_"), result.stdout
    return key, result


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "\n".join(self.lines)

    def printed_key(self) -> str | None:
        """The last line starting with ``gf_`` printed before uvicorn's first log line."""
        key = None
        for line in self.lines:
            if line.startswith(("INFO:", "WARNING:", "ERROR:")):
                break
            if line.startswith("gf_"):
                key = line.strip()
        return key


@contextmanager
def serving(data_dir: Path, **settings: str) -> Iterator[Server]:
    """``givefirst serve --port P`` on a free loopback port, ready to answer; always stopped.

    ``settings`` are passed as ``GIVEFIRST_*`` variables. A test may SIGKILL ``server.process``
    inside the block; it is then only reaped.
    """
    port = free_port()
    process = subprocess.Popen(
        givefirst_command("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=command_env(data_dir, **settings),
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    assert process.stdout is not None
    stream = process.stdout

    def read() -> None:
        for line in stream:
            server.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert process.poll() is None, f"serve exited early:\n{server.output()}"
            assert time.monotonic() < deadline, f"serve not ready:\n{server.output()}"
            # Ready: /health answers, and uvicorn's start-up line (printed after anything the
            # command printed first) has been read.
            started = any("Uvicorn running on" in line for line in list(server.lines))
            try:
                if started and httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # poll interval of a bounded readiness loop
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        reader.join(timeout=10)


@dataclass
class Ledger:
    """What the server acknowledged (2xx with the record in the body), from every writer."""

    contacts: dict[int, Json] = field(default_factory=dict)
    pain_points: dict[int, tuple[int, str]] = field(default_factory=dict)
    articles: dict[int, Json] = field(default_factory=dict)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (article, contact it helps)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.contacts) + len(self.pain_points) + len(self.articles)


def write_records(
    base_url: str, key: str, writer: int, ledger: Ledger, stop: threading.Event | None = None
) -> None:
    """Create contacts, pain points and articles, one after another, until ``stop`` is set or
    the server dies; every acknowledged write goes into ``ledger``."""
    with httpx.Client(base_url=base_url, headers=auth(key), timeout=120) as client:
        for n in range(10_000):
            if stop is not None and stop.is_set():
                return
            need = f"Finding a vendor for the employee engagement survey in region {writer}x{n}"
            try:
                contact = client.post("/contacts", json={"name": f"W{writer} N{n}"})
                if contact.status_code != 201:
                    ledger.errors.append(f"POST /contacts {contact.status_code}: {contact.text}")
                    return
                with ledger.lock:
                    ledger.contacts[contact.json()["id"]] = contact.json()
                contact_id = contact.json()["id"]
                pain_point = client.post(f"/contacts/{contact_id}/pain-points", json={"text": need})
                if pain_point.status_code != 201:
                    ledger.errors.append(f"POST pain-points {pain_point.status_code}")
                    return
                with ledger.lock:
                    ledger.pain_points[pain_point.json()["id"]] = (contact_id, need)
                article = client.post(
                    "/articles",
                    json={
                        "title": need,
                        "url": f"https://example.com/{writer}/{n}",
                        "text": f"{need}. How one team compared survey vendors, step by step.",
                    },
                )
                if article.status_code != 201:
                    ledger.errors.append(f"POST /articles {article.status_code}: {article.text}")
                    return
                with ledger.lock:
                    ledger.articles[article.json()["id"]] = article.json()
                    ledger.pairs.append((article.json()["id"], contact_id))
            except httpx.TransportError:
                return  # the server is gone


def assert_index_matches_records(data_dir: Path) -> int:
    """Every record's texts are in the vector index with their current text, and nothing else
    is: a reconcile finds nothing to do. Returns the number of points."""
    with runtime_scope(make_settings(data_dir), repair=False) as runtime:
        with session_scope(runtime.session_factory) as session:
            expected = {t.key: t.hash for t in record_texts(session)}
            stored = runtime.indexer.index.all_hashes()
            assert stored == expected, f"{len(set(expected) - set(stored))} points missing"
            assert runtime.indexer.reconcile(session) == (0, 0)
        return len(expected)


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def smtp_settings(port: int) -> dict[str, Any]:
    """Settings that send the digest to a local SMTP server on ``port``, without TLS."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "smtp_from": "givefirst@example.com",
        "smtp_to": ["me@example.com"],
    }


PUBLIC_PATHS = frozenset({"/health", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"})


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: Json) -> list[tuple[str, str]]:
    """Every (method, concrete path) the OpenAPI document lists, path parameters set to 1."""
    operations = []
    for template, item in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        operations += [(method, path) for method in HTTP_METHODS if method in item]
    return operations


def protected_operations(spec: Json) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document ``spec`` that needs a key."""
    operations = [(m, p) for m, p in _operations(spec) if p not in PUBLIC_PATHS]
    # The resources the service is built around must be among them.
    paths = {p for _, p in operations}
    assert {"/contacts", "/contacts/1", "/articles", "/articles/1", "/workspace"} <= paths
    assert "/contacts/1/pain-points/1" in paths
    return operations


FIXTURES = Path(__file__).parent / "fixtures" / "imports"


def upload(
    client: TestClient,
    path: str,
    headers: Headers,
    data: bytes,
    filename: str = "upload",
    **params: str,
) -> Any:
    return client.post(path, headers=headers, files={"file": (filename, data)}, params=params)


def contacts_by_name(client: TestClient, headers: Headers) -> dict[str, Json]:
    page = get_json(client, "/contacts", headers, limit=500)
    return {c["name"]: c for c in page["items"]}


def articles_by_url(client: TestClient, headers: Headers) -> dict[str, Json]:
    page = get_json(client, "/articles", headers, limit=500)
    return {a["url"]: a for a in page["items"]}


# An ask of the contact, anywhere in a draft's own wording (the contact's quoted words aside).
ASKS = [
    r"\blet me know\b",
    r"\bcould you\b",
    r"\bwould you\b",
    r"\bcan you\b",
    r"\bcalls?\b",
    r"\bmeet(ing|ings)?\b",
    r"\bin return\b",
    r"\bkeep me in mind\b",
    r"\bwhat(?:'s| is| are)\b.*\bnew\b",
    r"\?",
]


def said_as_sentence(said: str) -> str:
    """How a draft says the need after "When we last spoke, "."""
    return f"you said: {said}" if said.startswith("“") else f"you mentioned {said}."


def asks_in(draft: str, own_words: list[str]) -> list[str]:
    """The ask patterns found in ``draft``, once the words that are not the draft's own (the
    need as said back, the article's title, the expertise, names) and quotations are removed."""
    for words in sorted(own_words, key=len, reverse=True):
        if words:
            draft = draft.replace(words, " ")
    draft = re.sub(r"“[^”]*”", " ", draft)
    return [pattern for pattern in ASKS if re.search(pattern, draft, re.IGNORECASE)]


PAIN = "Choosing a vendor to run our employee engagement survey"


ARTICLE = {
    "title": "How to choose an engagement survey vendor",
    "text": "Choosing a firm to run your employee engagement survey: the questions to ask "
    "survey vendors, benchmarks, anonymity and action planning.",
    "url": "https://x.example/survey",
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


@dataclass
class Browser:
    """A signed-in page client: its cookie jar, the session's token, the workspace's key."""

    client: TestClient
    csrf: str
    key: str

    def post(
        self, path: str, data: dict[str, str] | None = None, htmx: bool = True
    ) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **({"HX-Request": "true"} if htmx else {})}
        return self.client.post(path, data=data or {}, headers=headers, follow_redirects=False)


def sign_in(api: Api, key: str, base_url: str = "http://testserver") -> Browser:
    client = TestClient(api.app, base_url=base_url, raise_server_exceptions=False)
    form = client.get("/sign-in")
    assert form.status_code == 200
    signed = client.post(
        "/sign-in",
        data={"api_key": key, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/"
    today = client.get("/")
    assert today.status_code == 200, today.text
    return Browser(client, csrf_of(today.text), key)


def seed(api: Api, workspace: str) -> tuple[str, Headers, Json]:
    """A workspace with one contact due today (never contacted) and an article for their pain."""
    key = api.new_key(workspace)
    headers = auth(key)
    contact = make_contact(
        api.client,
        headers,
        name=f"Ann of {workspace}",
        email=f"ann@{workspace}.example",
        tier="A",
        pain_points=[PAIN],
    )
    make_article(api.client, headers, **ARTICLE)
    return key, headers, contact
