"""The API's own documentation: Swagger UI and ReDoc served with no internet, and an OpenAPI
document a person can use from "Try it out" (a summary and a description on every operation,
an example on every request body that succeeds when sent unchanged)."""

import re

import pytest
from fastapi.testclient import TestClient

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
