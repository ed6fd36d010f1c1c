"""The ``givefirst`` console command, run for real as a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.models import Workspace
from tests.conftest import auth, get_json, make_contact, running_api
from tests.helpers import (
    COMMAND_TIMEOUT_S,
    create_key,
    givefirst,
    givefirst_command,
    protected_operations,
    serving,
)


def list_keys(data_dir: Path) -> list[list[str]]:
    """``givefirst keys list`` as rows of tab-separated columns."""
    result = givefirst(data_dir, "keys", "list")
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines() if line.strip()]


def key_id_for(data_dir: Path, key: str) -> str:
    """The id ``keys list`` shows for ``key`` (found by its prefix)."""
    rows = [row for row in list_keys(data_dir) if key.startswith(row[2].rstrip("…"))]
    assert len(rows) == 1, rows
    return rows[0][0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


# --- keys -----------------------------------------------------------------------------------


def test_keys_create_prints_a_key_that_works(data_dir: Path) -> None:
    key, result = create_key(data_dir, "acme")

    assert "Created workspace 'acme'" in result.stdout
    assert len(key) > 32
    with running_api(data_dir) as api:
        assert get_json(api.client, "/workspace", auth(key))["name"] == "acme"
        make_contact(api.client, auth(key), name="Made with a CLI key")
        assert get_json(api.client, "/contacts", auth(key))["total"] == 1


def test_the_data_folder_defaults_to_the_users_data_folder_wherever_a_command_runs(
    tmp_path: Path,
) -> None:
    """Without GIVEFIRST_DATA_DIR every command finds the same records, from any folder, and
    says where they are; nothing is created in the folder the command runs from."""
    user_data, elsewhere = tmp_path / "xdg-data", tmp_path / "some-project"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIVEFIRST_")}
    env["XDG_DATA_HOME"] = str(user_data)

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            givefirst_command(*args),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=True,
        )

    created = run("keys", "create", "acme", cwd=elsewhere)
    listed = run("keys", "list", cwd=tmp_path)

    folder = user_data / "givefirst"
    assert (folder / "givefirst.sqlite3").is_file()
    assert f"Records: the data folder {folder}" in created.stderr
    assert "acme" in listed.stdout, "a command run from another folder sees the same key"
    assert list(elsewhere.iterdir()) == [], "no ./data appears where the command ran"


def test_the_key_commands_load_no_embedding_or_search_code() -> None:
    """`givefirst keys …` touch the records only: the model and the vector engine stay unloaded
    (they cost seconds to import)."""
    code = (
        "import sys\n"
        "from app.cli import cli\n"
        "heavy = ('torch', 'sentence_transformers', 'onnxruntime', 'qdrant_edge', "
        "'qdrant_client', 'app.runtime', 'app.suggestions.engine')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_keys_create_twice_reuses_the_workspace(data_dir: Path) -> None:
    first, _ = create_key(data_dir, "acme")
    second, result = create_key(data_dir, "acme")

    assert "Using workspace 'acme'" in result.stdout
    assert first != second
    with running_api(data_dir) as api:
        with api.app.state.runtime.engine.connect() as connection:
            names = list(connection.execute(select(Workspace.name)).scalars())
        assert names == ["acme"]
        contact = make_contact(api.client, auth(first), name="Shared")
        listed = get_json(api.client, "/contacts", auth(second))
        assert [item["id"] for item in listed["items"]] == [contact["id"]]


def test_keys_list_shows_keys_without_revealing_them(data_dir: Path) -> None:
    acme, _ = create_key(data_dir, "acme")
    other, _ = create_key(data_dir, "other")

    result = givefirst(data_dir, "keys", "list")

    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines() if line.strip()]
    assert [(row[1], row[4]) for row in rows] == [("acme", "active"), ("other", "active")]
    assert len({row[0] for row in rows}) == 2
    for key, row in zip([acme, other], rows, strict=True):
        assert key.startswith(row[2].rstrip("…"))
        assert key not in result.stdout


def test_keys_revoke_makes_the_key_fail(data_dir: Path) -> None:
    revoked, _ = create_key(data_dir, "acme")
    kept, _ = create_key(data_dir, "acme")
    key_id = key_id_for(data_dir, revoked)

    with running_api(data_dir) as api:
        assert api.client.get("/contacts", headers=auth(revoked)).status_code == 200

        result = givefirst(data_dir, "keys", "revoke", key_id)

        assert result.returncode == 0, result.stderr
        assert f"Key {key_id} revoked" in result.stdout
        # It stops working at once, without a restart.
        response = api.client.get("/contacts", headers=auth(revoked))
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"].lower()
        assert api.client.get("/contacts", headers=auth(kept)).status_code == 200

    statuses = {row[0]: row[4] for row in list_keys(data_dir)}
    assert statuses[key_id].startswith("revoked")
    assert statuses[key_id_for(data_dir, kept)] == "active"


def test_keys_revoke_an_unknown_id_fails(data_dir: Path) -> None:
    create_key(data_dir, "acme")

    result = givefirst(data_dir, "keys", "revoke", "9999")

    assert result.returncode == 1
    assert "9999" in result.stderr
    assert all(row[4] == "active" for row in list_keys(data_dir))


@pytest.mark.parametrize("name", ["   ", "w" * 101])
def test_keys_create_rejects_a_bad_workspace_name(data_dir: Path, name: str) -> None:
    result = givefirst(data_dir, "keys", "create", name)

    assert result.returncode == 2
    assert "workspace name" in result.stderr
    assert "gf_" not in result.stdout
    assert list_keys(data_dir) == []


# --- serve ----------------------------------------------------------------------------------


def test_serve_prints_a_first_key_that_works(data_dir: Path) -> None:
    with serving(data_dir) as server:
        health = httpx.get(f"{server.base_url}/health", timeout=5)
        assert health.json() == {"status": "ok"}
        key = server.printed_key()
        assert key is not None, server.output()
        assert "workspace 'default'" in server.output()

        contacts = httpx.get(f"{server.base_url}/contacts", headers=auth(key), timeout=10)
        assert contacts.status_code == 200, contacts.text
        assert contacts.json()["total"] == 0
        created = httpx.post(
            f"{server.base_url}/contacts", json={"name": "Via serve"}, headers=auth(key), timeout=10
        )
        assert created.status_code == 201, created.text
        assert httpx.get(f"{server.base_url}/contacts", timeout=10).status_code == 401
        docs = httpx.get(f"{server.base_url}/docs", timeout=10)
        assert docs.status_code == 200

    # A second start on the same folder prints no new key; the first one still works.
    with serving(data_dir) as server:
        assert server.printed_key() is None, server.output()
        contacts = httpx.get(f"{server.base_url}/contacts", headers=auth(key), timeout=10)
        assert contacts.status_code == 200, contacts.text
        assert [item["name"] for item in contacts.json()["items"]] == ["Via serve"]


def test_a_key_revoked_while_serve_runs_is_refused_at_once_everywhere(data_dir: Path) -> None:
    revoked, _ = create_key(data_dir, "acme")
    kept, _ = create_key(data_dir, "acme")
    other, _ = create_key(data_dir, "other")
    with serving(data_dir) as server:
        created = httpx.post(
            f"{server.base_url}/contacts", json={"name": "Kept"}, headers=auth(revoked), timeout=30
        )
        assert created.status_code == 201, created.text
        operations = protected_operations(httpx.get(f"{server.base_url}/openapi.json").json())

        result = givefirst(data_dir, "keys", "revoke", key_id_for(data_dir, revoked))

        assert result.returncode == 0, result.stderr
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for method, path in operations:
                response = client.request(method, path, headers=auth(revoked))
                assert response.status_code == 401, f"{method.upper()} {path}: {response.text}"
                assert "revoked" in response.json()["message"].lower()
            # The workspace's other key, and other workspaces, go on as before.
            listed = client.get("/contacts", headers=auth(kept))
            assert [item["name"] for item in listed.json()["items"]] == ["Kept"]
            assert client.get("/contacts", headers=auth(other)).json()["total"] == 0
    rows = {row[0]: row[4] for row in list_keys(data_dir)}
    assert rows[key_id_for(data_dir, revoked)].startswith("revoked")
    assert rows[key_id_for(data_dir, kept)] == "active"
