"""The recommendation engine through the API: the seed scenario, never twice, drafts, ledger."""

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.db import session_scope
from app.models import Article, Contact
from app.suggestions.engine import ContactRequest, SuggestionEngine
from app.suggestions.records import StoredRecords
from app.suggestions.service import recipients_for_article
from embeddings.points import Kind
from tests.conftest import (
    Api,
    Headers,
    Json,
    auth,
    error_text,
    get_json,
    make_article,
    make_contact,
    running_api,
    write_held,
)
from tests.fixtures.hr_network import ARTICLES, CONTACTS, PLANTED_MATCHES
from tests.fixtures.said_as import HR_SAID_AS
from tests.helpers import Server, asks_in, create_key, said_as_sentence, serving

HR = dict(HR_SAID_AS)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Headers, Json]]:
    """The HR library (38 articles) and network (28 contacts), loaded once for the module."""
    with running_api(tmp_path_factory.mktemp("network") / "data") as api:
        headers = api.headers("hr")
        ids: Json = {"articles": {}, "contacts": {}}
        for spec in ARTICLES:
            body = make_article(
                api.client,
                headers,
                title=spec.title,
                summary=spec.summary,
                text=spec.text,
                tags=list(spec.tags),
                url=f"https://articles.example/{spec.key}",
            )
            ids["articles"][spec.key] = body["id"]
        for person in CONTACTS:
            body = make_contact(
                api.client,
                headers,
                name=person.name,
                company=person.company,
                title=person.title,
                field=person.field,
                tier=person.tier,
                pain_points=list(person.pain_points),
                expertise=list(person.expertise),
            )
            ids["contacts"][person.key] = body["id"]
        yield api, headers, ids


def suggestions(client: TestClient, headers: Headers, contact_id: int, limit: int = 5) -> Any:
    return get_json(client, f"/contacts/{contact_id}/suggestions", headers, limit=limit)["items"]


def test_the_seed_scenario(network: tuple[Api, Headers, Json]) -> None:
    """Ken's SVP: the vendor-selection article first, and an introduction to the survey expert."""
    api, headers, ids = network
    items = suggestions(api.client, headers, ids["contacts"]["svp-survey"], limit=6)
    articles = [i for i in items if i["kind"] == "article"]
    assert articles[0]["article"]["id"] == ids["articles"]["survey-vendor-selection"]
    intros = [i for i in items if i["kind"] == "introduction"]
    survey_intro = next(
        i for i in intros if i["introduce"]["id"] == ids["contacts"]["survey-consultant"]
    )
    assert "engagement survey" in survey_intro["pain_point"]["text"]
    assert "engagement survey" in survey_intro["matched_text"].lower()
    for item in items:
        assert item["score"] > 0 and item["reason"] and item["pain_point"]["id"]
        assert item["matched_text"]
    assert set(survey_intro["drafts"]) == {
        "to_contact_note",
        "to_contact_email",
        "to_introduced_note",
        "to_introduced_email",
    }
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_a_contact_without_pain_points_gets_a_check_in(network: tuple[Api, Headers, Json]) -> None:
    api, headers, ids = network
    items = suggestions(api.client, headers, ids["contacts"]["no-pain-points"])
    assert [i["kind"] for i in items] == ["check_in"]
    assert items[0]["article"] is None and "you came to mind" in items[0]["draft"].lower()


def test_a_check_in_dismissed_today_is_not_offered_again_today(api: Api) -> None:
    """Dismissing today's check-in and asking again the same day answers 200 without it (it
    was a 409: a second check-in for the same day met the stored one)."""
    headers = api.headers("acme")
    contact = make_contact(api.client, headers, name="Quiet Contact", tier="A")
    (check_in,) = suggestions(api.client, headers, contact["id"])
    assert check_in["kind"] == "check_in"
    dismissed = api.client.post(
        f"/suggestions/{check_in['id']}/dismiss", json={"reason": "already_has_it"}, headers=headers
    )
    assert dismissed.status_code == 200, dismissed.text
    assert suggestions(api.client, headers, contact["id"]) == []


