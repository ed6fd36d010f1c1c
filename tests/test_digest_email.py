"""The digest a person reads: the e-mail (HTML with a plain-text alternative, dated, drafts to
copy, a ``mailto:`` per suggestion) through a real SMTP server, and its one-click links acted on
through the real app."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.actions.tokens import Action, Claim, read_claim, sign
from app.daily.nightly import NightlyOptions, run_nightly
from app.db import session_scope
from app.models import Workspace
from tests.conftest import Api, Headers, copy_data_dir, get_json, make_settings, running_api
from tests.helpers import Mailbox, free_port, smtp_settings

TODAY = date.today()
PUBLIC_URL = "https://givefirst.example.org/"
HOSTILE = "<script>alert(1)</script> Dana"
PAIN = "choosing a vendor for our employee engagement survey"
ARTICLE = (
    "How to choose an employee engagement survey vendor",
    "A buyer's checklist for picking an engagement survey provider: methodology, benchmarks, "
    "confidentiality and pricing.",
)


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def add_network(api: Api, workspace: str, names: list[str]) -> None:
    headers = api.headers(workspace)
    title, summary = ARTICLE
    response = api.client.post(
        "/articles",
        json={"title": title, "summary": summary, "url": "https://example.org/survey?a=1&b=2"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    for number, name in enumerate(names):
        body: dict[str, Any] = {"name": name, "tier": "A", "last_contacted_on": days_ago(200)}
        if number == 0:
            body |= {"pain_points": [PAIN], "email": "dana+hr@example.com"}
        response = api.client.post("/contacts", json=body, headers=headers)
        assert response.status_code == 201, response.text


@dataclass
class Mailed:
    data_dir: Path
    messages: list[Message]


def mail_digests(data_dir: Path, **settings: Any) -> list[Message]:
    """Run the nightly batch with ``--email`` into a real SMTP server; the messages it got."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp = smtp_settings(port) | settings
    controller.start()
    try:
        outcomes = run_nightly(
            make_settings(data_dir).model_copy(update=smtp), NightlyOptions(day=TODAY, email=True)
        )
    finally:
        controller.stop()
    assert all(outcome.delivered == ["email"] for outcome in outcomes)
    return mailbox.messages


@pytest.fixture(scope="module")
def mailed_dir(tmp_path_factory: pytest.TempPathFactory) -> Mailed:
    """Two workspaces, each with a contact to send an article and one to check in with, mailed
    their digests with one-click links."""
    data_dir = tmp_path_factory.mktemp("mailed") / "data"
    with running_api(data_dir) as api:
        add_network(api, "acme", [HOSTILE, "Ben Check-in"])
        add_network(api, "other", ["Olga Other", "Otto Other"])
    return Mailed(data_dir, mail_digests(data_dir, public_url=PUBLIC_URL))


@pytest.fixture
def mailed(mailed_dir: Mailed, tmp_path: Path) -> Mailed:
    """A private copy of the mailed data folder (the links act on it)."""
    copy = tmp_path / "data"
    copy_data_dir(mailed_dir.data_dir, copy)
    return Mailed(copy, mailed_dir.messages)


def parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode()
    return found


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def read_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def digest_of(messages: list[Message], workspace: str) -> Message:
    (message,) = [m for m in messages if f"({workspace})" in m["Subject"]]
    return message


def action_links(message: Message) -> dict[tuple[int, Action], str]:
    """The digest's one-click links by (suggestion id, action): the path to call."""
    links = {}
    for href in read_links(parts(message)["text/html"]).hrefs:
        if href.startswith(PUBLIC_URL + "act/"):
            claim = read_claim(href.rsplit("/", 1)[1])
            assert claim is not None, href
            links[claim.suggestion_id, claim.action] = urlsplit(href).path
    return links


def daily(api: Api, headers: Headers) -> dict[str, Any]:
    return get_json(api.client, "/daily", headers, date=TODAY.isoformat())


def item_of(api: Api, headers: Headers, name: str) -> dict[str, Any]:
    (item,) = [i for i in daily(api, headers)["items"] if i["contact"]["name"] == name]
    return item


