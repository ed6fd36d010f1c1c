"""Drafts through the API: the contact's need said back in the second person (or quoted), no ask
in any draft, articles named with why and link, double opt-in introductions, two lengths, and the
workspace's signature."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import session_scope
from app.models import Suggestion
from tests.conftest import Api, Headers, Json, get_json, make_article, make_contact, running_api
from tests.fixtures.said_as import COLLOQUIAL_SAID_AS, HR_SAID_AS
from tests.helpers import asks_in, said_as_sentence

SAID_AS = dict(HR_SAID_AS + COLLOQUIAL_SAID_AS)
SIGNATURE = "Warm regards,\nSam Rivera\nPeople Partner, Northwind"
NEED_KEYS = {"article": "email", "introduction": "to_contact_email", "check_in": "email"}

# The first person, said of the contact ("US" the country and "the mine" are not pronouns).
FIRST_PERSON = re.compile(
    r"(?<![\w'])(?:I|I'm|I've|I'd|I'll|(?i:we|we're|we've|our|ours|us|my|me|myself|ourselves))"
    r"(?![\w'])"
)


@dataclass
class Drafted:
    """Every suggestion made for the network of needs, with what each draft was made from."""

    api: Api
    headers: Headers
    items: list[Json] = field(default_factory=list)
    people: dict[int, Json] = field(default_factory=dict)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drafted]:
    """For every need: a contact who has it, one who had it long ago (a check-in), an article
    and a contact whose expertise answer it; the suggestions of each, e-mails signed."""
    with running_api(tmp_path_factory.mktemp("drafts") / "data") as api:
        headers = api.headers("drafts")
        client = api.client
        client.patch("/workspace", json={"signature": SIGNATURE}, headers=headers)
        drafted = Drafted(api, headers)
        long_ago = (date.today() - timedelta(days=400)).isoformat()
        seekers = []
        for n, need in enumerate(SAID_AS):
            make_article(
                client,
                headers,
                title=f"A field guide, part {n}",
                summary="What worked for other HR teams, step by step.",
                text=need,
                url=f"https://guides.example/{n}",
            )
            roles: dict[str, Json] = {
                "expert": {
                    "name": f"Blake Expert{n}",
                    "company": f"Expertco{n}",
                    "title": "Principal",
                    "expertise": [need],
                },
                "seeker": {
                    "name": f"Avery Seeker{n}",
                    "company": f"Seekerco{n}",
                    "title": "HR Director",
                    "pain_points": [need],
                },
                "stale": {
                    "name": f"Casey Stale{n}",
                    "pain_points": [{"text": need, "noted_on": long_ago}],
                },
            }
            made = {role: make_contact(client, headers, **fields) for role, fields in roles.items()}
            drafted.people.update({person["id"]: person for person in made.values()})
            seekers += [made["seeker"]["id"], made["stale"]["id"]]
        for contact_id in seekers:
            drafted.items += get_json(
                client, f"/contacts/{contact_id}/suggestions", headers, limit=4
            )["items"]
        yield drafted


def _own_words(drafted: Drafted, item: Json) -> list[str]:
    people = [drafted.people[item["contact_id"]]]
    if item["introduce"]:
        people.append(drafted.people[item["introduce"]["id"]])
    need = (item["pain_point"] or {}).get("text")
    return [
        *(said_as_sentence(SAID_AS[need]) for _ in [need] if need),
        *_as_written(item["matched_text"] or ""),
        *(p[key] or "" for p in people for key in ("name", "company", "title")),
        SIGNATURE,
    ]


def _as_written(text: str) -> list[str]:
    """``text`` as a draft may hold it: on one line, and with a small first letter."""
    line = " ".join(text.split()).rstrip(".!?;: ")
    return [text, line, line[:1].lower() + line[1:]]


def test_every_need_is_said_back_in_the_second_person_or_quoted(drafted: Drafted) -> None:
    """Every pain point of the HR set and of the colloquial list, in every draft that speaks
    of it: "you mentioned you need…", never "you mentioned we need…"; quoted when turning it
    would read badly (a question, a list, capitals, a URL, several sentences, a "you")."""
    seen: dict[str, set[str]] = {need: set() for need in SAID_AS}
    for item in drafted.items:
        if item["pain_point"] is None:
            continue
        need = item["pain_point"]["text"]
        email = item["drafts"][NEED_KEYS[item["kind"]]]
        said = SAID_AS[need]
        assert f"When we last spoke, {said_as_sentence(said)}" in email, (need, email)
        if not said.startswith("“"):
            assert not FIRST_PERSON.search(said.replace("US", "").replace("the mine", "")), said
        if item["kind"] == "article":
            assert said_as_sentence(said) in item["drafts"]["note"]
        seen[need].add(item["kind"])
    for need, kinds in seen.items():
        assert kinds == {"article", "introduction", "check_in"}, (need, kinds)
    for text in ("you mentioned we", "you mentioned our", "you mentioned I ", "working on we"):
        assert not any(text in d for item in drafted.items for d in item["drafts"].values())


def test_no_draft_asks_anything_of_the_contact(drafted: Drafted) -> None:
    """Every draft of every kind and length: no "let me know", "could/would/can you", call,
    meeting, and no question mark outside the contact's own quoted words."""
    count = 0
    for item in drafted.items:
        own = _own_words(drafted, item)
        for key, draft in item["drafts"].items():
            assert asks_in(draft, own) == [], (key, draft)
            count += 1
    assert count > 8 * len(SAID_AS)