def test_planted_matches_come_first(network: tuple[Api, Headers, Json]) -> None:
    """Across the network, most contacts' best article is the one written for their problem."""
    api, headers, ids = network
    planted = PLANTED_MATCHES
    hits = 0
    for contact_key, article_key in planted.items():
        items = suggestions(api.client, headers, ids["contacts"][contact_key])
        firsts = [i["article"]["id"] for i in items if i["kind"] == "article"][:1]
        hits += firsts == [ids["articles"][article_key]]
    assert hits == len(planted)


ASK_PATTERNS = [
    r"\bjob\b",
    r"\bopening",
    r"\bleads?\b",
    r"\brefer(ral|ence|\b)",
    r"\bfavou?r\b",
    r"\bintroduce me\b",
    r"\bcoffee\b",
    r"\bmeet(ing)?\b",
    r"\bcall\b",
    r"\bhear of\b",
    r"\bkeep me in mind\b",
    r"\bcould you\b",
    r"\bcan you\b",
    r"\bwould you mind\b",
    r"\bhelp me\b",
    r"\bin return\b",
    r"\bhiring\b",
    r"\bresume\b",
]


def _own_words(draft: str, quoted: list[str]) -> str:
    """The draft with the words it quotes (pain point, expertise, names, titles) masked: a pain
    point may well say "hiring" or "lead"; what must not ask is the draft's own wording."""
    masked = {w.lower() for text in quoted for w in re.findall(r"[\w']+", text)}
    return re.sub(r"[\w']+", lambda m: "_" if m.group().lower() in masked else m.group(), draft)


def test_drafts_never_ask_for_anything(network: tuple[Api, Headers, Json]) -> None:
    api, headers, ids = network
    names = {p.key: [p.name, p.title, p.company] for p in CONTACTS}
    people = [str(v) for values in names.values() for v in values]
    summaries = {a.title: a.summary for a in ARTICLES}
    drafts: list[str] = []
    for contact_id in ids["contacts"].values():
        for item in suggestions(api.client, headers, contact_id, limit=8):
            texts = item["drafts"].values()
            pain_point = (item["pain_point"] or {}).get("text", "")
            quoted = [
                (item["pain_point"] or {}).get("text", ""),
                item["matched_text"] or "",
                (item["article"] or {}).get("title", ""),
                summaries.get((item["article"] or {}).get("title"), ""),
                *people,
            ]
            drafts.extend(_own_words(text, quoted) for text in texts)
            own = [*quoted, *(said_as_sentence(HR[p]) for p in [pain_point] if p in HR)]
            for text in texts:
                assert asks_in(text, own) == [], text
    assert len(drafts) >= 120
    for draft in drafts:
        for pattern in ASK_PATTERNS:
            assert not re.search(pattern, draft, re.IGNORECASE), (pattern, draft)
        assert len(draft) < 1200


def test_article_recipients(network: tuple[Api, Headers, Json]) -> None:
    api, headers, ids = network
    article_id = ids["articles"]["survey-vendor-selection"]
    items = get_json(api.client, f"/articles/{article_id}/recipients", headers)["items"]
    assert items[0]["contact"]["id"] == ids["contacts"]["svp-survey"]
    assert items[0]["pain_point"]["text"].startswith("Struggling to find the right outside firm")


@pytest.fixture
def small(data_dir: Path) -> Iterator[tuple[Api, Headers, Json, Json]]:
    with running_api(data_dir) as api:
        headers = api.headers()
        ann = make_contact(
            api.client,
            headers,
            name="Ann Park",
            pain_points=["Choosing a vendor to run our employee engagement survey"],
        )
        expert = make_contact(
            api.client,
            headers,
            name="Eli Stone",
            expertise=["Runs employee engagement survey programs for large companies"],
        )
        for n, (title, summary) in enumerate(
            [
                ("How to choose an engagement survey vendor", "RFP questions and criteria."),
                ("Selecting an employee survey provider", "What to ask survey firms."),
                ("Onboarding that sticks", "Structured first weeks for new hires."),
            ]
        ):
            make_article(
                api.client, headers, title=title, summary=summary, url=f"https://x.example/{n}"
            )
        yield api, headers, ann, expert


