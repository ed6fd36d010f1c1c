"""Saved articles: one article per URL, listing, search, tags, edits."""

from datetime import date

from fastapi.testclient import TestClient

from tests.conftest import (
    Headers,
    Json,
    error_text,
    get_json,
    make_article,
    without_timestamps,
)


def _titles(page: Json) -> list[str]:
    return [item["title"] for item in page["items"]]


def test_save_article(client: TestClient, headers: Headers) -> None:
    response = client.post(
        "/articles",
        json={
            "title": "  The Mom Test  ",
            "url": "https://example.com/mom-test",
            "summary": "Ask about their life, not your idea.",
            "text": "Customer conversations are bad by default.",
            "tags": ["sales", "interviews", "sales"],
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    article = response.json()
    assert article["created"] is True
    assert isinstance(article["id"], int)
    assert article["title"] == "The Mom Test"
    assert article["url"] == "https://example.com/mom-test"
    assert article["summary"] == "Ask about their life, not your idea."
    assert article["text"] == "Customer conversations are bad by default."
    assert article["tags"] == ["sales", "interviews"]  # duplicates dropped, order kept
    assert article["saved_on"] == date.today().isoformat()
    stored = get_json(client, f"/articles/{article['id']}", headers)
    assert "created" not in stored
    assert without_timestamps(stored) == without_timestamps(
        {k: v for k, v in article.items() if k != "created"}
    )


def test_save_article_with_a_date_and_no_url(client: TestClient, headers: Headers) -> None:
    first = make_article(client, headers, title="Notes", saved_on="2024-02-29")
    second = make_article(client, headers, title="Notes")

    assert first["created"] is True and second["created"] is True
    assert first["id"] != second["id"]  # without a URL nothing is deduplicated
    assert first["url"] is None
    assert first["saved_on"] == "2024-02-29"
    assert get_json(client, "/articles", headers)["total"] == 2


def test_saving_the_same_url_again_updates_the_article(
    client: TestClient, headers: Headers
) -> None:
    first = client.post(
        "/articles",
        json={"title": "Old title", "url": "https://example.com/posts/1", "tags": ["a"]},
        headers=headers,
    )
    assert first.status_code == 201, first.text

    variants = [
        "https://example.com/posts/1",
        "https://EXAMPLE.com/posts/1",
        "https://example.com/posts/1#comments",
        "https://Example.COM/posts/1#top",
    ]
    for number, url in enumerate(variants):
        title = f"Title {number}"
        response = client.post(
            "/articles", json={"title": title, "url": url, "tags": ["b"]}, headers=headers
        )
        assert response.status_code == 200, (url, response.text)
        saved = response.json()
        assert saved["created"] is False, url
        assert saved["id"] == first.json()["id"], url
        assert saved["title"] == title
        assert saved["url"] == "https://example.com/posts/1"
        assert saved["tags"] == ["b"]

    page = get_json(client, "/articles", headers)
    assert page["total"] == 1
    assert _titles(page) == [f"Title {len(variants) - 1}"]


def test_saving_a_url_with_an_upper_case_scheme_updates_the_article(
    client: TestClient, headers: Headers
) -> None:
    """URL schemes are case-insensitive (RFC 3986, 3.1), and the service lower-cases them."""
    first = make_article(client, headers, url="https://example.com/a")

    response = client.post(
        "/articles", json={"title": "Again", "url": "HTTPS://example.com/a"}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == first["id"]
    assert response.json()["created"] is False
    assert get_json(client, "/articles", headers)["total"] == 1


def test_different_paths_are_different_articles(client: TestClient, headers: Headers) -> None:
    one = make_article(client, headers, url="https://example.com/a")
    two = make_article(client, headers, url="https://example.com/A")
    three = make_article(client, headers, url="https://example.com/a?page=2")

    assert len({one["id"], two["id"], three["id"]}) == 3
    assert get_json(client, "/articles", headers)["total"] == 3


def test_list_articles_newest_first_with_pagination(client: TestClient, headers: Headers) -> None:
    days = ["2024-01-05", "2024-01-01", "2024-01-04", "2024-01-02", "2024-01-03"]
    for day in days:
        make_article(client, headers, title=f"Saved {day}", saved_on=day)

    pages = [get_json(client, "/articles", headers, limit=2, offset=o) for o in (0, 2, 4)]

    assert [page["total"] for page in pages] == [5, 5, 5]
    assert [page["limit"] for page in pages] == [2, 2, 2]
    assert [page["offset"] for page in pages] == [0, 2, 4]
    titles = [title for page in pages for title in _titles(page)]
    assert titles == [f"Saved {day}" for day in sorted(days, reverse=True)]
    assert get_json(client, "/articles", headers, offset=5)["items"] == []


def test_search_articles(client: TestClient, headers: Headers) -> None:
    make_article(client, headers, title="Pricing your SaaS", url="https://a.example/pricing")
    make_article(
        client,
        headers,
        title="Notes",
        summary="How to PRICE consulting work",
        saved_on="2024-01-01",
    )
    make_article(client, headers, title="Hiring", url="https://blog.example/hiring-engineers")

    by_title_or_summary = get_json(client, "/articles", headers, q="price")
    by_url = get_json(client, "/articles", headers, q="blog.example")
    nothing = get_json(client, "/articles", headers, q="kubernetes")

    assert _titles(by_title_or_summary) == ["Notes"]
    assert sorted(_titles(get_json(client, "/articles", headers, q="pric"))) == [
        "Notes",
        "Pricing your SaaS",
    ]
    assert _titles(by_url) == ["Hiring"]
    assert by_url["total"] == 1
    assert nothing["items"] == [] and nothing["total"] == 0


def test_filter_articles_by_tag(client: TestClient, headers: Headers) -> None:
    for number in range(3):
        make_article(client, headers, title=f"Sales {number}", tags=["sales", "b2b"])
    make_article(client, headers, title="Hiring", tags=["hiring"])
    make_article(client, headers, title="Untagged")

    sales = get_json(client, "/articles", headers, tag="sales")
    sales_page = get_json(client, "/articles", headers, tag="sales", limit=2, offset=2)
    hiring = get_json(client, "/articles", headers, tag="hiring")
    none = get_json(client, "/articles", headers, tag="sale")

    assert sales["total"] == 3
    assert sorted(_titles(sales)) == ["Sales 0", "Sales 1", "Sales 2"]
    assert sales_page["total"] == 3
    assert len(sales_page["items"]) == 1
    assert _titles(hiring) == ["Hiring"]
    assert none["total"] == 0 and none["items"] == []


def test_get_unknown_article_is_404(client: TestClient, headers: Headers) -> None:
    response = client.get("/articles/31337", headers=headers)

    assert response.status_code == 404
    assert "31337" in error_text(response)


def test_patch_article(client: TestClient, headers: Headers) -> None:
    article = make_article(
        client, headers, url="https://example.com/x", summary="Old", tags=["one"]
    )

    response = client.patch(
        f"/articles/{article['id']}",
        json={"summary": "New", "tags": ["two", "three", "two"], "url": "https://EXAMPLE.com/y#z"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    stored = get_json(client, f"/articles/{article['id']}", headers)
    assert without_timestamps(stored) == without_timestamps(response.json())
    assert stored["summary"] == "New"
    assert stored["tags"] == ["two", "three"]
    assert stored["url"] == "https://example.com/y"
    assert stored["title"] == article["title"]
    assert stored["saved_on"] == article["saved_on"]


def test_patch_article_to_its_own_url_is_allowed(client: TestClient, headers: Headers) -> None:
    article = make_article(client, headers, url="https://example.com/same")

    response = client.patch(
        f"/articles/{article['id']}",
        json={"url": "https://Example.com/same#again", "title": "Renamed"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Renamed"
    assert response.json()["url"] == "https://example.com/same"


def test_patch_to_another_articles_url_is_409_and_changes_nothing(
    client: TestClient, headers: Headers
) -> None:
    taken = make_article(client, headers, title="Taken", url="https://example.com/taken")
    mover = make_article(client, headers, title="Mover", url="https://example.com/mover")
    before = get_json(client, "/articles", headers)

    for url in ("https://example.com/taken", "https://EXAMPLE.COM/taken#x"):
        response = client.patch(
            f"/articles/{mover['id']}", json={"url": url, "title": "Changed"}, headers=headers
        )
        assert response.status_code == 409, response.text
        assert str(taken["id"]) in error_text(response)

    assert get_json(client, "/articles", headers) == before
    assert get_json(client, f"/articles/{mover['id']}", headers)["title"] == "Mover"


def test_delete_article(client: TestClient, headers: Headers) -> None:
    kept = make_article(client, headers, title="Kept")
    gone = make_article(client, headers, title="Gone", url="https://example.com/gone")

    response = client.delete(f"/articles/{gone['id']}", headers=headers)

    assert response.status_code == 204
    assert client.get(f"/articles/{gone['id']}", headers=headers).status_code == 404
    assert client.delete(f"/articles/{gone['id']}", headers=headers).status_code == 404
    page = get_json(client, "/articles", headers)
    assert [item["id"] for item in page["items"]] == [kept["id"]]
    # The URL is free again: saving it creates a new article.
    again = make_article(client, headers, title="Back", url="https://example.com/gone")
    assert again["created"] is True
    assert get_json(client, "/articles", headers)["total"] == 2
