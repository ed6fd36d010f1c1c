"""Crash safety: ``givefirst serve`` killed with SIGKILL in the middle of writes or of a large
import loses no acknowledged write, and after a restart every record has its vectors."""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.db import session_scope
from app.indexing import record_texts
from app.models import Article
from app.runtime import open_database, runtime_scope
from tests.conftest import auth, make_settings
from tests.helpers import (
    Ledger,
    assert_index_matches_records,
    create_key,
    serving,
    write_records,
)

WRITERS = 4
ACKNOWLEDGED_BEFORE_KILL = 24
WAIT_S = 300


def _kill_when(server_process: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
    """SIGKILL the server as soon as ``ready()`` holds."""
    deadline = time.monotonic() + WAIT_S
    while not ready():
        assert server_process.poll() is None, "the server died by itself"
        assert time.monotonic() < deadline, "the writes did not get far enough in time"
        time.sleep(0.1)  # poll interval of a bounded wait
    server_process.send_signal(signal.SIGKILL)
    server_process.wait(timeout=60)
    assert server_process.returncode == -signal.SIGKILL


def stray_and_missing_points(data_dir: Path) -> tuple[int, int]:
    """Points the index holds for records that are not stored, and records' texts it lacks."""
    with runtime_scope(make_settings(data_dir), repair=False) as runtime:
        with session_scope(runtime.session_factory) as session:
            expected = {t.key for t in record_texts(session)}
        stored = set(runtime.indexer.index.all_points())
        return len(stored - expected), len(expected - stored)


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")
    ledger = Ledger()
    with serving(data_dir) as server:
        writers = [
            threading.Thread(target=write_records, args=(server.base_url, key, n, ledger))
            for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        _kill_when(server.process, lambda: ledger.count() >= ACKNOWLEDGED_BEFORE_KILL)
        for writer in writers:
            writer.join(timeout=WAIT_S)
    assert not ledger.errors, ledger.errors
    assert ledger.count() >= ACKNOWLEDGED_BEFORE_KILL

    with (
        serving(data_dir) as server,
        httpx.Client(base_url=server.base_url, headers=auth(key), timeout=120) as client,
    ):
        for contact_id, acknowledged in ledger.contacts.items():
            stored = client.get(f"/contacts/{contact_id}")
            assert stored.status_code == 200, f"contact {contact_id} lost: {stored.text}"
            assert stored.json()["name"] == acknowledged["name"]
        for pain_point_id, (contact_id, text) in ledger.pain_points.items():
            stored_points = client.get(f"/contacts/{contact_id}").json()["pain_points"]
            assert {"id": pain_point_id, "text": text} in [
                {"id": p["id"], "text": p["text"]} for p in stored_points
            ], f"pain point {pain_point_id} lost"
        for article_id, acknowledged in ledger.articles.items():
            stored = client.get(f"/articles/{article_id}")
            assert stored.status_code == 200, f"article {article_id} lost: {stored.text}"
            assert stored.json()["title"] == acknowledged["title"]
        # Searchable: each article finds the contact whose pain point it answers.
        for article_id, contact_id in ledger.pairs:
            recipients = client.get(f"/articles/{article_id}/recipients", params={"limit": 100})
            assert recipients.status_code == 200, recipients.text
            found = [item["contact"]["id"] for item in recipients.json()["items"]]
            assert contact_id in found, f"article {article_id} does not reach {contact_id}"
    points = assert_index_matches_records(data_dir)
    assert points >= len(ledger.pain_points) + len(ledger.articles)


def _feed(items: int) -> bytes:
    """An RSS feed of ``items`` articles, each with a few passages of text to embed."""
    entries = "".join(
        f"<item><title>Survey vendor review number {n}</title>"
        f"<link>https://feeds.example.org/review/{n}</link>"
        f"<description>{'Notes on engagement survey vendors and their benchmarks. ' * 40}"
        f"Review {n}.</description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Reviews</title><link>https://feeds.example.org/</link>{entries}</channel></rss>"
    ).encode()


def _cpu_seconds(process: subprocess.Popen[str]) -> float:
    """CPU time the process has used (user + system), from /proc."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigkill_during_a_large_import_keeps_all_or_nothing_and_no_stray_vectors(
    tmp_path: Path,
) -> None:
    """Killed while the import is under way: the import is stored whole or not at all, the
    index holds no point of a record that was never committed, and after the restart the index
    matches the records."""
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")
    items = 400
    with serving(data_dir) as server:
        before = httpx.post(
            f"{server.base_url}/articles",
            json={"title": "Saved before the import", "text": "Acknowledged before the crash."},
            headers=auth(key),
            timeout=120,
        )
        assert before.status_code == 201, before.text
        busy = _cpu_seconds(server.process) + 2.0  # two CPU seconds into the import
        answer: list[httpx.Response | Exception] = []

        def upload() -> None:
            try:
                answer.append(
                    httpx.post(
                        f"{server.base_url}/imports/articles",
                        files={"file": ("feed.xml", _feed(items), "application/rss+xml")},
                        headers=auth(key),
                        timeout=WAIT_S,
                    )
                )
            except httpx.TransportError as error:
                answer.append(error)

        uploader = threading.Thread(target=upload)
        uploader.start()
        # The import is under way (the server reads and embeds it for seconds): kill it.
        _kill_when(server.process, lambda: bool(answer) or _cpu_seconds(server.process) > busy)
        uploader.join(timeout=WAIT_S)
    assert answer and isinstance(answer[0], Exception), f"the kill came too late: {answer}"
    stray, _ = stray_and_missing_points(data_dir)
    assert stray == 0, "the index holds points of records that were never committed"

    with serving(data_dir) as server:
        saved = httpx.get(
            f"{server.base_url}/articles/{before.json()['id']}", headers=auth(key), timeout=60
        )
        assert saved.status_code == 200, saved.text
    with session_scope(open_database(make_settings(data_dir)).session_factory) as session:
        articles = session.scalar(select(func.count()).select_from(Article))
    assert articles in (1, 1 + items), f"{articles} articles: the import was half applied"
    assert assert_index_matches_records(data_dir) > 0
