"""Files at the upload limit that once made an import parser take more than linear time or
memory, or crash: each is imported through the API and must finish with a report.

The files are the ones ``scripts/bench_import_pathological.py`` times (its figures are in
``docs/benchmarks.md``); here nothing is timed, only that the import finishes and what it kept.
The script's other shapes (folded vCard lines, a million vCard parameters, a CSV row with
millions of values) were read in linear time before too, so they are measured there, not tested
here. Slow-ish (a 10 MiB upload each): ``pytest -m "not slow"`` leaves them out.
"""

import pytest
from fastapi.testclient import TestClient

from scripts.bench_import_pathological import (
    DEEP_URL,
    LIMIT,
    bookmarks_nested,
    bookmarks_unclosed,
    opml_nested,
    vcard_qp,
)
from tests.conftest import Headers, Json
from tests.helpers import articles_by_url, contacts_by_name, upload

pytestmark = pytest.mark.slow


def imported(client: TestClient, headers: Headers, kind: str, data: bytes) -> Json:
    """The report of importing ``data`` (a file just under the default upload limit)."""
    assert 0.95 * LIMIT < len(data) <= LIMIT
    response = upload(client, f"/imports/{kind}", headers, data)
    assert response.status_code == 200, response.text[:500]
    report: Json = response.json()
    return report


def test_a_quoted_printable_vcard_value_continued_over_870_000_lines(
    client: TestClient, headers: Headers
) -> None:
    report = imported(client, headers, "contacts", vcard_qp(LIMIT))

    assert (report["format"], report["created"], report["skipped"]) == ("vcard", 1, 1)
    # The NOTE, 2.6 million characters once decoded, is longer than notes may be.
    assert report["skipped_rows"][0]["record"] == 1
    assert "notes" in report["skipped_rows"][0]["reason"]
    assert set(contacts_by_name(client, headers)) == {"Grace Hopper"}


def test_bookmark_folders_nested_175_000_deep(client: TestClient, headers: Headers) -> None:
    data = bookmarks_nested(LIMIT)

    report = imported(client, headers, "articles", data)

    links = data.count(b"<A HREF")
    assert (report["format"], report["created"], report["skipped"]) == ("bookmarks", 1, links - 1)
    assert "javascript: links are not web pages" in report["skipped_rows"][0]["reason"]
    deep = articles_by_url(client, headers)[DEEP_URL]
    assert deep["tags"] == [f"Folder {n}" for n in range(50)]  # the outermost 50 folders


def test_a_bookmarks_file_ending_in_tags_never_closed(client: TestClient, headers: Headers) -> None:
    report = imported(client, headers, "articles", bookmarks_unclosed(LIMIT))

    assert (report["created"], report["skipped"]) == (1, 1)
    assert report["skipped_rows"][0]["line"] == 5
    assert "never closed" in report["skipped_rows"][0]["reason"]
    assert set(articles_by_url(client, headers)) == {DEEP_URL}


def test_an_opml_file_nested_308_000_deep(client: TestClient, headers: Headers) -> None:
    report = imported(client, headers, "articles", opml_nested(LIMIT))

    assert (report["format"], report["created"], report["skipped"]) == ("opml", 1, 0)
    feed = client.get("/feeds", headers=headers).json()["items"][0]
    assert (feed["url"], feed["tags"]) == (f"{DEEP_URL}.xml", [f"L{n:06}" for n in range(50)])
