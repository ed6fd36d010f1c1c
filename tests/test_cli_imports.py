"""``givefirst import …`` and ``givefirst export``, run for real as subprocesses."""

import json
from pathlib import Path

from tests.conftest import auth, get_json, running_api
from tests.helpers import FIXTURES, create_key, givefirst


def test_import_contacts_and_articles(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")

    contacts = givefirst(
        data_dir, "import", "contacts", str(FIXTURES / "linkedin_connections.csv"), "-w", "acme"
    )
    articles = givefirst(
        data_dir, "import", "articles", str(FIXTURES / "bookmarks_chrome.html"), "-w", "acme"
    )
    again = givefirst(
        data_dir, "import", "contacts", str(FIXTURES / "linkedin_connections.csv"), "-w", "acme"
    )

    assert contacts.returncode == 0, contacts.stderr
    assert "Read as linkedin: 6 created, 0 updated, 0 unchanged, 2 skipped." in contacts.stdout
    assert "skipped: line 9: no first or last name" in contacts.stdout
    assert "warning: line 12:" in contacts.stdout
    assert articles.returncode == 0, articles.stderr
    assert "Read as bookmarks: 3 created" in articles.stdout
    assert "0 created, 0 updated, 6 unchanged" in again.stdout
    with running_api(data_dir) as api:
        assert get_json(api.client, "/contacts", auth(key))["total"] == 6
        assert get_json(api.client, "/articles", auth(key))["total"] == 3


def test_import_refuses_a_bad_file_or_an_unknown_workspace(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")
    latin1 = tmp_path / "contacts.csv"
    latin1.write_bytes("First Name,Last Name,Company,Position\nRené,Müller,X,Y\n".encode("latin-1"))

    bad_file = givefirst(data_dir, "import", "contacts", str(latin1), "-w", "acme")
    wrong_format = givefirst(
        data_dir,
        "import",
        "contacts",
        str(FIXTURES / "google_contacts.csv"),
        "-w",
        "acme",
        "--format",
        "linkedin",
    )
    no_workspace = givefirst(
        data_dir, "import", "contacts", str(FIXTURES / "contacts_v4.vcf"), "-w", "nope"
    )

    assert bad_file.returncode == 1
    assert "UTF-8" in bad_file.stderr
    assert wrong_format.returncode == 1
    assert "not a LinkedIn Connections.csv" in wrong_format.stderr
    assert no_workspace.returncode == 1
    assert "No workspace 'nope'" in no_workspace.stderr
    with running_api(data_dir) as api:
        assert get_json(api.client, "/contacts", auth(key))["total"] == 0


def test_export_then_restore_into_another_workspace(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    create_key(data_dir, "acme")
    create_key(data_dir, "copy")
    givefirst(data_dir, "import", "contacts", str(FIXTURES / "contacts_v3.vcf"), "-w", "acme")
    givefirst(data_dir, "import", "articles", str(FIXTURES / "feed_rss.xml"), "-w", "acme")
    exported = tmp_path / "acme.json"

    written = givefirst(data_dir, "export", "-w", "acme", "-o", str(exported))
    restored = givefirst(data_dir, "import", "workspace", str(exported), "-w", "copy")
    copy = givefirst(data_dir, "export", "-w", "copy")
    vcard = givefirst(data_dir, "export", "-w", "copy", "--format", "vcard")
    refused = givefirst(data_dir, "import", "workspace", str(exported), "-w", "copy")

    assert written.returncode == 0, written.stderr
    assert restored.returncode == 0, restored.stderr
    assert "Restored: 2 contacts, 2 articles" in restored.stdout
    original, again = json.loads(exported.read_text()), json.loads(copy.stdout)
    for document in (original, again):
        del document["exported_at"], document["workspace"]["name"]
    assert again == original
    assert len(original["contacts"]) == 2
    assert vcard.stdout.count("BEGIN:VCARD") == 2
    assert refused.returncode == 1
    assert "empty workspace" in refused.stderr