def article_scores(client: TestClient, headers: Headers, contact_id: int) -> dict[int, float]:
    """The scores of the articles suggested to a contact, by article id."""
    return {
        i["article"]["id"]: i["score"]
        for i in suggestions(client, headers, contact_id)
        if i["article"]
    }


def test_sent_and_dismissed_never_come_back(small: tuple[Api, Headers, Json, Json]) -> None:
    api, headers, ann, expert = small
    items = suggestions(api.client, headers, ann["id"])
    article = next(i for i in items if i["kind"] == "article")
    intro = next(i for i in items if i["kind"] == "introduction")

    sent = api.client.post(f"/suggestions/{article['id']}/sent", headers=headers)
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    again = api.client.post(f"/suggestions/{article['id']}/sent", headers=headers)
    assert again.status_code == 409
    dismissed = api.client.post(
        f"/suggestions/{intro['id']}/dismiss", json={"reason": "already_has_it"}, headers=headers
    )
    assert dismissed.status_code == 200

    later = suggestions(api.client, headers, ann["id"])
    assert article["article"]["id"] not in [i["article"]["id"] for i in later if i["article"]]
    assert all(i["kind"] != "introduction" for i in later)
    # The same pair is not suggested from the other side either.
    api.client.post(
        f"/contacts/{expert['id']}/pain-points",
        json={"text": "Choosing a vendor to run our employee engagement survey"},
        headers=headers,
    )
    api.client.patch(
        f"/contacts/{ann['id']}",
        json={"expertise": ["Runs employee engagement survey programs"]},
        headers=headers,
    )
    reverse = suggestions(api.client, headers, expert["id"])
    assert all(i["kind"] != "introduction" for i in reverse)

    ledger = get_json(api.client, f"/contacts/{ann['id']}/ledger", headers)
    assert ledger["given"] == 1 and ledger["gives"][0]["article_id"] == article["article"]["id"]
    contact = get_json(api.client, f"/contacts/{ann['id']}", headers)
    assert contact["last_contacted_on"] == date.today().isoformat()
    assert contact["next_due_on"] == (date.today() + timedelta(days=182)).isoformat()


VENDOR_ARTICLE = {
    "title": "How to choose an engagement survey vendor",
    "text": "Choosing a firm to run your employee engagement survey: the questions to ask "
    "survey vendors, benchmarks, anonymity and action planning.",
}


def suggested_articles(client: TestClient, headers: Headers, contact_id: int) -> list[int]:
    items = suggestions(client, headers, contact_id)
    return [i["article"]["id"] for i in items if i["article"]]


@pytest.mark.parametrize(
    "where", [{"url": "https://x.example/vendors"}, {}], ids=["same URL", "no URL, same text"]
)
def test_an_article_deleted_and_saved_again_is_never_sent_twice(
    api: Api, headers: Headers, where: Json
) -> None:
    pain = "Choosing a vendor to run our employee engagement survey"
    ann = make_contact(api.client, headers, name="Ann Park", pain_points=[pain])
    bea = make_contact(api.client, headers, name="Bea Lund", pain_points=[pain])
    first = make_article(api.client, headers, **VENDOR_ARTICLE, **where)
    (offer,) = [i for i in suggestions(api.client, headers, ann["id"]) if i["kind"] == "article"]
    assert offer["article"]["id"] == first["id"]
    api.client.post(f"/suggestions/{offer['id']}/sent", headers=headers).raise_for_status()
    api.client.delete(f"/articles/{first['id']}", headers=headers).raise_for_status()

    again = make_article(api.client, headers, **{**VENDOR_ARTICLE, "title": "Saved again"}, **where)

    assert again["id"] != first["id"]
    assert again["id"] in suggested_articles(api.client, headers, bea["id"])  # still a match
    assert again["id"] not in suggested_articles(api.client, headers, ann["id"])


