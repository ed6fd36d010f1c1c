"""Bad requests get a 4xx whose message names the field, and change nothing that is stored."""

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.schemas import PatchModel
from tests.conftest import Headers, Json, error_text, get_json, make_article, make_contact, snapshot

TOO_BIG = "99999999999999999999"  # more than a 64-bit integer holds
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Seeded:
    """A workspace with one contact (with a pain point) and one article, and its state."""

    client: TestClient
    headers: Headers
    ids: dict[str, int]
    before: Json

    def url(self, template: str) -> str:
        return template.format(**self.ids)


@pytest.fixture
def seeded(client: TestClient, headers: Headers) -> Seeded:
    contact = make_contact(
        client,
        headers,
        name="Ada Lovelace",
        company="Analytical Engines",
        email="ada@example.com",
        pain_points=["Funding the engine"],
        expertise=["mathematics"],
    )
    article = make_article(
        client, headers, title="Notes on the engine", url="https://example.com/n"
    )
    ids = {
        "contact": contact["id"],
        "pain_point": contact["pain_points"][0]["id"],
        "article": article["id"],
    }
    return Seeded(client, headers, ids, snapshot(client, headers))


def _assert_rejected(
    seeded: Seeded, response: Any, status: int, field: str | None, *, json_error: bool = False
) -> None:
    assert response.status_code == status, response.text
    text = error_text(response)
    if status == 422:
        message = response.json().get("message")
        assert isinstance(message, str) and message, response.text
        if field is not None:
            assert field in message, f"{field!r} not named in {message!r}"
        if json_error:
            assert "JSON" in message
    elif field is not None:
        assert field in text, f"{field!r} not named in {text!r}"
    assert snapshot(seeded.client, seeded.headers) == seeded.before


