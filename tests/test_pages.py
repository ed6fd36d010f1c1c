"""The web page over plain HTTP: sign-in into a session cookie, sign-out, CSRF on every POST, a
revoked key's session, and the same workspace isolation as the API."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import Api, Headers, Json, auth, get_json, make_article, make_contact

PAIN = "Choosing a vendor to run our employee engagement survey"
ARTICLE = {
    "title": "How to choose an engagement survey vendor",
    "text": "Choosing a firm to run your employee engagement survey: the questions to ask "
    "survey vendors, benchmarks, anonymity and action planning.",
    "url": "https://x.example/survey",
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


@dataclass
class Browser:
    """A signed-in page client: its cookie jar, the session's token, the workspace's key."""

    client: TestClient
    csrf: str
    key: str

    def post(
        self, path: str, data: dict[str, str] | None = None, htmx: bool = True
    ) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **({"HX-Request": "true"} if htmx else {})}
        return self.client.post(path, data=data or {}, headers=headers, follow_redirects=False)


def sign_in(api: Api, key: str, base_url: str = "http://testserver") -> Browser:
    client = TestClient(api.app, base_url=base_url, raise_server_exceptions=False)
    form = client.get("/sign-in")
    assert form.status_code == 200
    signed = client.post(
        "/sign-in",
        data={"api_key": key, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/"
    today = client.get("/")
    assert today.status_code == 200, today.text
    return Browser(client, csrf_of(today.text), key)


def seed(api: Api, workspace: str) -> tuple[str, Headers, Json]:
    """A workspace with one contact due today (never contacted) and an article for their pain."""
    key = api.new_key(workspace)
    headers = auth(key)
    contact = make_contact(
        api.client,
        headers,
        name=f"Ann of {workspace}",
        email=f"ann@{workspace}.example",
        tier="A",
        pain_points=[PAIN],
    )
    make_article(api.client, headers, **ARTICLE)
    return key, headers, contact


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
