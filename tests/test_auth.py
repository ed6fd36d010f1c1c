"""API keys: who may call what, how keys are stored, and workspaces kept apart.

Isolation is checked route by route: every operation that takes a record id, read from the OpenAPI
document (so a new route is covered as soon as it exists), answers 404 and shows nothing when the
id belongs to another workspace.
"""

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

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
from tests.helpers import HTTP_METHODS, PUBLIC_PATHS, protected_operations


def _protected_operations(client: TestClient) -> list[tuple[str, str]]:
    return protected_operations(client.get("/openapi.json").json())


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


# They store what they show (suggestions; a daily list's appended items).
GETS_THAT_WRITE = frozenset({"/contacts/{contact_id}/suggestions", "/daily"})


def test_openapi_documents_the_errors_every_operation_can_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    assert set(spec["components"]["schemas"]["ErrorBody"]["required"]) == {"message", "detail"}

    for template, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            expected = set()
            if template not in PUBLIC_PATHS:
                expected |= {"401", "429"}
            if "{" in template:
                expected |= {"404", "422"}
            if "requestBody" in operation:
                expected |= {"413", "422"}
            if method != "get" or template in GETS_THAT_WRITE:
                expected.add("503")  # a write behind another process's long write
            responses = operation["responses"]
            for code in expected:
                assert code in responses, f"{method.upper()} {template} does not document {code}"
                schema = responses[code]["content"]["application/json"]["schema"]
                assert schema == error_body, f"{method.upper()} {template} {code}: {schema}"


def test_keys_are_stored_hashed(api: Api) -> None:
    keys = [api.new_key("acme"), api.new_key("acme"), api.new_key("other")]
    for key in keys:
        assert api.client.get("/contacts", headers=auth(key)).status_code == 200

    engine = api.app.state.runtime.engine
    columns = [column["name"] for column in inspect(engine).get_columns("api_keys")]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).fetchall()

    assert len(rows) == len(keys)
    cells = [str(cell) for row in rows for cell in row]
    for key in keys:
        secret = key.removeprefix("gf_")
        assert len(secret) >= 32
        for cell in cells:
            assert key not in cell
            assert secret not in cell
    # Nor anywhere else in the database files (the write-ahead log included; on SQLite, whose
    # files are in the data folder).
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


# --- isolation, route by route ---------------------------------------------------------------

# A valid body for each request schema that a route with an id takes: the request must fail on
# the id (404), not on the body (422). A new schema must be added here, or the test says so.
VALID_BODIES: dict[str, Json] = {
    "ContactUpdate": {"name": "Taken over", "company": "Intruder Inc"},
    "PainPointCreate": {"text": "Injected pain point"},
    "PainPointUpdate": {"text": "Rewritten pain point", "active": True},
    "TouchCreate": {"kind": "meeting", "subject": "Injected touch"},
    "ArticleUpdate": {"title": "Rewritten title", "text": "Rewritten text"},
    "GiveCreate": {"description": "Injected give"},
    "AskCreate": {"description": "Injected ask"},
    "DismissRequest": {"reason": "not_relevant"},
    "SnoozeRequest": {"until": (date.today() + timedelta(7)).isoformat()},
    "RecipientChoice": {"contact_ids": [1]},  # the owner's first contact: a foreign id as well
}


@dataclass(frozen=True)
class Seeded:
    """A workspace with a record of every kind that a path can name, and its private words."""

    headers: Headers
    ids: dict[str, int]
    secrets: tuple[str, ...]


