"""``givefirst backup`` while the server runs and writes, and ``givefirst restore``, for real."""

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth, error_text, get_json, running_api
from tests.helpers import (
    Ledger,
    assert_index_matches_records,
    create_key,
    givefirst,
    serving,
    write_records,
)

WAIT_S = 300

pytestmark = pytest.mark.sqlite_only(
    "`givefirst backup` copies the data folder's SQLite files; a PostgreSQL database is backed "
    "up with its own tools (pg_dump), and the command says so"
)


def _copy_of_ledger(ledger: Ledger) -> Ledger:
    with ledger.lock:
        return Ledger(
            contacts=dict(ledger.contacts),
            pain_points=dict(ledger.pain_points),
            articles=dict(ledger.articles),
            pairs=list(ledger.pairs),
        )


def test_a_backup_taken_while_the_server_writes_restores_every_acknowledged_record(
    tmp_path: Path,
) -> None:
    data_dir, backup_dir, restored_dir = tmp_path / "data", tmp_path / "backup", tmp_path / "new"
    key, _ = create_key(data_dir, "acme")
    ledger, stop = Ledger(), threading.Event()
    with serving(data_dir) as server:
        writer = threading.Thread(
            target=write_records, args=(server.base_url, key, 0, ledger, stop)
        )
        writer.start()
        try:
            deadline = time.monotonic() + WAIT_S
            while ledger.count() < 9:
                assert time.monotonic() < deadline and writer.is_alive(), ledger.errors
                time.sleep(0.1)  # poll interval of a bounded wait
            before = _copy_of_ledger(ledger)

            made = givefirst(data_dir, "backup", str(backup_dir))

            after_count = ledger.count()
        finally:
            stop.set()
            writer.join(timeout=WAIT_S)
    assert made.returncode == 0, made.stderr
    assert not ledger.errors, ledger.errors
    assert after_count > before.count(), "the server should have been writing during the backup"
    manifest = json.loads((backup_dir / "givefirst-backup.json").read_text())
    assert manifest["files"] == ["givefirst.sqlite3", "embedding_cache.sqlite3"]

    restored = givefirst(restored_dir, "restore", str(backup_dir))

    assert restored.returncode == 0, restored.stderr
    assert "index rebuilt" in restored.stdout
    assert_index_matches_records(restored_dir)
    with running_api(restored_dir) as api:
        for contact_id, acknowledged in before.contacts.items():
            stored = get_json(api.client, f"/contacts/{contact_id}", auth(key))
            assert stored["name"] == acknowledged["name"]
        for pain_point_id, (contact_id, text) in before.pain_points.items():
            stored = get_json(api.client, f"/contacts/{contact_id}", auth(key))
            assert [p["text"] for p in stored["pain_points"] if p["id"] == pain_point_id] == [text]
        for article_id, acknowledged in before.articles.items():
            stored = get_json(api.client, f"/articles/{article_id}", auth(key))
            assert stored["title"] == acknowledged["title"]
        for article_id, contact_id in before.pairs:
            recipients = get_json(api.client, f"/articles/{article_id}/recipients", auth(key))
            assert contact_id in [item["contact"]["id"] for item in recipients["items"]]


def test_restore_refuses_a_folder_in_use_unless_forced_and_bad_input_says_why(
    tmp_path: Path,
) -> None:
    data_dir, backup_dir = tmp_path / "data", tmp_path / "backup"
    key, _ = create_key(data_dir, "acme")
    with running_api(data_dir) as api:
        kept = api.client.post("/contacts", json={"name": "In the backup"}, headers=auth(key))
        assert kept.status_code == 201, kept.text
    assert givefirst(data_dir, "backup", str(backup_dir)).returncode == 0
    with running_api(data_dir) as api:
        later = api.client.post("/contacts", json={"name": "After the backup"}, headers=auth(key))
        assert later.status_code == 201, later.text

    refused = givefirst(data_dir, "restore", str(backup_dir))

    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    with running_api(data_dir) as api:  # untouched
        assert get_json(api.client, "/contacts", auth(key))["total"] == 2

    forced = givefirst(data_dir, "restore", str(backup_dir), "--force")

    assert forced.returncode == 0, forced.stderr
    with running_api(data_dir) as api:
        listed = get_json(api.client, "/contacts", auth(key))
        assert [item["name"] for item in listed["items"]] == ["In the backup"]
        assert api.client.get("/contacts", headers=auth("gf_nope")).status_code == 401
        error_text(api.client.get("/contacts", headers=auth("gf_nope")))

    not_a_backup = tmp_path / "random"
    not_a_backup.mkdir()
    (not_a_backup / "givefirst-backup.json").write_text('{"format": "something else"}')
    elsewhere = tmp_path / "elsewhere"
    for folder, args, message in [
        (elsewhere, ("restore", str(tmp_path / "missing")), "not a folder made by `givefirst"),
        (elsewhere, ("restore", str(not_a_backup)), "not a Givefirst backup manifest"),
        (elsewhere, ("backup", str(tmp_path / "b2")), "No Givefirst database"),
        (data_dir, ("backup", str(backup_dir)), "not an empty folder"),
    ]:
        result = givefirst(folder, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert message in result.stderr, result.stderr


def test_a_restore_while_the_server_runs_is_refused(tmp_path: Path) -> None:
    data_dir, backup_dir = tmp_path / "data", tmp_path / "backup"
    key, _ = create_key(data_dir, "acme")
    assert givefirst(data_dir, "backup", str(backup_dir)).returncode == 0
    with serving(data_dir) as server:
        result = givefirst(data_dir, "restore", str(backup_dir), "--force")

        assert result.returncode == 1
        assert "givefirst serve" in result.stderr
        health = httpx.get(f"{server.base_url}/contacts", headers=auth(key), timeout=60)
        assert health.status_code == 200, health.text


def test_touches_and_the_touch_address_come_back_with_a_restore(tmp_path: Path) -> None:
    data_dir, backup_dir, restored_dir = tmp_path / "data", tmp_path / "backup", tmp_path / "new"
    key, _ = create_key(data_dir, "acme")
    with running_api(data_dir) as api:
        contact = api.client.post(
            "/contacts", json={"name": "Priya", "email": "priya@example.org"}, headers=auth(key)
        ).json()
        logged = api.client.post(
            f"/contacts/{contact['id']}/touches",
            json={"kind": "meeting", "happened_on": "2025-05-06", "subject": "Coffee"},
            headers=auth(key),
        )
        assert logged.status_code == 201, logged.text
        address = api.client.post("/workspace/touch-address", headers=auth(key)).json()
        before = get_json(api.client, f"/contacts/{contact['id']}/touches", auth(key))
        shown = get_json(api.client, "/workspace/touch-address", auth(key))
    assert address["address"].startswith(shown["prefix"].rstrip("…"))
    assert givefirst(data_dir, "backup", str(backup_dir)).returncode == 0

    restored = givefirst(restored_dir, "restore", str(backup_dir))

    assert restored.returncode == 0, restored.stderr
    with running_api(restored_dir) as api:
        after = get_json(api.client, f"/contacts/{contact['id']}", auth(key))
        assert after["last_contacted_on"] == "2025-05-06"
        assert get_json(api.client, f"/contacts/{contact['id']}/touches", auth(key)) == before
        assert get_json(api.client, "/workspace/touch-address", auth(key)) == shown