def link_secret(data_dir: Path, workspace: str) -> tuple[int, str]:
    with running_api(data_dir) as api, session_scope(api.app.state.session_factory) as session:
        row = session.scalar(select(Workspace).where(Workspace.name == workspace))
        assert row is not None and row.link_secret is not None
        return row.id, row.link_secret


# -- the e-mail ----------------------------------------------------------------------------------


def test_the_digest_is_html_with_a_text_alternative_a_date_drafts_and_a_mailto(
    mailed: Mailed,
) -> None:
    message = digest_of(mailed.messages, "acme")
    assert message.get_content_type() == "multipart/mixed"
    (alternative,) = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.get_payload()] == [  # type: ignore[union-attr]
        "text/plain",
        "text/html",
    ]
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=10)
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    with running_api(mailed.data_dir) as api:
        item = item_of(api, api.headers("acme"), HOSTILE)
    suggestion = item["suggestion"]
    assert suggestion["kind"] == "article"

    # Plain text: readable, no Markdown.
    assert HOSTILE in text and suggestion["reason"] in text
    assert "**" not in text and "\n#" not in text and "\n> " not in text
    assert suggestion["drafts"]["email"].splitlines()[1] in text

    # HTML: the hostile name is inert text; drafts in blocks to copy.
    assert read_links(html).scripts == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Dana" in html
    assert "<pre" in html and "When we last spoke" in html
    hrefs = read_links(html).hrefs
    assert "https://example.org/survey?a=1&b=2" in hrefs  # escaped in the HTML, read back whole

    # One mailto: per suggestion, to the contact, with the subject and the draft filled in.
    mailtos = [h for h in hrefs if h.startswith("mailto:")]
    assert len(mailtos) == 2  # the article for Dana, the check-in with Ben
    to_dana = urlsplit(next(m for m in mailtos if "dana" in m))
    assert unquote(to_dana.path) == "dana+hr@example.com"
    fields = parse_qs(to_dana.query)
    assert fields["subject"] == [ARTICLE[0]]
    assert fields["body"] == [suggestion["drafts"]["email"]]
    assert " " not in to_dana.query and "\n" not in to_dana.query  # percent-encoded


def test_without_a_public_url_the_digest_says_links_are_unavailable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir) as api:
        add_network(api, "acme", ["Ana"])
    (message,) = mail_digests(data_dir)
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert "One-click links are unavailable (GIVEFIRST_PUBLIC_URL is not set)" in text
    assert "One-click links are unavailable" in html
    assert "/act/" not in text and "/act/" not in html


# -- the one-click links -------------------------------------------------------------------------


def test_a_link_shows_a_form_acts_on_post_once_and_never_again(mailed: Mailed) -> None:
    links = action_links(digest_of(mailed.messages, "acme"))
    with running_api(mailed.data_dir) as api:
        headers = api.headers("acme")
        article = item_of(api, headers, HOSTILE)["suggestion"]
        check_in = item_of(api, headers, "Ben Check-in")
        assert {(article["id"], a) for a in Action} <= links.keys()
        html = parts(digest_of(mailed.messages, "acme"))["text/html"]
        assert "Snooze the contact (14 days)" in html

        sent = links[article["id"], Action.SENT]
        page = api.client.get(sent)  # what a mail scanner does: it must not act
        assert page.status_code == 200 and '<form method="post"' in page.text
        assert "&lt;script&gt;" in page.text and "<script>" not in page.text
        assert item_of(api, headers, HOSTILE)["suggestion"]["status"] == "open"

        done = api.client.post(sent)
        assert done.status_code == 200 and "as sent" in done.text
        assert item_of(api, headers, HOSTILE)["suggestion"]["status"] == "sent"
        again = api.client.post(sent)
        assert again.status_code == 410 and "already used" in again.text

        bad_timing = api.client.post(links[check_in["suggestion"]["id"], Action.BAD_TIMING])
        assert bad_timing.status_code == 200
        dismissed = item_of(api, headers, "Ben Check-in")["suggestion"]
        assert dismissed["status"] == "dismissed"
        assert dismissed["dismissed_until"] == (TODAY + timedelta(30)).isoformat()

        snooze = api.client.post(links[check_in["suggestion"]["id"], Action.SNOOZE])
        assert snooze.status_code == 200
        contact = get_json(api.client, f"/contacts/{check_in['contact']['id']}", headers)
        assert contact["snoozed_until"] == (TODAY + timedelta(14)).isoformat()

        # The other links of a suggestion already acted on do nothing.
        late = api.client.post(links[article["id"], Action.NOT_RELEVANT])
        assert late.status_code == 409 and "already sent" in late.text
    with running_api(mailed.data_dir) as restarted:  # single use holds across restarts
        assert restarted.client.post(sent).status_code == 410
        assert restarted.client.get(sent).status_code == 410