def seed_workspace(client: TestClient, headers: Headers, tag: str) -> Seeded:
    """Two contacts, a pain point, an article, a suggestion, a give, an ask and a feed, all named
    with ``tag`` so that any of them showing up in another workspace's answer is caught."""
    contact = make_contact(
        client,
        headers,
        name=f"{tag} Person",
        company=f"{tag} Holdings",
        email=f"{tag.lower()}@example.com",
        pain_points=[f"{tag} needs a vendor for the employee engagement survey"],
        expertise=[f"{tag} payroll systems"],
    )
    make_contact(
        client, headers, name=f"{tag} Expert", expertise=[f"{tag} engagement survey vendors"]
    )
    article = make_article(
        client,
        headers,
        title=f"{tag} guide to engagement survey vendors",
        url=f"https://example.com/{tag.lower()}/survey",
        text=f"How {tag} chose an employee engagement survey vendor, step by step.",
    )
    suggestions = get_json(client, f"/contacts/{contact['id']}/suggestions", headers)["items"]
    assert suggestions, "the seeded contact should get a suggestion"
    for kind, body in (("gives", {"description": f"{tag} gift"}), ("asks", {"description": "x"})):
        response = client.post(f"/contacts/{contact['id']}/{kind}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    # A feed, subscribed through an OPML list (nothing fetched; the server polls none in tests).
    outline = f'<outline text="{tag} feed" xmlUrl="https://example.com/{tag.lower()}/feed.xml"/>'
    opml = f'<?xml version="1.0"?><opml version="2.0"><body>{outline}</body></opml>'
    files = {"file": ("feeds.opml", opml.encode())}
    assert client.post("/imports/articles", files=files, headers=headers).json()["created"] == 1
    feed = client.get("/feeds", headers=headers).json()["items"][0]
    return Seeded(
        headers=headers,
        ids={
            "contact_id": contact["id"],
            "pain_point_id": contact["pain_points"][0]["id"],
            "article_id": article["id"],
            "suggestion_id": suggestions[0]["id"],
            "feed_id": feed["id"],
        },
        secrets=(tag, tag.lower()),
    )


def workspace_state(client: TestClient, headers: Headers) -> Json:
    """Everything a workspace holds (its whole export, without the export's own timestamp)."""
    document = get_json(client, "/export", headers)
    document.pop("exported_at", None)
    return document


def id_operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every operation whose path names a record by id (a
    daily list item's position is on the caller's own list: tests/test_daily.py)."""
    spec = client.get("/openapi.json").json()
    return [
        (method, template, item[method])
        for template, item in spec["paths"].items()
        for method in HTTP_METHODS
        if method in item and re.search(r"\{\w+_id\}", template)
    ]


def body_for(operation: dict[str, Any], method: str, template: str) -> Json | None:
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return None
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    if name not in VALID_BODIES:
        pytest.fail(f"{method.upper()} {template}: add a valid {name or 'body'} to VALID_BODIES")
    return VALID_BODIES[name]


def test_another_workspaces_ids_are_404_on_every_route_that_takes_an_id(api: Api) -> None:
    client = api.client
    owner = seed_workspace(client, api.headers("workspace-a"), "Zanzibar")
    intruder = seed_workspace(client, api.headers("workspace-b"), "Quillon")
    owner_before = workspace_state(client, owner.headers)
    intruder_before = workspace_state(client, intruder.headers)

    checked: set[tuple[str, str]] = set()
    for method, template, operation in id_operations(client):
        params = re.findall(r"\{([^}]+)\}", template)
        unknown = [p for p in params if p not in owner.ids]
        assert not unknown, f"{template}: seed a record for {unknown} in seed_workspace"
        body = body_for(operation, method, template)
        # Every mix of the owner's ids and the intruder's own, but at least one of the owner's:
        # /contacts/{own contact}/pain-points/{other's pain point} must fail too.
        for whose in itertools.product((owner, intruder), repeat=len(params)):
            if owner not in whose:
                continue
            values = {p: w.ids[p] for p, w in zip(params, whose, strict=True)}
            url = template.format(**values)
            response = client.request(method, url, json=body, headers=intruder.headers)

            assert response.status_code == 404, f"{method.upper()} {url}: {response.text}"
            error_text(response)
            for secret in owner.secrets:
                assert secret not in response.text, f"{method.upper()} {url} shows {secret!r}"
            checked.add((method, template))

    assert len(checked) >= 15, checked
    assert ("patch", "/contacts/{contact_id}/pain-points/{pain_point_id}") in checked
    assert ("post", "/suggestions/{suggestion_id}/dismiss") in checked
    # Nothing was read, written or deleted on either side.
    assert workspace_state(client, owner.headers) == owner_before
    assert workspace_state(client, intruder.headers) == intruder_before


def test_lists_searches_and_exports_show_only_the_callers_records(api: Api) -> None:
    client = api.client
    owner = seed_workspace(client, api.headers("workspace-a"), "Zanzibar")
    intruder = seed_workspace(client, api.headers("workspace-b"), "Quillon")
    build = client.post("/daily", headers=intruder.headers)
    assert build.status_code == 200, build.text

    reads = [
        "/contacts?limit=500",
        "/contacts?q=zanzibar",
        "/articles?limit=500",
        "/articles?q=zanzibar",
        "/daily",
        "/export",
        "/export/contacts.vcf",
        "/export/contacts.csv",
        f"/contacts/{intruder.ids['contact_id']}/suggestions?limit=20",
        f"/articles/{intruder.ids['article_id']}/recipients?limit=100",
        f"/contacts/{intruder.ids['contact_id']}/ledger",
        "/workspace",
    ]
    for url in reads:
        response = client.get(url, headers=intruder.headers)
        assert response.status_code == 200, f"{url}: {response.text}"
        assert "Quillon" in response.text or url.endswith("zanzibar") or url == "/workspace"
        for secret in owner.secrets:
            assert secret not in response.text, f"GET {url} shows {secret!r}"


def test_a_well_formed_key_no_workspace_has_says_which_data_folder_the_server_reads(
    api: Api,
) -> None:
    """The usual cause: a key made by `givefirst keys create` run with another data folder."""
    key = api.new_key("acme")
    unknown = "gf_" + "A" * 43  # the shape of a real key

    response = api.client.get("/contacts", headers=auth(unknown))

    text = _assert_401(response, "get", "/contacts")
    where = api.app.state.settings.records_location()  # the folder, or the database URL's
    assert where in text
    assert "another data folder" in text
    assert api.client.get("/contacts", headers=auth(key)).status_code == 200
    garbled = _assert_401(api.client.get("/contacts", headers=auth("gf_x")), "get", "/contacts")
    assert where not in garbled, "a key of another shape says nothing more"
