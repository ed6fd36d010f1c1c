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
        if path == "/articles/from-url":
            # The one example that needs the internet: offline, the page cannot be fetched, and
            # the answer says so (not that the body is wrong).
            assert response.status_code in (200, 201) or (
                response.status_code == 422 and "url:" not in error_text(response)
            ), response.text
        else:
            assert 200 <= response.status_code < 300, f"{method.upper()} {path}: {response.text}"
        sent += 1
    assert sent == 13  # and the three uploads, which are files (multipart)