def test_bad_timing_sets_a_gift_aside_until_a_day_then_it_comes_back(
    small: tuple[Api, Headers, Json, Json],
) -> None:
    api, headers, ann, _ = small

    def dismiss(suggestion: Json, body: Json) -> Json:
        response = api.client.post(
            f"/suggestions/{suggestion['id']}/dismiss", json=body, headers=headers
        )
        assert response.status_code == 200, response.text
        answer: Json = response.json()
        return answer

    def anns_gift(on: int) -> Json:
        day = (date.today() + timedelta(on)).isoformat()
        built = api.client.post("/daily", headers=headers, params={"date": day})
        assert built.status_code == 200, built.text
        return next(
            i["suggestion"] for i in built.json()["items"] if i["contact"]["id"] == ann["id"]
        )

    items = suggestions(api.client, headers, ann["id"])
    later, *others = [i for i in items if i["kind"] == "article"]
    assert others  # the other articles are dismissed for good
    intro = next(i for i in items if i["kind"] == "introduction")

    wrong = api.client.post(
        f"/suggestions/{later['id']}/dismiss",
        json={"reason": "not_relevant", "until": (date.today() + timedelta(5)).isoformat()},
        headers=headers,
    )
    assert wrong.status_code == 422 and "bad_timing only" in error_text(wrong)
    too_soon = api.client.post(
        f"/suggestions/{later['id']}/dismiss",
        json={"reason": "bad_timing", "until": date.today().isoformat()},
        headers=headers,
    )
    assert too_soon.status_code == 422 and "after today" in error_text(too_soon)

    until = (date.today() + timedelta(5)).isoformat()
    assert dismiss(later, {"reason": "bad_timing", "until": until})["dismissed_until"] == until
    by_default = dismiss(intro, {"reason": "bad_timing"})
    assert by_default["dismissed_until"] == (date.today() + timedelta(30)).isoformat()
    for other in others:
        assert dismiss(other, {"reason": "already_has_it"})["dismissed_until"] is None

    now = suggestions(api.client, headers, ann["id"])
    assert [i["kind"] for i in now] == ["check_in"]
    assert anns_gift(4)["kind"] == "check_in"  # still set aside the day before
    back = anns_gift(5)  # from the day on, the same gift is offered again
    assert (back["id"], back["status"], back["dismissed_until"]) == (later["id"], "open", None)
    assert back["article"] == later["article"]
    dismiss(back, {"reason": "already_has_it"})  # for ever, this time
    assert anns_gift(29)["kind"] == "check_in"  # the introduction's 30 days are not over
    assert anns_gift(30)["id"] == intro["id"]
    assert anns_gift(300)["id"] == intro["id"]  # the others never come back


def test_a_recipient_set_aside_for_bad_timing_comes_back_on_the_day(
    small: tuple[Api, Headers, Json, Json],
) -> None:
    api, headers, ann, _ = small
    article = next(i for i in suggestions(api.client, headers, ann["id"]) if i["article"])
    article_id = article["article"]["id"]
    until = date.today() + timedelta(5)
    api.client.post(
        f"/suggestions/{article['id']}/dismiss",
        json={"reason": "bad_timing", "until": until.isoformat()},
        headers=headers,
    ).raise_for_status()
    now = get_json(api.client, f"/articles/{article_id}/recipients", headers)["items"]
    assert ann["id"] not in [r["contact"]["id"] for r in now]

    def recipients_on(day: date) -> list[int]:
        with session_scope(api.app.state.session_factory) as session:
            found = recipients_for_article(
                session=session,
                engine=api.app.state.suggestion_engine,
                article=session.get_one(Article, article_id),
                today=day,
                limit=10,
            )
            return [r.contact.id for r in found]

    assert ann["id"] not in recipients_on(until - timedelta(1))
    assert ann["id"] in recipients_on(until)