def test_article_drafts_name_the_article_why_it_may_help_and_its_link(drafted: Drafted) -> None:
    articles = [i for i in drafted.items if i["kind"] == "article"]
    assert len(articles) >= len(SAID_AS)
    for item in articles:
        title, url = item["article"]["title"], item["article"]["url"]
        for draft in (item["drafts"]["note"], item["drafts"]["email"]):
            assert f"“{title}” " in draft and url in draft, draft
        assert "may help with that. In short: " in item["drafts"]["email"]
        assert item["draft"] == item["drafts"]["email"]


def test_introductions_are_double_opt_in(drafted: Drafted) -> None:
    """One note and one e-mail to each side; neither names the other person, the introduced
    person does not hear the contact's need, and both are offered, not asked."""
    intros = [i for i in drafted.items if i["kind"] == "introduction"]
    assert len(intros) >= len(SAID_AS)
    for item in intros:
        contact, other = drafted.people[item["contact_id"]], drafted.people[item["introduce"]["id"]]
        drafts = item["drafts"]
        assert set(drafts) == {
            "to_contact_note",
            "to_contact_email",
            "to_introduced_note",
            "to_introduced_email",
        }
        assert item["draft"] is None
        for key in ("to_contact_note", "to_contact_email"):
            assert drafts[key].startswith(("Hi Avery,", "Avery,"))
            assert not [w for w in ("Blake", other["company"]) if w in drafts[key]], drafts[key]
        for key in ("to_introduced_note", "to_introduced_email"):
            assert drafts[key].startswith(("Hi Blake,", "Blake,"))
            assert not [w for w in ("Avery", contact["company"]) if w in drafts[key]]
            assert "mentioned" not in drafts[key] and "you said" not in drafts[key]
        for draft in drafts.values():
            assert "reply and I'll" in draft and "if not, no need to answer" in draft.lower()
        for key in ("to_contact_email", "to_introduced_email"):
            assert "only connect two people when both want it" in drafts[key]


def test_two_lengths_a_one_line_note_and_a_signed_email(drafted: Drafted) -> None:
    for item in drafted.items:
        for key, draft in item["drafts"].items():
            if key.endswith("note"):
                assert "\n" not in draft and len(draft) < 400, draft
                assert "Sam Rivera" not in draft
            else:
                assert key.endswith("email")
                assert draft.startswith("Hi ") and draft.endswith(f"\n\n{SIGNATURE}\n"), draft
                assert len(draft) < 1200