# --- bodies ---------------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, str, Any, str]] = [
    # (method, url template, JSON body, field the message must name)
    ("POST", "/contacts", {"name": "X", "tier": 5}, "tier"),
    ("POST", "/contacts", {"name": "X", "pain_points": "x"}, "pain_points"),
    ("POST", "/contacts", {"name": ""}, "name"),
    ("POST", "/contacts", {"name": "   "}, "name"),
    ("POST", "/contacts", {"company": "No name"}, "name"),
    ("POST", "/contacts", {"name": 42}, "name"),
    ("POST", "/contacts", {"name": "X", "tier": "D"}, "tier"),
    ("POST", "/contacts", {"name": "X", "tier": "a"}, "tier"),
    ("POST", "/contacts", {"name": "n" * 201}, "name"),
    ("POST", "/contacts", {"name": "X", "pain_points": ["p" * 2001]}, "pain_points"),
    ("POST", "/contacts", {"name": "X", "pain_points": [{"text": "p" * 2001}]}, "pain_points"),
    ("POST", "/contacts", {"name": "X", "pain_points": [""]}, "pain_points"),
    ("POST", "/contacts", {"name": "X", "expertise": "rust"}, "expertise"),
    ("POST", "/contacts", {"name": "X", "expertise": ["e" * 501]}, "expertise"),
    ("POST", "/contacts", {"name": "X", "company": "c" * 201}, "company"),
    ("POST", "/contacts", {"name": "X", "nickname": "Y"}, "nickname"),
    ("POST", "/contacts", {"name": "X", "email": "not-an-email"}, "email"),
    ("POST", "/contacts", {"name": "X", "email": "ada@"}, "email"),
    ("POST", "/contacts", {"name": "X", "linkedin_url": "ftp://linkedin.com/in/x"}, "linkedin_url"),
    ("POST", "/contacts", {"name": "X", "linkedin_url": "javascript:alert(1)"}, "linkedin_url"),
    ("POST", "/contacts", {"name": "X", "linkedin_url": "linkedin.com/in/x"}, "linkedin_url"),
    ("POST", "/contacts", {"name": "X", "last_contacted_on": "last week"}, "last_contacted_on"),
    # Not 1970-01-01 (a Unix time), nor a time of day: a date is YYYY-MM-DD.
    ("POST", "/contacts", {"name": "X", "last_contacted_on": 0}, "last_contacted_on"),
    ("POST", "/contacts", {"name": "X", "last_contacted_on": "0"}, "last_contacted_on"),
    (
        "POST",
        "/contacts",
        {"name": "X", "last_contacted_on": "2026-01-01T00:00"},
        "last_contacted_on",
    ),
    ("POST", "/articles", {"title": "T", "saved_on": 1700000000}, "saved_on"),
    # A cadence added to a day in year 9999 would overflow.
    ("POST", "/contacts", {"name": "X", "last_contacted_on": "9999-12-30"}, "last_contacted_on"),
    (
        "POST",
        "/contacts/{contact}/gives",
        {"description": "d", "given_on": "0001-01-01"},
        "given_on",
    ),
    ("POST", "/contacts/{contact}/pain-points", {"text": "p" * 2001}, "text"),
    ("POST", "/contacts/{contact}/pain-points", {"text": "  "}, "text"),
    ("POST", "/contacts/{contact}/pain-points", {}, "text"),
    ("POST", "/contacts/{contact}/pain-points", {"text": "ok", "noted_on": "soon"}, "noted_on"),
    ("POST", "/contacts/{contact}/pain-points", {"text": "ok", "urgent": True}, "urgent"),
    ("PATCH", "/contacts/{contact}", {"name": ""}, "name"),
    ("PATCH", "/contacts/{contact}", {"name": "   "}, "name"),
    ("PATCH", "/contacts/{contact}", {"name": None}, "name"),
    ("PATCH", "/contacts/{contact}", {"name": "n" * 201}, "name"),
    ("PATCH", "/contacts/{contact}", {"tier": "D"}, "tier"),
    ("PATCH", "/contacts/{contact}", {"tier": 5}, "tier"),
    ("PATCH", "/contacts/{contact}", {"company": "New Co", "tier": "D"}, "tier"),
    ("PATCH", "/contacts/{contact}", {"email": "bad"}, "email"),
    ("PATCH", "/contacts/{contact}", {"linkedin_url": "www.linkedin.com/in/x"}, "linkedin_url"),
    ("PATCH", "/contacts/{contact}", {"expertise": None}, "expertise"),
    ("PATCH", "/contacts/{contact}", {"pain_points": ["Sneaky"]}, "pain_points"),
    ("PATCH", "/contacts/{contact}", {"nickname": "Y"}, "nickname"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"text": "p" * 2001}, "text"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"text": ""}, "text"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"active": "maybe"}, "active"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"active": 0}, "active"),
    ("POST", "/contacts/{contact}/pain-points", {"text": "ok", "active": "yes"}, "active"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"noted_on": None}, "noted_on"),
    ("POST", "/articles", {"title": "T", "text": "t" * 200_001}, "text"),
    ("POST", "/articles", {"title": ""}, "title"),
    ("POST", "/articles", {"url": "https://example.com/no-title"}, "title"),
    ("POST", "/articles", {"title": "T", "url": "ftp://example.com/x"}, "url"),
    ("POST", "/articles", {"title": "T", "url": "not a url"}, "url"),
    ("POST", "/articles", {"title": "T", "url": "https://[unclosed"}, "url"),
    # 2,000 characters, 2,001 once normalized (a "/" added): stored, it broke every export.
    ("POST", "/articles", {"title": "T", "url": "https://" + "0" * 1992}, "url"),
    ("PATCH", "/articles/{article}", {"url": "http://[::1/x"}, "url"),
    ("POST", "/articles", {"title": "T", "tags": "x"}, "tags"),
    ("POST", "/articles", {"title": "T", "tags": [""]}, "tags"),
    ("POST", "/articles", {"title": "T", "saved_on": "2024-13-01"}, "saved_on"),
    ("POST", "/articles", {"title": "T", "author": "Me"}, "author"),
    ("PATCH", "/articles/{article}", {"text": "t" * 200_001}, "text"),
    ("PATCH", "/articles/{article}", {"title": None}, "title"),
    ("PATCH", "/articles/{article}", {"title": "   "}, "title"),
    ("PATCH", "/articles/{article}", {"url": "mailto:x@example.com"}, "url"),
    ("PATCH", "/articles/{article}", {"tags": None}, "tags"),
    ("PATCH", "/articles/{article}", {"summary": "New", "saved_on": "never"}, "saved_on"),
    # U+0000: PostgreSQL cannot store it, so no backend takes it.
    ("POST", "/contacts", {"name": "Ada\u0000"}, "name"),
    ("POST", "/contacts", {"name": "X", "pain_points": ["hiring\u0000"]}, "pain_points"),
    ("POST", "/contacts", {"name": "X", "expertise": ["\u0000rust"]}, "expertise"),
    ("PATCH", "/contacts/{contact}", {"notes": "a\u0000b"}, "notes"),
    ("PATCH", "/contacts/{contact}/pain-points/{pain_point}", {"text": "a\u0000"}, "text"),
    ("POST", "/articles", {"title": "T\u0000"}, "title"),
    ("POST", "/articles", {"title": "T", "text": "body\u0000"}, "text"),
    ("POST", "/articles", {"title": "T", "tags": ["a\u0000"]}, "tags"),
    ("POST", "/articles", {"title": "T", "url": "https://example.com/\u0000"}, "url"),
    ("POST", "/contacts/{contact}/gives", {"description": "d\u0000"}, "description"),
]