def test_an_ask_is_recorded_but_leaves_the_contact_due(api: Api, headers: Headers) -> None:
    contact = make_contact(
        api.client, headers, name="Ida", last_contacted_on="2020-01-01", tier="A"
    )
    response = api.client.post(
        f"/contacts/{contact['id']}/asks",
        json={"description": "An intro to their CFO"},
        headers=headers,
    )
    assert response.status_code == 201
    ledger = get_json(api.client, f"/contacts/{contact['id']}/ledger", headers)
    assert ledger["asked"] == 1 and ledger["asked_more_than_given"] is True
    assert "offer some in return" in ledger["message"]
    after = get_json(api.client, f"/contacts/{contact['id']}", headers)
    assert after["last_contacted_on"] == "2020-01-01"
    assert after["next_due_on"] == contact["next_due_on"] == "2020-03-31"
    daily = api.client.post("/daily", headers=headers)
    assert [i["contact"]["name"] for i in daily.json()["items"]] == ["Ida"]


def test_not_relevant_lowers_similar_articles(small: tuple[Api, Headers, Json, Json]) -> None:
    api, headers, ann, _ = small
    before = article_scores(api.client, headers, ann["id"])
    first = next(i for i in suggestions(api.client, headers, ann["id"]) if i["kind"] == "article")
    response = api.client.post(
        f"/suggestions/{first['id']}/dismiss", json={"reason": "not_relevant"}, headers=headers
    )
    assert response.status_code == 200
    after = article_scores(api.client, headers, ann["id"])
    assert first["article"]["id"] not in after
    similar = [a for a in after if a in before]
    assert similar and all(after[a] < before[a] for a in similar)


def test_sent_raises_similar_articles(small: tuple[Api, Headers, Json, Json]) -> None:
    """A sent article says what helps this contact: articles like it move up (and only they:
    the onboarding article, unlike it, gains less)."""
    api, headers, ann, _ = small
    before = article_scores(api.client, headers, ann["id"])
    first = next(i for i in suggestions(api.client, headers, ann["id"]) if i["kind"] == "article")
    response = api.client.post(f"/suggestions/{first['id']}/sent", headers=headers)
    assert response.status_code == 200
    after = article_scores(api.client, headers, ann["id"])
    assert first["article"]["id"] not in after
    others = [a for a in after if a in before]
    assert others and all(after[a] > before[a] for a in others)
    gains = sorted(others, key=lambda a: after[a] - before[a], reverse=True)
    titles = {
        i["article"]["id"]: i["article"]["title"]
        for i in suggestions(api.client, headers, ann["id"])
        if i["article"]
    }
    assert "survey" in titles[gains[0]].lower()


def test_old_pain_points_prompt_a_check_in(data_dir: Path) -> None:
    with running_api(data_dir) as api:
        headers = api.headers()
        old = (date.today() - timedelta(days=400)).isoformat()
        contact = make_contact(
            api.client,
            headers,
            pain_points=[{"text": "Choosing a payroll provider", "noted_on": old}],
        )
        make_article(api.client, headers, title="How to choose a payroll provider")
        items = suggestions(api.client, headers, contact["id"])
        assert [i["kind"] for i in items] == ["check_in"]
        assert "payroll provider" in items[0]["draft"]


def test_the_ledger_says_when_you_ask_more_than_you_give(api: Api, headers: Headers) -> None:
    contact = make_contact(api.client, headers, last_contacted_on="2020-01-01", tier="A")
    for text in ("An intro to their CFO", "A reference letter"):
        response = api.client.post(
            f"/contacts/{contact['id']}/asks", json={"description": text}, headers=headers
        )
        assert response.status_code == 201
    api.client.post(
        f"/contacts/{contact['id']}/gives",
        json={"description": "Sent the salary survey", "kind": "article"},
        headers=headers,
    )
    ledger = get_json(api.client, f"/contacts/{contact['id']}/ledger", headers)
    assert (ledger["given"], ledger["asked"], ledger["balance"]) == (1, 2, -1)
    assert ledger["asked_more_than_given"] is True
    assert "offer some in return" in ledger["message"]
    refreshed = get_json(api.client, f"/contacts/{contact['id']}", headers)
    assert refreshed["next_due_on"] == (date.today() + timedelta(days=90)).isoformat()