@pytest.fixture
def one_suggestion(api: Api, headers: Headers) -> tuple[TestClient, Headers, int]:
    make_article(
        api.client,
        headers,
        title="Choosing a retained search firm",
        summary="How to pick a search firm for an executive role. Fees, guarantees, references.",
        url="https://example.org/search-firms",
    )
    dana = make_contact(
        api.client, headers, name="Dana Reyes", pain_points=["We need a search firm for our CHRO"]
    )
    return api.client, headers, dana["id"]


def _article_email(client: TestClient, headers: Headers, contact_id: int) -> str:
    items = get_json(client, f"/contacts/{contact_id}/suggestions", headers)["items"]
    email: str = next(i for i in items if i["kind"] == "article")["drafts"]["email"]
    return email


def test_the_workspace_signature_ends_every_email_and_can_change(
    one_suggestion: tuple[TestClient, Headers, int],
) -> None:
    client, headers, dana = one_suggestion
    assert get_json(client, "/workspace", headers)["signature"] is None
    unsigned = _article_email(client, headers, dana)
    assert unsigned == (
        "Hi Dana,\n\n"
        "When we last spoke, you mentioned you need a search firm for your CHRO. I came across "
        "“Choosing a retained search firm” and thought it may help with that. In short: How to "
        "pick a search firm for an executive role.\n\n"
        "https://example.org/search-firms\n\n"
        "No need to reply. I hope it's useful.\n"
    )

    response = client.patch(
        "/workspace", json={"signature": "  Best,\r\nSam Rivera  \n"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["signature"] == "Best,\nSam Rivera"
    assert get_json(client, "/workspace", headers)["signature"] == "Best,\nSam Rivera"
    assert _article_email(client, headers, dana) == unsigned + "\nBest,\nSam Rivera\n"

    for cleared in (None, ""):
        response = client.patch("/workspace", json={"signature": cleared}, headers=headers)
        assert response.status_code == 200 and response.json()["signature"] is None
        assert _article_email(client, headers, dana) == unsigned


def test_the_signature_is_shown_on_drafts_already_stored(
    one_suggestion: tuple[TestClient, Headers, int],
) -> None:
    """A day's list built before the signature was set shows the new signature."""
    client, headers, dana = one_suggestion
    client.patch(f"/contacts/{dana}", json={"last_contacted_on": "2020-01-01"}, headers=headers)
    assert client.post("/daily", headers=headers).status_code in (200, 201)
    client.patch("/workspace", json={"signature": "Sam"}, headers=headers)
    item = get_json(client, "/daily", headers)["items"][0]["suggestion"]
    assert item["drafts"]["email"].endswith("\n\nSam\n")
    assert not item["drafts"]["note"].endswith("Sam")


def test_drafts_stored_by_an_older_version_show_under_the_new_keys(
    api: Api, one_suggestion: tuple[TestClient, Headers, int]
) -> None:
    """A day's list built before drafts had two lengths: its e-mail is shown as ``email``."""
    client, headers, dana = one_suggestion
    client.patch(f"/contacts/{dana}", json={"last_contacted_on": "2020-01-01"}, headers=headers)
    assert client.post("/daily", headers=headers).status_code in (200, 201)
    with session_scope(api.app.state.session_factory) as session:
        for suggestion in session.scalars(select(Suggestion)):
            suggestion.drafts = {"draft": "Hi Dana,\n\nAn older draft.\n"}
    client.patch("/workspace", json={"signature": "Sam"}, headers=headers)

    item = get_json(client, "/daily", headers)["items"][0]["suggestion"]

    assert item["drafts"] == {"email": "Hi Dana,\n\nAn older draft.\n\nSam\n"}
    assert item["draft"] == item["drafts"]["email"]