@pytest.mark.parametrize(
    ("method", "template", "body", "field"),
    BAD_BODIES,
    ids=[f"{m} {t} {f}" for m, t, _, f in BAD_BODIES],
)
def test_bad_body_is_422_naming_the_field(
    seeded: Seeded, method: str, template: str, body: Any, field: str
) -> None:
    response = seeded.client.request(
        method, seeded.url(template), json=body, headers=seeded.headers
    )

    _assert_rejected(seeded, response, 422, field)


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("POST", "/contacts"),
        ("PATCH", "/contacts/{contact}"),
        ("POST", "/contacts/{contact}/pain-points"),
        ("PATCH", "/contacts/{contact}/pain-points/{pain_point}"),
        ("POST", "/articles"),
        ("PATCH", "/articles/{article}"),
        ("PATCH", "/workspace"),
    ],
)
def test_malformed_json_is_422(seeded: Seeded, method: str, template: str) -> None:
    response = seeded.client.request(
        method,
        seeded.url(template),
        content=b'{"name": "X", "title": ',
        headers={**seeded.headers, "Content-Type": "application/json"},
    )

    _assert_rejected(seeded, response, 422, None, json_error=True)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", b'{"name": "\xff\xfe"}'),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nno headers, no end"),
    ],
    ids=["json not utf-8", "broken multipart"],
)
def test_a_body_that_cannot_be_read_is_422_saying_so(
    seeded: Seeded, content_type: str, content: bytes
) -> None:
    path = "/contacts" if content_type == "application/json" else "/imports/contacts"
    response = seeded.client.post(
        path, content=content, headers={**seeded.headers, "Content-Type": content_type}
    )

    _assert_rejected(seeded, response, 422, None)
    assert "cannot be read" in error_text(response)


def test_half_a_character_is_422_not_a_server_error(seeded: Seeded) -> None:
    response = seeded.client.post(
        "/contacts",
        content=b'{"name": "Ada \\ud800 Lovelace"}',  # a lone surrogate: not text
        headers={**seeded.headers, "Content-Type": "application/json"},
    )

    _assert_rejected(seeded, response, 422, "name")


def test_saving_a_host_that_is_no_valid_name_is_422_not_a_server_error(seeded: Seeded) -> None:
    response = seeded.client.post(
        "/articles/from-url", json={"url": "https://\u0086\u0102/page"}, headers=seeded.headers
    )

    _assert_rejected(seeded, response, 422, "not a valid web address")


@pytest.mark.parametrize("body", [[], "just a string", 42, None])
def test_a_body_that_is_not_an_object_is_422(seeded: Seeded, body: Any) -> None:
    response = seeded.client.post("/contacts", json=body, headers=seeded.headers)

    _assert_rejected(seeded, response, 422, None)


def test_a_rejected_patch_leaves_the_record_as_it_was(seeded: Seeded) -> None:
    url = seeded.url("/contacts/{contact}")
    before = get_json(seeded.client, url, seeded.headers)

    response = seeded.client.patch(
        url,
        json={"name": "Changed", "company": "Changed", "email": "not-an-email"},
        headers=seeded.headers,
    )

    _assert_rejected(seeded, response, 422, "email")
    assert get_json(seeded.client, url, seeded.headers) == before