def test_suggestions_of_another_workspace_are_invisible(
    small: tuple[Api, Headers, Json, Json],
) -> None:
    api, headers, ann, _ = small
    item = suggestions(api.client, headers, ann["id"])[0]
    stranger = api.headers("other")
    assert api.client.get(f"/contacts/{ann['id']}/suggestions", headers=stranger).status_code == 404
    for action, body in (("sent", None), ("dismiss", {"reason": "not_relevant"})):
        response = api.client.post(
            f"/suggestions/{item['id']}/{action}", json=body, headers=stranger
        )
        assert response.status_code == 404
    assert api.client.get("/articles/1/recipients", headers=stranger).status_code == 404


# --- beside other writers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Headers, Path]]:
    """A real ``givefirst serve`` whose writes wait 1 s (not 15) for another process's write."""
    data_dir = tmp_path_factory.mktemp("serve") / "data"
    key, _ = create_key(data_dir, "acme")
    with serving(data_dir, database_busy_timeout_seconds="1") as running:
        yield running, auth(key), data_dir


def _contact_with_gifts(base_url: str, headers: Headers, name: str) -> int:
    """A new contact whom an article and an introduction would help (nothing stored for them)."""
    for path, body in (
        (
            "/articles",
            {
                "title": "How to choose an employee engagement survey vendor",
                "url": "https://articles.example/survey-vendors",
                "summary": "A checklist for picking an engagement survey provider.",
            },
        ),
        ("/contacts", {"name": f"{name}'s expert", "expertise": ["Engagement survey vendors"]}),
    ):
        httpx.post(f"{base_url}{path}", json=body, headers=headers, timeout=60).raise_for_status()
    created = httpx.post(
        f"{base_url}/contacts",
        json={"name": name, "pain_points": ["Choosing an engagement survey vendor"]},
        headers=headers,
        timeout=60,
    )
    created.raise_for_status()
    contact_id: int = created.json()["id"]
    return contact_id


def test_concurrent_requests_for_one_contact_get_the_same_suggestions(
    server: tuple[Server, Headers, Path],
) -> None:
    running, headers, _ = server
    url = f"{running.base_url}/contacts/{_contact_with_gifts(running.base_url, headers, 'Dana')}"
    start = threading.Barrier(8)

    def fetch(_: int) -> httpx.Response:
        start.wait()
        return httpx.get(f"{url}/suggestions", params={"limit": 5}, headers=headers, timeout=120)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, range(8)))

    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    ids = {tuple(item["id"] for item in a.json()["items"]) for a in answers}
    assert len(ids) == 1, ids
    assert {item["kind"] for item in answers[0].json()["items"]} >= {"article", "introduction"}


def test_beside_another_process_long_write_the_answer_is_200_or_a_documented_503(
    server: tuple[Server, Headers, Path],
) -> None:
    running, headers, data_dir = server
    contact = _contact_with_gifts(running.base_url, headers, "Ken")
    url = f"{running.base_url}/contacts/{contact}/suggestions"

    # Held past the busy timeout (1 s): a 503 that says to retry, and nothing was stored.
    with write_held(data_dir):
        busy = httpx.get(url, headers=headers, timeout=60)
        refused = httpx.post(
            f"{running.base_url}/contacts", json={"name": "Late"}, headers=headers, timeout=60
        )
    # Released within it: the request waits for the lock and answers.
    with write_held(data_dir) as release:
        threading.Timer(0.3, release).start()
        waited = httpx.get(url, headers=headers, timeout=60)
    again = httpx.get(url, headers=headers, timeout=60)

    for response in (busy, refused):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "1"
        assert "busy with a long write by another process" in response.json()["message"]
    spec = httpx.get(f"{running.base_url}/openapi.json", timeout=60).json()
    assert "503" in spec["paths"]["/contacts/{contact_id}/suggestions"]["get"]["responses"]
    assert "503" in spec["paths"]["/contacts"]["post"]["responses"]
    assert waited.status_code == 200, waited.text
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in waited.json()["items"]]
    names = [
        c["name"]
        for c in httpx.get(f"{running.base_url}/contacts", headers=headers, timeout=60).json()[
            "items"
        ]
    ]
    assert "Late" not in names


