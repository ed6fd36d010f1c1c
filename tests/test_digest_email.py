"""The digest a person reads: the e-mail (HTML with a plain-text alternative, dated, drafts to
copy, a ``mailto:`` per suggestion) through a real SMTP server."""

import subprocess
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

from app.daily.nightly import NightlyOptions, run_nightly
from tests.conftest import Api, Headers, get_json, make_settings, running_api
from tests.test_nightly import Mailbox, free_port, smtp_settings

TODAY = date.today()
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
    their digests."""
    data_dir = tmp_path_factory.mktemp("mailed") / "data"
    with running_api(data_dir) as api:
        add_network(api, "acme", [HOSTILE, "Ben Check-in"])
        add_network(api, "other", ["Olga Other", "Otto Other"])
    return Mailed(data_dir, mail_digests(data_dir))


@pytest.fixture
def mailed(mailed_dir: Mailed, tmp_path: Path) -> Mailed:
    """A private copy of the mailed data folder (the links act on it)."""
    copy = tmp_path / "data"
    subprocess.run(["cp", "-a", str(mailed_dir.data_dir), str(copy)], check=True)
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


def daily(api: Api, headers: Headers) -> dict[str, Any]:
    return get_json(api.client, "/daily", headers, date=TODAY.isoformat())


def item_of(api: Api, headers: Headers, name: str) -> dict[str, Any]:
    (item,) = [i for i in daily(api, headers)["items"] if i["contact"]["name"] == name]
    return item


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
