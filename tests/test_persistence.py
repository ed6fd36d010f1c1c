"""Records outlive the process: a new app on the same data folder sees everything stored."""

from pathlib import Path

from tests.conftest import (
    auth,
    database_url,
    get_json,
    make_article,
    make_contact,
    running_api,
    snapshot,
)


def test_records_survive_a_restart(data_dir: Path) -> None:
    with running_api(data_dir) as api:
        client = api.client
        key = api.new_key("acme")
        other_key = api.new_key("other")
        revoked_key = api.new_key("acme")
        api.revoke(revoked_key)
        headers = auth(key)

        contact = make_contact(
            client,
            headers,
            name="Katherine Johnson",
            company="NASA",
            tier="A",
            last_contacted_on="2025-02-01",
            pain_points=["Orbital maths", {"text": "Old computers", "noted_on": "2020-01-01"}],
            expertise=["trajectories", "checking"],
        )
        resolved = contact["pain_points"][1]
        assert (
            client.delete(
                f"/contacts/{contact['id']}/pain-points/{resolved['id']}", headers=headers
            ).status_code
            == 200
        )
        added = client.post(
            f"/contacts/{contact['id']}/pain-points", json={"text": "Recognition"}, headers=headers
        )
        assert added.status_code == 201, added.text
        removed = make_contact(client, headers, name="Removed")
        assert client.delete(f"/contacts/{removed['id']}", headers=headers).status_code == 204
        article = make_article(
            client, headers, title="Hidden figures", url="https://example.com/hf", tags=["space"]
        )
        assert (
            client.patch("/workspace", json={"cadence_a_days": 45}, headers=headers).status_code
            == 200
        )
        make_contact(client, auth(other_key), name="Someone else")

        before = snapshot(client, headers)
        other_before = snapshot(client, auth(other_key))

    if database_url(data_dir) is None:
        assert (data_dir / "givefirst.sqlite3").is_file()

    with running_api(data_dir) as api:
        client = api.client
        after = snapshot(client, headers)
        assert after == before
        assert snapshot(client, auth(other_key)) == other_before
        assert client.get("/contacts", headers=auth(revoked_key)).status_code == 401

        stored = get_json(client, f"/contacts/{contact['id']}", headers)
        assert stored["name"] == "Katherine Johnson"
        assert stored["expertise"] == ["trajectories", "checking"]
        assert [(p["text"], p["active"]) for p in stored["pain_points"]] == [
            ("Orbital maths", True),
            ("Old computers", False),
            ("Recognition", True),
        ]
        assert stored["next_due_on"] == "2025-03-18"  # 2025-02-01 + the workspace's 45 days
        assert client.get(f"/contacts/{removed['id']}", headers=headers).status_code == 404
        assert get_json(client, f"/articles/{article['id']}", headers)["tags"] == ["space"]
        assert get_json(client, "/workspace", headers)["cadence_days"]["A"] == 45

        # Saving the same URL after the restart still finds the stored article.
        again = client.post(
            "/articles",
            json={"title": "Hidden figures", "url": "https://EXAMPLE.com/hf"},
            headers=headers,
        )
        assert again.status_code == 200, again.text
        assert again.json()["id"] == article["id"]

        # New records get new ids next to the old ones.
        fresh = make_contact(client, headers, name="Dorothy Vaughan")
        assert fresh["id"] != contact["id"]
        assert get_json(client, "/contacts", headers)["total"] == 2


def test_an_empty_data_folder_is_created_and_migrated(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"

    with running_api(data_dir) as api:
        key = api.new_key("acme")
        assert api.client.get("/contacts", headers=auth(key)).status_code == 200

    if database_url(data_dir) is None:
        assert (data_dir / "givefirst.sqlite3").is_file()
    with running_api(data_dir) as api:  # migrating an up-to-date database is a no-op
        assert api.client.get("/contacts", headers=auth(key)).json()["total"] == 0
