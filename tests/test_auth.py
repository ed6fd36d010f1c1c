"""API keys: who may call what, how keys are stored, and workspaces kept apart."""

import re
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    Api,
    Headers,
    Json,
    auth,
    error_text,
    get_json,
    make_article,
    make_contact,
    snapshot,
)

PUBLIC_PATHS = frozenset({"/health", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"})
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, concrete path) the OpenAPI document lists, path parameters set to 1."""
    spec = client.get("/openapi.json").json()
    operations = []
    for template, item in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        operations += [(method, path) for method in HTTP_METHODS if method in item]
    return operations


def _protected_operations(client: TestClient) -> list[tuple[str, str]]:
    operations = [(m, p) for m, p in _operations(client) if p not in PUBLIC_PATHS]
    # The resources the service is built around must be among them.
    paths = {p for _, p in operations}
    assert {"/contacts", "/contacts/1", "/articles", "/articles/1", "/workspace"} <= paths
    assert "/contacts/1/pain-points/1" in paths
    return operations


def _assert_401(response: Any, method: str, path: str) -> str:
    assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    text = error_text(response)
    assert "key" in text.lower(), text
    return text


def test_every_endpoint_but_health_and_docs_needs_a_key(client: TestClient) -> None:
    for method, path in _protected_operations(client):
        response = client.request(method, path)
        text = _assert_401(response, method, path)
        assert "Authorization: Bearer" in text


def test_a_wrong_key_is_401_everywhere(api: Api) -> None:
    api.new_key("acme")  # a real key exists; the one sent is not it
    wrong = auth("gf_not-a-real-key")
    for method, path in _protected_operations(api.client):
        _assert_401(api.client.request(method, path, headers=wrong), method, path)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Token gf_whatever",
        "gf_whatever",
    ],
)
def test_a_malformed_authorization_header_is_401(client: TestClient, header: str) -> None:
    response = client.get("/contacts", headers={"Authorization": header})

    _assert_401(response, "get", "/contacts")


def test_a_valid_key_is_accepted(api: Api) -> None:
    key = api.new_key("acme")

    response = api.client.get("/contacts", headers=auth(key))

    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0
    assert get_json(api.client, "/workspace", auth(key))["name"] == "acme"


def test_a_revoked_key_is_401_and_other_keys_still_work(api: Api) -> None:
    revoked = api.new_key("acme")
    kept = api.new_key("acme")
    assert api.client.get("/contacts", headers=auth(revoked)).status_code == 200

    api.revoke(revoked)

    response = api.client.get("/contacts", headers=auth(revoked))
    text = _assert_401(response, "get", "/contacts")
    assert "revoked" in text.lower()
    assert api.client.post("/contacts", json={"name": "X"}, headers=auth(revoked)).status_code == (
        401
    )
    assert api.client.get("/contacts", headers=auth(kept)).status_code == 200


def test_health_and_docs_need_no_key(client: TestClient) -> None:
    health = client.get("/health")
    docs = client.get("/docs")
    spec = client.get("/openapi.json")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Givefirst"


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    schemes = spec["components"]["securitySchemes"]
    bearer = [
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and str(scheme.get("scheme")).lower() == "bearer"
    ]
    assert len(bearer) == 1, schemes
    name = bearer[0]
    for template, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            security = item[method].get("security", [])
            if template in PUBLIC_PATHS:
                assert security == [], f"{method} {template} should need no key"
            else:
                assert {name: []} in security, f"{method.upper()} {template} lacks the scheme"


def test_keys_are_stored_hashed(api: Api) -> None:
    keys = [api.new_key("acme"), api.new_key("acme"), api.new_key("other")]
    for key in keys:
        assert api.client.get("/contacts", headers=auth(key)).status_code == 200

    database = api.data_dir / "givefirst.sqlite3"
    with sqlite3.connect(database) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(api_keys)")]
        rows = connection.execute("SELECT * FROM api_keys").fetchall()
    connection.close()

    assert len(rows) == len(keys)
    cells = [str(cell) for row in rows for cell in row]
    for key in keys:
        secret = key.removeprefix("gf_")
        assert len(secret) >= 32
        for cell in cells:
            assert key not in cell
            assert secret not in cell
    # Nor anywhere else in the database files (the write-ahead log included).
    for path in api.data_dir.glob("givefirst.sqlite3*"):
        content = path.read_bytes()
        for key in keys:
            assert key.encode() not in content, path.name
    assert "key_hash" in columns


# --- isolation ------------------------------------------------------------------------------


def _seed_workspace_a(client: TestClient, headers: Headers) -> tuple[Json, Json, Json]:
    contact = make_contact(
        client,
        headers,
        name="Alice Private",
        company="Secret Co",
        pain_points=["Raising a seed round"],
        expertise=["fundraising"],
    )
    pain_point = contact["pain_points"][0]
    article = make_article(
        client, headers, title="Private reading", url="https://example.com/private", tags=["vc"]
    )
    return contact, pain_point, article


def test_another_workspace_cannot_touch_records(api: Api) -> None:
    client = api.client
    a = api.headers("workspace-a")
    b = api.headers("workspace-b")
    contact, pain_point, article = _seed_workspace_a(client, a)
    a_before = snapshot(client, a)
    own_contact = make_contact(client, b, name="Bob Own")

    contact_url = f"/contacts/{contact['id']}"
    pain_point_url = f"{contact_url}/pain-points/{pain_point['id']}"
    foreign_pain_point_url = f"/contacts/{own_contact['id']}/pain-points/{pain_point['id']}"
    article_url = f"/articles/{article['id']}"
    attempts: list[tuple[str, str, Json | None]] = [
        ("GET", contact_url, None),
        ("PATCH", contact_url, {"name": "Hacked"}),
        ("DELETE", contact_url, None),
        ("POST", f"{contact_url}/pain-points", {"text": "Injected"}),
        ("PATCH", pain_point_url, {"text": "Hacked"}),
        ("DELETE", pain_point_url, None),
        ("PATCH", foreign_pain_point_url, {"text": "Hacked"}),
        ("DELETE", foreign_pain_point_url, None),
        ("GET", article_url, None),
        ("PATCH", article_url, {"title": "Hacked"}),
        ("DELETE", article_url, None),
    ]
    for method, url, body in attempts:
        response = client.request(method, url, json=body, headers=b)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        error_text(response)

    assert snapshot(client, a) == a_before


def test_lists_and_searches_show_only_the_callers_workspace(api: Api) -> None:
    client = api.client
    a = api.headers("workspace-a")
    b = api.headers("workspace-b")
    contact, _, article = _seed_workspace_a(client, a)
    own_contact = make_contact(client, b, name="Bob Own")

    contacts = get_json(client, "/contacts", b)
    articles = get_json(client, "/articles", b)

    assert [item["id"] for item in contacts["items"]] == [own_contact["id"]]
    assert contacts["total"] == 1
    assert articles == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert get_json(client, "/contacts", b, q="Alice")["total"] == 0
    assert get_json(client, "/contacts", b, q="secret")["total"] == 0
    assert get_json(client, "/articles", b, q="private")["total"] == 0
    assert get_json(client, "/articles", b, tag="vc")["total"] == 0
    assert get_json(client, "/workspace", b)["name"] == "workspace-b"
    assert [item["id"] for item in get_json(client, "/contacts", a)["items"]] == [contact["id"]]
    assert [item["id"] for item in get_json(client, "/articles", a)["items"]] == [article["id"]]


def test_the_same_url_in_two_workspaces_is_two_articles(api: Api) -> None:
    client = api.client
    a = api.headers("workspace-a")
    b = api.headers("workspace-b")
    _, _, article = _seed_workspace_a(client, a)
    a_before = snapshot(client, a)

    response = client.post("/articles", json={"title": "Mine", "url": article["url"]}, headers=b)

    assert response.status_code == 201, response.text
    assert response.json()["created"] is True
    assert response.json()["id"] != article["id"]
    assert snapshot(client, a) == a_before


def test_workspace_settings_are_per_workspace(api: Api) -> None:
    client = api.client
    a = api.headers("workspace-a")
    b = api.headers("workspace-b")
    a_before = get_json(client, "/workspace", a)

    response = client.patch(
        "/workspace", json={"cadence_a_days": 7, "default_tier": "C"}, headers=b
    )

    assert response.status_code == 200, response.text
    assert get_json(client, "/workspace", b)["cadence_days"]["A"] == 7
    assert get_json(client, "/workspace", a) == a_before