def test_a_not_relevant_link_dismisses_for_ever(mailed: Mailed) -> None:
    links = action_links(digest_of(mailed.messages, "acme"))
    with running_api(mailed.data_dir) as api:
        headers = api.headers("acme")
        article = item_of(api, headers, HOSTILE)["suggestion"]
        assert api.client.post(links[article["id"], Action.NOT_RELEVANT]).status_code == 200
        after = item_of(api, headers, HOSTILE)["suggestion"]
        assert after["status"] == "dismissed" and after["dismissed_until"] is None


def test_expired_tampered_and_forged_links_are_refused(mailed: Mailed) -> None:
    links = action_links(digest_of(mailed.messages, "acme"))
    workspace_id, secret = link_secret(mailed.data_dir, "acme")
    (suggestion_id, _), path = next(iter(links.items()))
    token = path.rsplit("/", 1)[1]
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp())
    expired = sign(Claim(workspace_id, suggestion_id, Action.SENT, past), secret)
    payload, signature = token.rsplit(".", 1)
    other_id = payload.replace(f".{suggestion_id}.", f".{suggestion_id + 1}.", 1)
    forged_action = f"{payload.replace('.sent.', '.snooze.')}.{signature}"
    refused = {
        "expired": (f"/act/{expired}", 410, "expired"),
        "another suggestion": (f"/act/{other_id}.{signature}", 403, "not valid"),
        "another action": (f"/act/{forged_action}", 403, "not valid"),
        "a changed signature": (f"/act/{payload}.{signature[::-1]}", 403, "not valid"),
        "a wrong key": (f"/act/{sign(read_claim(token), 'guess')}", 403, "not valid"),  # type: ignore[arg-type]
        "not a token": ("/act/hello", 403, "not valid"),
    }
    with running_api(mailed.data_dir) as api:
        headers = api.headers("acme")
        before = daily(api, headers)
        for case, (url, status, says) in refused.items():
            for method in ("GET", "POST"):
                response = api.client.request(method, url)
                assert (response.status_code, says in response.text) == (status, True), case
        assert daily(api, headers) == before  # nothing was done


def test_a_link_of_one_workspace_never_acts_on_another_workspaces_suggestion(
    mailed: Mailed,
) -> None:
    acme_id, acme_secret = link_secret(mailed.data_dir, "acme")
    other_id, _ = link_secret(mailed.data_dir, "other")
    other_links = action_links(digest_of(mailed.messages, "other"))
    (other_suggestion, _), other_path = next(iter(other_links.items()))
    expiry = int((datetime.now(UTC) + timedelta(days=1)).timestamp())
    # Signed with acme's key and naming acme: the suggestion is read within acme, where it is not.
    acme_signed = sign(Claim(acme_id, other_suggestion, Action.SENT, expiry), acme_secret)
    # Naming the other workspace, but signed with acme's key.
    relabelled = sign(Claim(other_id, other_suggestion, Action.SENT, expiry), acme_secret)
    with running_api(mailed.data_dir) as api:
        headers = api.headers("other")
        before = daily(api, headers)
        foreign = api.client.post(f"/act/{acme_signed}")
        assert foreign.status_code == 404 and "no longer exists" in foreign.text
        assert api.client.post(f"/act/{relabelled}").status_code == 403
        assert daily(api, headers) == before
        # The other workspace's own link still works.
        assert api.client.post(other_path).status_code == 200


def test_the_link_secret_is_in_no_api_answer_nor_export(mailed: Mailed) -> None:
    _, secret = link_secret(mailed.data_dir, "acme")
    with running_api(mailed.data_dir) as api:
        headers = api.headers("acme")
        for path in ("/workspace", "/export", "/daily"):
            response = api.client.get(path, headers=headers)
            assert response.status_code == 200 and secret not in response.text, path
