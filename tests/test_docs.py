"""The API's own documentation: Swagger UI and ReDoc served with no internet, and an OpenAPI
document a person can use from "Try it out" (a summary and a description on every operation,
an example on every request body that succeeds when sent unchanged)."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, Headers, Json, error_text, make_article, make_contact

# Where a page points a browser at another file: a tag attribute, or Swagger UI's ``url:``.
_REFERENCE = re.compile(r"""(?:\b(?:src|href|spec-url)\s*=\s*"|\burl:\s*')([^"']+)""")
_CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_documentation_pages_load_everything_from_the_app(
    client: TestClient, page: str
) -> None:
    response = client.get(page)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    # No address of another host anywhere in the page: not a script, a style, a font or an icon.
    assert "://" not in response.text, re.findall(r"\S*://\S*", response.text)
    references = _REFERENCE.findall(response.text)
    if page == "/docs/oauth2-redirect":
        return  # a script alone, that hands Swagger UI what it was given: it loads nothing
    assert references, "the page loads nothing: the pattern no longer finds its files"
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        suffix = reference[reference.rfind(".") :]
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in _CONTENT_TYPES[suffix], (reference, content_type)
        assert len(asset.content) > 1000, reference  # the real file, not an empty one


def test_swagger_ui_and_redoc_scripts_are_the_real_bundles(client: TestClient) -> None:
    swagger = client.get("/docs-assets/swagger-ui-bundle.js").text
    redoc = client.get("/docs-assets/redoc.standalone.js").text
    assert "SwaggerUIBundle" in swagger
    assert "Redoc" in redoc


def _operations(spec: Json) -> list[tuple[str, str, Json]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_a_summary_and_a_description(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = _operations(spec)
    assert len(operations) > 30
    for method, path, operation in operations:
        assert operation.get("summary", "").strip(), f"{method.upper()} {path}: no summary"
        assert operation.get("description", "").strip(), f"{method.upper()} {path}: no description"


def _records(api: Api, headers: Headers) -> dict[str, int]:
    """A record for every kind of path parameter: a contact with a pain point, an article, an
    open suggestion, and a day's list with an item at position 1."""
    client = api.client
    contact = make_contact(client, headers, tier="A", pain_points=["Hiring a first engineer"])
    other = make_contact(client, headers, name="Grace Hopper", tier="A")
    # Contacts 3 and 4, whom the article helps (the RecipientChoice example names them).
    readers = [
        make_contact(client, headers, name=name, pain_points=[pain])
        for name, pain in (
            ("Ken Ito", "Hiring our first engineer"),
            ("Lea Roy", "How to hire a first software engineer"),
        )
    ]
    assert [r["id"] for r in readers] == [3, 4]
    article = make_article(client, headers, text="Hiring your first engineer, step by step.")
    suggestions = client.get(f"/contacts/{other['id']}/suggestions", headers=headers)
    assert suggestions.status_code == 200, suggestions.text
    daily = client.post("/daily", headers=headers)
    assert daily.status_code == 200, daily.text
    assert daily.json()["items"], "the day's list is empty: no position to snooze"
    return {
        "contact_id": contact["id"],
        "pain_point_id": contact["pain_points"][0]["id"],
        "article_id": article["id"],
        "suggestion_id": suggestions.json()["items"][0]["id"],
        "position": 1,
    }


def test_every_request_body_example_succeeds_when_sent_unchanged(api: Api) -> None:
    headers = api.headers()
    spec = api.client.get("/openapi.json").json()
    records = _records(api, headers)
    sent = 0
    for method, path, operation in _operations(spec):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        examples = content["application/json"].get("examples")
        assert examples, f"{method.upper()} {path}: no example"
        body = next(iter(examples.values()))["value"]
        url = re.sub(r"\{(\w+)\}", lambda m: str(records[m.group(1)]), path)
        response = api.client.request(method, url, json=body, headers=headers)
        if path in ("/articles/from-url", "/feeds"):
            # The examples that need the internet: offline, the page cannot be fetched, and
            # the answer says so (not that the body is wrong).
            assert response.status_code in (200, 201) or (
                response.status_code == 422 and "url:" not in error_text(response)
            ), response.text
        else:
            assert 200 <= response.status_code < 300, f"{method.upper()} {path}: {response.text}"
        sent += 1
    assert sent == 16  # and the uploads, which are files (multipart)


# A regular expression, or a name only pydantic uses, in a message meant for a person.
_MACHINE_WORDS = re.compile(r"\^|\$|\[A|\\s|string_|Input should|Value error|PainPointCreate")


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("post", "/contacts", {"name": "Ana", "tier": "D"}, "tier: must be A, B or C"),
        ("post", "/contacts", {"tier": "A"}, "name: is required"),
        ("post", "/contacts", {"name": "x" * 201}, "name: must be at most 200 characters"),
        ("post", "/contacts", {"name": "  "}, "name: must not be empty"),
        ("post", "/contacts", {"name": "Ana", "tier": 5}, "tier: must be text"),
        ("post", "/contacts", {"name": "Ana", "phones": "555"}, "phones: must be a list"),
        ("post", "/contacts", {"name": "Ana", "nmae": "x"}, "nmae: is not a field"),
        (
            "post",
            "/contacts",
            {"name": "Ana", "last_contacted_on": "1912-53-46"},
            "last_contacted_on: must be a real date like 2026-11-22",
        ),
        (
            "post",
            "/contacts",
            {"name": "Ana", "linkedin_url": "ftp://example.org/ana"},
            "linkedin_url: must be a web address starting with http:// or https://",
        ),
        (
            "post",
            "/contacts",
            {"name": "Ana", "pain_points": [{"text": ""}]},
            "pain_points[0].text: must not be empty",
        ),
        (
            "post",
            "/articles",
            {"title": "T", "tags": ["t"] * 51},
            "tags: must have at most 50 items",
        ),
        (
            "post",
            "/articles",
            {"title": "T", "saved_on": "22/11/2026"},
            "saved_on: use a date like",
        ),
        ("patch", "/workspace", {"cadence_a_days": 0}, "cadence_a_days: must be at least 1"),
        ("patch", "/workspace", {"default_tier": "Z"}, "default_tier: must be A, B or C"),
        ("get", "/contacts?tier=Z", None, "query.tier: must be A, B or C"),
        ("get", "/contacts?limit=many", None, "query.limit: must be a whole number"),
        ("get", "/contacts/many", None, "path.contact_id: must be a whole number"),
    ],
)
def test_validation_messages_speak_to_a_person(
    client: TestClient, headers: Headers, method: str, path: str, body: Json | None, says: str
) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    message = error_text(response)
    assert says in message
    assert not _MACHINE_WORDS.search(message), message
    # The machine-readable list is still there, one entry per field, with its location.
    assert all(entry["loc"] for entry in response.json()["detail"])


def test_validation_messages_name_the_choices_of_a_literal(
    client: TestClient, headers: Headers
) -> None:
    contact = make_contact(client, headers)
    gives = f"/contacts/{contact['id']}/gives"
    response = client.post(gives, json={"description": "A book", "kind": "money"}, headers=headers)
    assert response.status_code == 422
    assert error_text(response) == "kind: must be article, introduction, check_in or other"