def _feed(items: int, words: int) -> bytes:
    """An RSS feed of ``items`` notes of ``words`` words each (long to embed)."""
    notes = "".join(
        f"<item><title>Note {n}</title><link>https://notes.example/{n}</link>"
        f"<description>{' '.join(f'topic{n}w{w}' for w in range(words))}</description></item>"
        for n in range(items)
    )
    return f'<rss version="2.0"><channel><title>Notes</title>{notes}</channel></rss>'.encode()


def _wait_for_a_writer(database: Path, seconds: float) -> None:
    """Return once another connection holds the write lock of ``database``."""
    deadline = time.monotonic() + seconds
    with closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as probe:
        while time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return  # locked: the writer is at work
            probe.execute("ROLLBACK")
            time.sleep(0.01)  # poll interval of a bounded wait
    raise AssertionError("no write began")


@pytest.mark.sqlite_only("watches SQLite's write lock to see the import's write begin")
def test_during_a_long_import_the_suggestions_wait_their_turn(data_dir: Path) -> None:
    """An import holds the database for longer than the busy timeout: the suggestions wait for
    it to finish (in the server's turn, not on SQLite) and answer 200."""
    with running_api(data_dir, database_busy_timeout_seconds=0.2) as api:
        headers = api.headers("acme")
        make_article(api.client, headers, title="How to choose an engagement survey vendor")
        contact = make_contact(api.client, headers, pain_points=["Picking a survey vendor"])
        with ThreadPoolExecutor(1) as pool:
            importing = pool.submit(
                api.client.post,
                "/imports/articles",
                headers=headers,
                files={"file": ("notes.xml", _feed(items=200, words=300))},
            )
            _wait_for_a_writer(data_dir / "givefirst.sqlite3", seconds=60)
            answer = api.client.get(f"/contacts/{contact['id']}/suggestions", headers=headers)
            imported = importing.result()

    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 200
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"][0]["kind"] == "article"


def test_a_pain_point_said_by_several_contacts_is_searched_once(
    small: tuple[Api, Headers, Json, Json],
) -> None:
    """The nightly batch ranks many contacts together: the same words are embedded and searched
    once, and every contact who said them gets the same matches."""
    api, headers, ann, _ = small
    twin = make_contact(
        api.client,
        headers,
        name="Bo Lind",
        pain_points=["Choosing a vendor to run our employee engagement survey"],
    )
    engine: SuggestionEngine = api.app.state.suggestion_engine
    index = engine.index
    searched: list[tuple[str, int]] = []
    search_many = index.search_many

    def counted(workspace_id: int, kind: Kind, queries: Any, **kwargs: Any) -> Any:
        searched.append((kind, len(queries)))
        return search_many(workspace_id, kind, queries, **kwargs)

    index.search_many = counted  # type: ignore[method-assign]
    try:
        with session_scope(api.app.state.session_factory) as session:
            people = [session.get(Contact, ann["id"]), session.get(Contact, twin["id"])]
            requests = [ContactRequest(c, due=True) for c in people if c is not None]
            ranked = list(
                engine.suggest_many(
                    records=StoredRecords(session), requests=requests, today=date.today()
                )
            )
    finally:
        del index.search_many
    assert searched == [("article", 1), ("expertise", 1)]
    first, second = ([(c.kind, c.target_key, round(c.score, 6)) for c in r] for r in ranked)
    assert first and first == second