# --- ids ------------------------------------------------------------------------------------

ID_ROUTES: list[tuple[str, str, Json | None, str]] = [
    # (method, url template with {id}, body, the path parameter's name)
    ("GET", "/contacts/{id}", None, "contact_id"),
    ("PATCH", "/contacts/{id}", {"company": "X"}, "contact_id"),
    ("DELETE", "/contacts/{id}", None, "contact_id"),
    ("POST", "/contacts/{id}/pain-points", {"text": "X"}, "contact_id"),
    ("PATCH", "/contacts/{contact}/pain-points/{id}", {"text": "X"}, "pain_point_id"),
    ("DELETE", "/contacts/{contact}/pain-points/{id}", None, "pain_point_id"),
    ("GET", "/articles/{id}", None, "article_id"),
    ("PATCH", "/articles/{id}", {"title": "X"}, "article_id"),
    ("DELETE", "/articles/{id}", None, "article_id"),
]
ROUTE_IDS = [f"{m} {t}" for m, t, _, _ in ID_ROUTES]


@pytest.mark.parametrize(("method", "template", "body", "param"), ID_ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("record_id", ["987654", str(INT64_MAX)])
def test_unknown_id_is_404(
    seeded: Seeded, method: str, template: str, body: Json | None, param: str, record_id: str
) -> None:
    url = template.format(id=record_id, contact=seeded.ids["contact"])

    response = seeded.client.request(method, url, json=body, headers=seeded.headers)

    _assert_rejected(seeded, response, 404, record_id)


@pytest.mark.parametrize(("method", "template", "body", "param"), ID_ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("record_id", [TOO_BIG, str(INT64_MAX + 1), "0", "-1", "abc", "1.5"])
def test_invalid_id_is_422_not_500(
    seeded: Seeded, method: str, template: str, body: Json | None, param: str, record_id: str
) -> None:
    url = template.format(id=record_id, contact=seeded.ids["contact"])

    response = seeded.client.request(method, url, json=body, headers=seeded.headers)

    _assert_rejected(seeded, response, 422, param)


def test_a_too_large_contact_id_in_a_pain_point_route_is_422(seeded: Seeded) -> None:
    url = f"/contacts/{TOO_BIG}/pain-points/{seeded.ids['pain_point']}"

    response = seeded.client.delete(url, headers=seeded.headers)

    _assert_rejected(seeded, response, 422, "contact_id")


# --- query parameters -----------------------------------------------------------------------

BAD_QUERIES: list[tuple[str, dict[str, str], str]] = [
    ("/contacts", {"limit": "-1"}, "limit"),
    ("/contacts", {"limit": "0"}, "limit"),
    ("/contacts", {"limit": "501"}, "limit"),
    ("/contacts", {"limit": "ten"}, "limit"),
    ("/contacts", {"offset": "-1"}, "offset"),
    ("/contacts", {"tier": "D"}, "tier"),
    ("/contacts", {"q": "q" * 201}, "q"),
    ("/articles", {"limit": "-1"}, "limit"),
    ("/articles", {"limit": "501"}, "limit"),
    ("/articles", {"offset": "-5"}, "offset"),
    ("/articles", {"q": "q" * 201}, "q"),
    ("/articles", {"tag": "t" * 101}, "tag"),
    ("/daily", {"date": "0"}, "date"),
    ("/daily", {"date": "1700000000"}, "date"),
    ("/daily", {"date": "2026-02-30"}, "date"),
]


@pytest.mark.parametrize(
    ("path", "params", "field"), BAD_QUERIES, ids=[f"{p} {q}"[:60] for p, q, _ in BAD_QUERIES]
)
def test_bad_query_parameter_is_422(
    seeded: Seeded, path: str, params: dict[str, str], field: str
) -> None:
    response = seeded.client.get(path, params=params, headers=seeded.headers)

    _assert_rejected(seeded, response, 422, field)


@pytest.mark.parametrize("path", ["/contacts", "/articles"])
def test_limit_500_is_allowed(seeded: Seeded, path: str) -> None:
    page = get_json(seeded.client, path, seeded.headers, limit=500)

    assert page["limit"] == 500
    assert page["total"] == 1


@pytest.mark.parametrize("path", ["/contacts", "/articles"])
@pytest.mark.parametrize("offset", [TOO_BIG, str(INT64_MAX + 1)])
def test_an_offset_too_large_for_the_database_is_not_a_server_error(
    seeded: Seeded, path: str, offset: str
) -> None:
    response = seeded.client.get(path, params={"offset": offset}, headers=seeded.headers)

    assert response.status_code in (200, 422), f"{response.status_code}: {response.text}"
    if response.status_code == 422:
        assert "offset" in response.json()["message"]
    else:
        assert response.json()["items"] == []
    assert snapshot(seeded.client, seeded.headers) == seeded.before


def test_every_route_rejects_ids_too_large_for_the_database(seeded: Seeded) -> None:
    """Each path parameter of each route in the OpenAPI document, set to a huge number."""
    spec = seeded.client.get("/openapi.json").json()
    checked = 0
    for template, item in spec["paths"].items():
        params = re.findall(r"\{([^}]+)\}", template)
        for method in ("get", "post", "put", "patch", "delete"):
            if method not in item or not params:
                continue
            url = re.sub(r"\{[^}]+\}", TOO_BIG, template)
            response = seeded.client.request(method, url, json={}, headers=seeded.headers)
            assert response.status_code == 422, f"{method.upper()} {url}: {response.text}"
            message = response.json()["message"]
            for param in params:
                assert param in message, f"{method.upper()} {template}: {message}"
            checked += 1
    assert checked >= len(ID_ROUTES)
    assert snapshot(seeded.client, seeded.headers) == seeded.before


def test_every_operation_refuses_a_query_parameter_it_does_not_take(seeded: Seeded) -> None:
    """Each operation in the OpenAPI document, with a misspelt parameter: a 422 naming it (and
    the parameters the operation does take), before anything is read or written."""
    spec = seeded.client.get("/openapi.json").json()
    checked = 0
    for template, item in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in item.items():
            takes = sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            response = seeded.client.request(
                method, url, params={"limt": "5"}, json={}, headers=seeded.headers
            )
            assert response.status_code == 422, f"{method.upper()} {url}: {response.text}"
            message = response.json()["message"]
            assert "limt" in message, message
            assert all(name in message for name in takes), message
            checked += 1
    assert checked >= 25
    assert snapshot(seeded.client, seeded.headers) == seeded.before

    # The parameters an operation documents are still taken.
    response = seeded.client.get("/contacts", params={"limit": "1"}, headers=seeded.headers)
    assert response.status_code == 200 and len(response.json()["items"]) == 1


# --- methods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/contacts/{contact}", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/contacts", {"GET", "POST"}),
        ("POST", "/workspace", {"GET", "PATCH"}),
        ("GET", "/contacts/{contact}/pain-points/{pain_point}", {"PATCH", "DELETE"}),
    ],
)
def test_a_method_the_path_does_not_take_is_405_listing_every_method_it_takes(
    seeded: Seeded, method: str, path: str, allowed: set[str]
) -> None:
    response = seeded.client.request(method, seeded.url(path), headers=seeded.headers)

    assert response.status_code == 405, response.text
    assert set(response.headers["allow"].split(", ")) == allowed
    error_text(response)
    assert snapshot(seeded.client, seeded.headers) == seeded.before


# --- the document promises what the service does --------------------------------------------


def test_the_document_offers_null_only_where_null_is_accepted(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    patch_models = [m for m in PatchModel.__subclasses__() if m.not_nullable]
    assert len(patch_models) >= 4
    for model in patch_models:
        properties = schemas[model.__name__]["properties"]
        for name in model.not_nullable:
            assert "null" not in json.dumps(properties[name]), f"{model.__name__}.{name}"
    for body in (
        "Body_import_contacts_imports_contacts_post",
        "Body_import_articles_imports_articles_post",
    ):
        assert "null" not in json.dumps(schemas[body]["properties"]["format"])
