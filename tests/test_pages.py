"""The web page over plain HTTP: sign-in into a session cookie, sign-out, CSRF on every POST, a
revoked key's session, and the same workspace isolation as the API."""

import re
import threading
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import (
    Api,
    WebPages,
    error_text,
    get_json,
    make_contact,
    running_api,
)
from tests.helpers import ARTICLE, PAIN, csrf_of, seed, sign_in


def open_suggestion_id(html: str) -> int:
    match = re.search(r'id="card-(\d+)"[^>]*data-status="open"', html)
    assert match, "no open card on the page"
    return int(match.group(1))


def test_sign_in_sets_a_locked_down_cookie_and_today_shows_the_suggestion(api: Api) -> None:
    key, _, contact = seed(api, "acme")
    anonymous = TestClient(api.app)
    refused = anonymous.get("/", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/sign-in"

    form = anonymous.get("/sign-in")
    wrong = anonymous.post(
        "/sign-in", data={"api_key": "gf_not-a-key", "csrf_token": csrf_of(form.text)}
    )
    assert wrong.status_code == 401
    assert "unknown or revoked" in wrong.text
    assert anonymous.get("/", follow_redirects=False).status_code == 303

    signed = anonymous.post(
        "/sign-in", data={"api_key": key, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert csrf_of(anonymous.get("/").text) != csrf_of(form.text)  # a new session, a new token

    page = anonymous.get("/").text
    assert contact["name"] in page
    assert ARTICLE["title"] in page
    assert "They said:" in page and PAIN in page
    assert 'href="mailto:ann@acme.example?subject=How%20to%20choose' in page
    assert "Coming up" in page

    https = sign_in(api, key, base_url="https://testserver")
    form = https.client.get("/sign-in", follow_redirects=False)
    assert form.status_code == 303  # already signed in: to Today
    again = TestClient(api.app, base_url="https://testserver")
    token = csrf_of(again.get("/sign-in").text)
    over_tls = again.post(
        "/sign-in", data={"api_key": key, "csrf_token": token}, follow_redirects=False
    )
    assert "secure" in over_tls.headers["set-cookie"].lower()


def test_every_post_needs_the_sessions_csrf_token(api: Api) -> None:
    key, headers, contact = seed(api, "acme")
    browser = sign_in(api, key)
    suggestion_id = open_suggestion_id(browser.client.get("/").text)

    bare = browser.client.post(
        f"/today/suggestions/{suggestion_id}/sent", headers={"HX-Request": "true"}
    )
    assert bare.status_code == 403, bare.text
    forged = browser.client.post(
        f"/today/suggestions/{suggestion_id}/sent",
        headers={"HX-Request": "true", "X-CSRF-Token": "x" * 43},
    )
    assert forged.status_code == 403
    # Another session's token does not fit this one.
    other = sign_in(api, key)
    stolen = browser.client.post(
        f"/today/suggestions/{suggestion_id}/sent",
        headers={"HX-Request": "true", "X-CSRF-Token": other.csrf},
    )
    assert stolen.status_code == 403
    assert get_json(api.client, f"/contacts/{contact['id']}/ledger", headers)["given"] == 0

    # A sign-in form posted without the token of the page it came from is refused too.
    fresh = TestClient(api.app)
    assert fresh.post("/sign-in", data={"api_key": key}).status_code == 403
    # And sign-out (a form): without it the session stays.
    assert browser.client.post("/sign-out", follow_redirects=False).status_code == 403
    assert browser.client.get("/", follow_redirects=False).status_code == 200

    sent = browser.post(f"/today/suggestions/{suggestion_id}/sent")
    assert sent.status_code == 200, sent.text
    assert 'data-status="sent"' in sent.text
    ledger = get_json(api.client, f"/contacts/{contact['id']}/ledger", headers)
    assert ledger["given"] == 1
    assert [g["suggestion_id"] for g in ledger["gives"]] == [suggestion_id]


def test_sign_out_and_a_revoked_key_end_the_session(api: Api) -> None:
    key, _, _ = seed(api, "acme")
    browser = sign_in(api, key)
    out = browser.client.post(
        "/sign-out", data={"csrf_token": browser.csrf}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert browser.client.get("/", follow_redirects=False).status_code == 303

    kept = sign_in(api, key)
    suggestion_id = open_suggestion_id(kept.client.get("/").text)
    api.revoke(key)
    assert kept.client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    refused = kept.post(f"/today/suggestions/{suggestion_id}/sent")
    assert refused.status_code == 401
    assert refused.headers["hx-redirect"] == "/sign-in"


def test_a_cookie_not_signed_with_the_services_secret_is_no_session(api: Api) -> None:
    key, _, _ = seed(api, "acme")
    browser = sign_in(api, key)
    signed = browser.client.cookies["givefirst_session"]
    payload = {"csrf": browser.csrf, "key": api.key_id(key)}
    forged = URLSafeTimedSerializer("another secret", salt="givefirst-page-session").dumps(payload)
    browser.client.cookies.clear()
    browser.client.cookies.set("givefirst_session", forged)
    assert browser.client.get("/", follow_redirects=False).status_code == 303
    browser.client.cookies.clear()
    browser.client.cookies.set("givefirst_session", signed)  # the genuine one still works
    assert browser.client.get("/", follow_redirects=False).status_code == 200


def test_a_session_acts_only_on_its_own_workspace(api: Api) -> None:
    key_a, headers_a, contact_a = seed(api, "acme")
    key_b, _, _ = seed(api, "other")
    a = sign_in(api, key_a)
    b = sign_in(api, key_b)
    a_suggestion = open_suggestion_id(a.client.get("/").text)
    page_b = b.client.get("/").text
    assert contact_a["name"] not in page_b

    assert b.post(f"/today/suggestions/{a_suggestion}/sent").status_code == 404
    assert (
        b.post(f"/today/suggestions/{a_suggestion}/dismiss", {"reason": "not_relevant"}).status_code
        == 404
    )
    assert get_json(api.client, f"/contacts/{contact_a['id']}/ledger", headers_a)["given"] == 0
    daily_a = get_json(api.client, "/daily", headers_a)
    assert [i["suggestion"]["status"] for i in daily_a["items"]] == ["open"]


def test_dismiss_and_snooze_swap_the_card_and_check_their_input_as_the_api_does(
    api: Api,
) -> None:
    key, headers, contact = seed(api, "acme")
    make_contact(api.client, headers, name="Bo Second", tier="A", pain_points=[PAIN])
    browser = sign_in(api, key)
    page = browser.client.get("/").text
    first, second = (int(i) for i in re.findall(r'id="card-(\d+)"[^>]*data-status="open"', page))

    bad = browser.post(f"/today/suggestions/{first}/dismiss", {"reason": "Not Relevant!"})
    assert bad.status_code == 422
    dismissed = browser.post(f"/today/suggestions/{first}/dismiss", {"reason": "not_relevant"})
    assert dismissed.status_code == 200, dismissed.text
    assert (
        'data-status="dismissed"' in dismissed.text and "Dismissed: not relevant." in dismissed.text
    )
    again = browser.post(f"/today/suggestions/{first}/dismiss", {"reason": "not_relevant"})
    assert again.status_code == 409

    past = browser.post("/today/items/2/snooze", {"until": "2001-01-01"})
    assert past.status_code == 422
    until = (date.today() + timedelta(20)).isoformat()
    snoozed = browser.post("/today/items/2/snooze", {"until": until})
    assert snoozed.status_code == 200, snoozed.text
    assert f'id="card-{second}"' in snoozed.text and "Snoozed until" in snoozed.text
    names = [i["contact"]["name"] for i in get_json(api.client, "/daily", headers)["items"]]
    assert "Bo Second" not in names and contact["name"] in names

    # Without htmx (no JavaScript), a form post goes back to the page.
    plain = browser.post(f"/today/suggestions/{first}/sent", htmx=False)
    assert plain.status_code == 409  # dismissed already: the same refusal as the API's


@pytest.mark.parametrize("path", ["/static/htmx.min.js", "/static/givefirst.css"])
def test_the_page_assets_are_served_by_the_app(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200
    assert len(response.content) > 1000


def test_contacts_list_searches_and_filters_by_tier_and_due_as_the_api_does(api: Api) -> None:
    key, headers, ann = seed(api, "acme")  # Ann: tier A, never contacted (due today)
    recent = make_contact(
        api.client,
        headers,
        name="Bo Lind",
        company="Contoso",
        tier="C",
        last_contacted_on=date.today().isoformat(),
    )
    late = make_contact(
        api.client,
        headers,
        name="Cy Ruiz",
        tier="B",
        last_contacted_on=(date.today() - timedelta(400)).isoformat(),
    )
    browser = sign_in(api, key)

    def names(**params: str) -> set[str]:
        page = browser.client.get("/people", params=params)
        assert page.status_code == 200, page.text
        shown = set(re.findall(r'<a href="/people/\d+">([^<]+)</a>', page.text))
        api_names = {
            c["name"] for c in get_json(api.client, "/contacts", headers, **params)["items"]
        }
        assert shown == api_names  # the page lists what the API lists, no rule of its own
        return shown

    assert names() == {ann["name"], "Bo Lind", "Cy Ruiz"}
    assert names(q="contoso") == {"Bo Lind"}
    assert names(tier="B") == {"Cy Ruiz"}
    assert names(due="due") == {ann["name"], "Cy Ruiz"}
    assert names(due="overdue") == {"Cy Ruiz"}
    page = browser.client.get("/people").text
    assert f'href="/people/{recent["id"]}"' in page and f'href="/people/{late["id"]}"' in page
    for control in ("q", "tier", "due"):  # every control has its label
        assert f'<label for="{control}">' in page and f'id="{control}"' in page
    assert 'href="/people" aria-current="page">Contacts</a>' in page


def test_contact_page_pain_points_ledger_and_suggestions(api: Api) -> None:
    key, headers, ann = seed(api, "acme")
    api.client.post(
        f"/contacts/{ann['id']}/asks",
        json={"description": "an intro to their CFO"},
        headers=headers,
    )
    met = api.client.post(
        f"/contacts/{ann['id']}/touches",
        json={"kind": "meeting", "happened_on": "2025-03-04", "subject": "Quarterly coffee"},
        headers=headers,
    )
    assert met.status_code == 201, met.text
    browser = sign_in(api, key)
    page = browser.client.get(f"/people/{ann['id']}")
    assert page.status_code == 200, page.text
    assert PAIN in page.text and ARTICLE["title"] in page.text
    # The touch in the contact's ledger, not among the gives (the balance below is unchanged).
    assert "04 Mar 2025: meeting, Quarterly coffee" in page.text
    ledger = get_json(api.client, f"/contacts/{ann['id']}/ledger", headers)
    assert ledger["asked_more_than_given"] and ledger["message"] in page.text
    assert 'class="warning"' in page.text
    opened = re.search(r'id="suggestion-(\d+)"[^>]*data-status="open"', page.text)
    assert opened, "no open suggestion on the contact's page"
    suggestion_id = int(opened.group(1))
    api_ids = [
        s["id"]
        for s in get_json(api.client, f"/contacts/{ann['id']}/suggestions", headers)["items"]
    ]
    assert suggestion_id in api_ids  # the same stored suggestion the API gives

    added = browser.post(f"/people/{ann['id']}/pain-points", {"text": "Our payroll is late"})
    assert added.status_code == 200, added.text
    assert 'id="pain-points"' in added.text and "Our payroll is late" in added.text
    record = get_json(api.client, f"/contacts/{ann['id']}", headers)
    new = next(p for p in record["pain_points"] if p["text"] == "Our payroll is late")
    assert new["active"]
    empty = browser.post(f"/people/{ann['id']}/pain-points", {"text": "  "})
    assert empty.status_code == 422

    resolved = browser.post(f"/people/{ann['id']}/pain-points/{new['id']}/resolve")
    assert resolved.status_code == 200 and "Resolved: Our payroll is late" in resolved.text
    record = get_json(api.client, f"/contacts/{ann['id']}", headers)
    assert [p["active"] for p in record["pain_points"] if p["id"] == new["id"]] == [False]

    sent = browser.post(f"/people/{ann['id']}/suggestions/{suggestion_id}/sent")
    assert sent.status_code == 200 and 'data-status="sent"' in sent.text
    gives = get_json(api.client, f"/contacts/{ann['id']}/ledger", headers)["gives"]
    assert [g["suggestion_id"] for g in gives] == [suggestion_id]
    plain = browser.post(f"/people/{ann['id']}/pain-points", {"text": "Budgets"}, htmx=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/people/{ann['id']}"


def test_contact_and_library_pages_are_scoped_and_their_posts_need_the_csrf_token(
    api: Api,
) -> None:
    key_a, headers_a, ann = seed(api, "acme")
    key_b, _, _ = seed(api, "other")
    a = sign_in(api, key_a)
    b = sign_in(api, key_b)
    article_a = get_json(api.client, "/articles", headers_a)["items"][0]
    suggestion_id = int(
        re.findall(r'id="suggestion-(\d+)"', a.client.get(f"/people/{ann['id']}").text)[0]
    )
    pain_id = get_json(api.client, f"/contacts/{ann['id']}", headers_a)["pain_points"][0]["id"]

    assert b.client.get(f"/people/{ann['id']}").status_code == 404
    assert b.client.get(f"/library/articles/{article_a['id']}").status_code == 404
    assert ann["name"] not in b.client.get("/people").text
    library_b = b.client.get("/library").text  # b saved an article of the same title
    assert f'href="/library/articles/{article_a["id"]}"' not in library_b
    writes = [
        (f"/people/{ann['id']}/pain-points", {"text": "Planted by another workspace"}),
        (f"/people/{ann['id']}/pain-points/{pain_id}/resolve", {}),
        (f"/people/{ann['id']}/suggestions/{suggestion_id}/sent", {}),
        (f"/people/{ann['id']}/suggestions/{suggestion_id}/dismiss", {"reason": "not_relevant"}),
    ]
    for path, data in writes:
        assert b.post(path, data).status_code == 404, path
        bare = a.client.post(path, data=data, headers={"HX-Request": "true"})
        assert bare.status_code == 403, path  # the right workspace, but no token
    bare_save = a.client.post("/library/articles", data={"title": "No token", "text": "x"})
    assert bare_save.status_code == 403
    record = get_json(api.client, f"/contacts/{ann['id']}", headers_a)
    assert [(p["text"], p["active"]) for p in record["pain_points"]] == [(PAIN, True)]
    assert get_json(api.client, f"/contacts/{ann['id']}/ledger", headers_a)["given"] == 0
    assert get_json(api.client, "/articles", headers_a)["total"] == 1


def test_library_saves_a_pasted_article_and_shows_who_it_would_help(api: Api) -> None:
    key, headers, ann = seed(api, "acme")
    browser = sign_in(api, key)
    library = browser.client.get("/library").text
    for control in ("article-title", "article-url", "article-text"):
        assert f'<label for="{control}">' in library
    saved = browser.post(
        "/library/articles",
        {
            "title": "Running an employee engagement survey with an outside vendor",
            "text": "How to pick a survey vendor for your employee engagement survey, and what "
            "to ask them about anonymity and benchmarks.",
            "url": "",
        },
        htmx=False,
    )
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    article_id = int(location.rsplit("/", 1)[1])
    stored = get_json(api.client, f"/articles/{article_id}", headers)
    assert stored["title"].startswith("Running an employee engagement survey")

    page = browser.client.get(location)
    assert page.status_code == 200, page.text
    recipients = get_json(api.client, f"/articles/{article_id}/recipients", headers)["items"]
    assert [r["contact"]["id"] for r in recipients] == [ann["id"]]
    assert f'<a href="/people/{ann["id"]}">{ann["name"]}</a>' in page.text
    assert PAIN in page.text
    bad = browser.post("/library/articles", {"title": "", "text": "x"}, htmx=False)
    assert bad.status_code == 422
    assert get_json(api.client, "/articles", headers)["total"] == 2


def test_add_a_contact_with_a_tier_and_a_first_pain_point(api: Api) -> None:
    key, headers, _ = seed(api, "acme")
    browser = sign_in(api, key)
    form = browser.client.get("/people/new")
    assert form.status_code == 200, form.text
    for control in ("contact-name", "contact-email", "contact-tier", "contact-pain"):
        assert f'<label for="{control}">' in form.text and f'id="{control}"' in form.text
    assert 'href="/people/new"' in browser.client.get("/people").text
    before = get_json(api.client, "/contacts", headers)["total"]

    bad = browser.post(
        "/people",
        {"name": "Cleo Marsh", "email": "cleo at example", "tier": "A", "pain_point": PAIN},
        htmx=False,
    )
    assert bad.status_code == 422
    assert "Not saved: email:" in bad.text  # the API's message, naming the field
    assert 'value="Cleo Marsh"' in bad.text and f">{PAIN}</textarea>" in bad.text  # kept
    assert re.search(r'<option value="A" selected>', bad.text)
    assert get_json(api.client, "/contacts", headers)["total"] == before  # nothing stored
    assert browser.post("/people", {"name": "", "tier": "A"}, htmx=False).status_code == 422
    bad_tier = browser.post("/people", {"name": "Cleo", "tier": "Z"}, htmx=False)
    assert "tier: must be A, B or C" in bad_tier.text

    bare = browser.client.post("/people", data={"name": "No token"})
    assert bare.status_code == 403

    made = browser.post(
        "/people",
        {
            "name": "Cleo Marsh",
            "email": "cleo@example.org",
            "company": "Fabrikam",
            "title": "HR Director",
            "tier": "A",
            "pain_point": PAIN,
            "expertise": "",
        },
        htmx=False,
    )
    assert made.status_code == 303, made.text
    contact_id = int(made.headers["location"].rsplit("/", 1)[1])
    record = get_json(api.client, f"/contacts/{contact_id}", headers)
    assert (record["name"], record["tier"], record["company"]) == ("Cleo Marsh", "A", "Fabrikam")
    assert [p["text"] for p in record["pain_points"]] == [PAIN]
    page = browser.client.get(made.headers["location"])
    assert page.status_code == 200 and ARTICLE["title"] in page.text  # matched at once


def test_reword_a_pain_point_in_place(api: Api) -> None:
    key, headers, ann = seed(api, "acme")
    browser = sign_in(api, key)
    pain = get_json(api.client, f"/contacts/{ann['id']}", headers)["pain_points"][0]
    page = browser.client.get(f"/people/{ann['id']}").text
    assert f'<label for="pain-edit-{pain["id"]}">' in page

    path = f"/people/{ann['id']}/pain-points/{pain['id']}"
    empty = browser.post(path, {"text": "   "})
    assert empty.status_code == 422 and "text: must not be empty" in empty.json()["message"]
    reworded = browser.post(path, {"text": "Picking an engagement survey vendor by March"})
    assert reworded.status_code == 200, reworded.text
    assert 'id="pain-points"' in reworded.text
    assert "Reworded: Picking an engagement survey vendor by March" in reworded.text
    stored = get_json(api.client, f"/contacts/{ann['id']}", headers)["pain_points"]
    assert [(p["id"], p["text"], p["active"]) for p in stored] == [
        (pain["id"], "Picking an engagement survey vendor by March", True)
    ]
    plain = browser.post(path, {"text": "Picking a survey vendor"}, htmx=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/people/{ann['id']}"
    assert browser.post(f"/people/{ann['id']}/pain-points/999999", {"text": "x"}).status_code == 404


def test_suggest_an_article_to_the_recipients_chosen(api: Api) -> None:
    _, headers, ann = seed(api, "acme")
    bo = make_contact(api.client, headers, name="Bo Lind", pain_points=[PAIN])
    cy = make_contact(api.client, headers, name="Cy Ruiz", pain_points=["Our sales team misses"])
    article = get_json(api.client, "/articles", headers)["items"][0]
    until = (date.today() + timedelta(30)).isoformat()
    snoozed = api.client.post(
        f"/contacts/{bo['id']}/snooze", json={"until": until}, headers=headers
    )
    assert snoozed.status_code == 200
    recipients = get_json(api.client, f"/articles/{article['id']}/recipients", headers)["items"]
    by_name = {r["contact"]["name"]: r for r in recipients}
    assert set(by_name) == {ann["name"], "Bo Lind"}
    assert (
        by_name["Bo Lind"]["snoozed_until"] == until
        and by_name[ann["name"]]["snoozed_until"] is None
    )

    path = f"/articles/{article['id']}/recipients/suggestions"
    refused = api.client.post(path, json={"contact_ids": [ann["id"], cy["id"]]}, headers=headers)
    assert refused.status_code == 422
    assert "Cy Ruiz" in error_text(refused) and "nothing was suggested" in error_text(refused)
    assert get_json(api.client, f"/contacts/{ann['id']}/ledger", headers)["given"] == 0

    made = api.client.post(path, json={"contact_ids": [ann["id"], bo["id"]]}, headers=headers)
    assert made.status_code == 201, made.text
    items = made.json()["items"]
    assert [(s["contact_id"], s["kind"], s["article"]["id"]) for s in items] == [
        (ann["id"], "article", article["id"]),
        (bo["id"], "article", article["id"]),  # snoozed: offered, and the suggestion waits
    ]
    assert all(s["status"] == "open" and s["drafts"]["email"] for s in items)
    assert items[0]["pain_point"]["text"] == PAIN and "speaks to" in items[0]["reason"]
    again = api.client.post(path, json={"contact_ids": [ann["id"]]}, headers=headers)
    assert [s["id"] for s in again.json()["items"]] == [items[0]["id"]]  # reused, not doubled
    on_page = get_json(api.client, f"/contacts/{ann['id']}/suggestions", headers)["items"]
    assert items[0]["id"] in [s["id"] for s in on_page]

    sent = api.client.post(f"/suggestions/{items[0]['id']}/sent", headers=headers)
    assert sent.status_code == 200
    closed = api.client.post(path, json={"contact_ids": [ann["id"]]}, headers=headers)
    assert closed.status_code == 409 and "already sent" in error_text(closed)
    empty = api.client.post(path, json={"contact_ids": []}, headers=headers)
    assert empty.status_code == 422 and "contact_ids: must have at least 1 item" in error_text(
        empty
    )


def test_the_article_page_suggests_it_to_the_contacts_ticked(api: Api) -> None:
    key, headers, ann = seed(api, "acme")
    bo = make_contact(api.client, headers, name="Bo Lind", pain_points=[PAIN])
    until = (date.today() + timedelta(30)).isoformat()
    api.client.post(f"/contacts/{bo['id']}/snooze", json={"until": until}, headers=headers)
    article = get_json(api.client, "/articles", headers)["items"][0]
    browser = sign_in(api, key)
    page = browser.client.get(f"/library/articles/{article['id']}").text
    assert f'id="choose-{ann["id"]}" name="contact_ids" value="{ann["id"]}" checked' in page
    assert f'id="choose-{bo["id"]}" name="contact_ids" value="{bo["id"]}">' in page  # not ticked
    assert "Snoozed until" in page

    path = f"/library/articles/{article['id']}/suggestions"
    none = browser.post(path, {})
    assert none.status_code == 422 and "Tick at least one contact" in none.json()["message"]
    made = browser.post(path, {"contact_ids": str(ann["id"])})
    assert made.status_code == 200, made.text
    suggestion = get_json(api.client, f"/contacts/{ann['id']}/suggestions", headers)["items"][0]
    assert suggestion["article"]["id"] == article["id"]
    assert f'href="/people/{ann["id"]}#suggestion-{suggestion["id"]}">{ann["name"]}' in made.text
    plain = browser.post(path, {"contact_ids": str(ann["id"])}, htmx=False)
    assert plain.status_code == 200 and "Suggested to 1 contact(s)" in plain.text


def test_the_network_page_draws_the_apis_figures(api: Api) -> None:
    key, headers, _ = seed(api, "acme")
    make_contact(
        api.client,
        headers,
        name="Bo Lind",
        tier="B",
        title="Head of HR",
        last_contacted_on=date.today().isoformat(),
    )
    browser = sign_in(api, key)
    page = browser.client.get("/network")
    assert page.status_code == 200, page.text
    health = get_json(api.client, "/network/health", headers)
    assert f'<dd id="health-contacts">{health["contacts"]}</dd>' in page.text
    share = round(health["cadence"]["overall"]["share_in_cadence"] * 100)
    assert f'<dd id="health-in-cadence">{share}%</dd>' in page.text
    assert f'<dd id="health-due-now">{health["neglect"]["due_now"]}</dd>' in page.text
    points = re.search(r'<polyline class="line" points="([^"]+)"', page.text)
    weeks = [w for w in health["cadence"]["history"] if w["share_in_cadence"] is not None]
    assert points and len(points.group(1).split()) == len(weeks) >= 1
    assert 'href="/network" aria-current="page">Network</a>' in page.text
    # No chart library: nothing loaded from another host.
    assert not re.search(r'(src|href)="(https?:)?//(?!testserver/)', page.text)


def test_new_pages_and_routes_are_scoped_to_the_workspace(api: Api) -> None:
    key_a, headers_a, ann = seed(api, "acme")
    key_b, headers_b, bea = seed(api, "other")
    a = sign_in(api, key_a)
    b = sign_in(api, key_b)
    article_a = get_json(api.client, "/articles", headers_a)["items"][0]
    article_b = get_json(api.client, "/articles", headers_b)["items"][0]
    pain_a = get_json(api.client, f"/contacts/{ann['id']}", headers_a)["pain_points"][0]

    # b acting on a's ids: each as unknown.
    assert (
        b.post(f"/people/{ann['id']}/pain-points/{pain_a['id']}", {"text": "x"}).status_code == 404
    )
    assert (
        b.post(
            f"/library/articles/{article_a['id']}/suggestions", {"contact_ids": str(ann["id"])}
        ).status_code
        == 404
    )
    # b's own article, a's contact: 404 too, through the page and the API.
    assert (
        b.post(
            f"/library/articles/{article_b['id']}/suggestions", {"contact_ids": str(ann["id"])}
        ).status_code
        == 404
    )
    for article_id, contact_id in ((article_a["id"], bea["id"]), (article_b["id"], ann["id"])):
        foreign = api.client.post(
            f"/articles/{article_id}/recipients/suggestions",
            json={"contact_ids": [contact_id]},
            headers=headers_b,
        )
        assert foreign.status_code == 404, foreign.text
    # a's own pain point id under b's contact: not b's contact's pain point.
    assert (
        b.post(f"/people/{bea['id']}/pain-points/{pain_a['id']}", {"text": "x"}).status_code == 404
    )

    assert get_json(api.client, f"/contacts/{ann['id']}", headers_a)["pain_points"] == [pain_a]
    assert (
        get_json(api.client, f"/contacts/{ann['id']}/suggestions", headers_a)["items"][0]["status"]
        == "open"
    )
    assert get_json(api.client, f"/contacts/{ann['id']}/ledger", headers_a)["given"] == 0

    made = b.post("/people", {"name": "Made by b", "tier": "C"}, htmx=False)
    assert made.status_code == 303
    assert get_json(api.client, "/contacts", headers_a, q="Made by b")["total"] == 0
    assert get_json(api.client, "/contacts", headers_b, q="Made by b")["total"] == 1
    network_b = b.client.get("/network").text
    assert '<dd id="health-contacts">2</dd>' in network_b  # Bea and the one just made
    assert ann["name"] not in network_b
    assert a.client.get("/network").status_code == 200


def test_library_saves_a_web_page_by_its_address_and_the_fetch_holds_up_no_write(
    tmp_path: Path, web_pages: str
) -> None:
    with running_api(tmp_path / "data", fetch_allowed_hosts=["127.0.0.1"]) as api:
        key, headers, ann = seed(api, "acme")
        browser = sign_in(api, key)
        assert '<label for="article-page-url">' in browser.client.get("/library").text
        path = "/library/articles/from-url"

        bad = browser.post(path, {"url": "ftp://example.org/x"}, htmx=False)
        assert bad.status_code == 422
        assert "Not saved: url: must be a web address" in bad.text
        assert 'value="ftp://example.org/x"' in bad.text  # kept as typed
        missing = browser.post(path, {"url": f"{web_pages}/missing"}, htmx=False)
        assert missing.status_code == 422 and "Not saved:" in missing.text
        assert f'value="{web_pages}/missing"' in missing.text
        assert get_json(api.client, "/articles", headers)["total"] == 1

        saved: list[httpx.Response] = []
        fetching = threading.Thread(
            target=lambda: saved.append(browser.post(path, {"url": f"{web_pages}/stalled"}))
        )
        written: list[httpx.Response] = []
        writing = threading.Thread(  # a write while the fetch is held: it must not wait for it
            target=lambda: written.append(
                api.client.post("/contacts", json={"name": "Ada Lovelace"}, headers=headers)
            ),
            daemon=True,
        )
        fetching.start()
        try:
            assert WebPages.stalled.wait(timeout=30), "the page was never asked for"
            writing.start()
            writing.join(timeout=20)
            still_fetching = fetching.is_alive()
        finally:
            WebPages.let_go.set()
            fetching.join(timeout=60)
        assert written, "the write waited for the fetch to end"
        assert written[0].status_code == 201, written[0].text
        assert still_fetching, "the write waited for the fetch to end"
        assert [r.status_code for r in saved] == [303], saved[0].text if saved else "no answer"
        location = saved[0].headers["location"]
        article = get_json(api.client, f"/articles/{location.rsplit('/', 1)[1]}", headers)
        assert (article["title"], article["url"]) == (
            "Choosing an engagement survey vendor",
            f"{web_pages}/stalled",
        )
        page = browser.client.get(location).text
        assert f'<a href="/people/{ann["id"]}">{ann["name"]}</a>' in page  # who needs it
