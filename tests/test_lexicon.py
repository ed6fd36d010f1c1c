"""Colloquial pain points through the API: shorthand spelled out for the search, and a very long
report that must not crowd out the article that answers."""

import json
from pathlib import Path

import pytest

from embeddings.lexicon import SHORTHAND, spell_out
from tests.conftest import Api, get_json, make_article, make_contact

HR_SET = Path(__file__).parent / "fixtures" / "hr_eval"


@pytest.mark.parametrize(
    ("said", "searched"),
    [
        (
            "Our CHRO wants PIPs for half the team",
            "Our CHRO (chief human resources officer) wants PIPs (performance improvement plan)"
            " for half the team",
        ),
        ("We have to lay off 40 people", "We have to lay off (layoff) 40 people"),
        ("we have to LAY  OFF people", "we have to LAY  OFF (layoff) people"),
        ("comp review next week", "comp (compensation) review next week"),
        ("our L&D budget", "our L&D (learning and development training) budget"),
        ("weekly 1:1s feel pointless", "weekly 1:1s (one-on-one meetings) feel pointless"),
    ],
)
def test_shorthand_gets_its_long_form_in_brackets(said: str, searched: str) -> None:
    assert spell_out(said) == searched


@pytest.mark.parametrize(
    "text",
    [
        "Ta da, that was the last of it",  # "TA" counts in capitals only
        "a comprehensive plan",  # "comp" inside a word
        "the chro-matic scale",
        "I feel like nobody sees my work",
        "",
    ],
)
def test_text_without_shorthand_is_left_as_it_is(text: str) -> None:
    assert spell_out(text) == text


def test_every_short_form_of_the_table_is_found() -> None:
    for short, long in SHORTHAND:
        assert spell_out(f"about {short} here") == f"about {short} ({long}) here", short


def test_a_rif_finds_the_reduction_in_force_article(api: Api) -> None:
    """The contact says "RIF"; the article says "reduction in force" and never "RIF"."""
    headers = api.headers("acme")
    wanted = make_article(
        api.client,
        headers,
        title="Running a reduction in force with fairness and dignity",
        text="Selecting positions, notice periods, severance and telling people face to face. "
        "A reduction in force is hard on everyone who stays too.",
    )
    make_article(
        api.client,
        headers,
        title="Rifle clubs as a team-building day",
        text="An outing for the whole office: safety briefings, targets and a picnic lunch.",
    )
    make_article(
        api.client,
        headers,
        title="Planning next year's headcount budget",
        text="How finance and people teams agree on open roles and hiring plans each autumn.",
    )
    contact = make_contact(api.client, headers, name="Dana", pain_points=["Planning a RIF in Q3"])
    items = get_json(api.client, f"/contacts/{contact['id']}/suggestions", headers)["items"]
    articles = [item for item in items if item["kind"] == "article"]
    assert articles, items
    assert articles[0]["article"]["id"] == wanted["id"]


def test_a_very_long_report_neither_empties_nor_takes_over_the_suggestions(api: Api) -> None:
    """A 190,000-character report that mentions everything (the HR set's six "state of" reports
    end to end) beside the one article that answers: the article comes first, and the report's
    many passages do not use up the contact's candidates."""
    corpus = {
        row["_id"]: row
        for row in map(json.loads, (HR_SET / "corpus.jsonl").read_text().splitlines())
    }
    reports = [row for row in corpus.values() if len(row["text"]) > 30_000]
    headers = api.headers("acme")
    report_text = "\n\n".join(r["text"] for r in reports)[:190_000]
    report = make_article(
        api.client, headers, title="The state of HR: six reports in one", text=report_text
    )
    layoff = corpus["hr6-a001"]
    wanted = make_article(api.client, headers, title=layoff["title"], text=layoff["text"])
    for key in ("hr2-a004", "hr2-a007", "hr4-a005"):  # onboarding and PIP guides
        make_article(api.client, headers, title=corpus[key]["title"], text=corpus[key]["text"])
    contact = make_contact(
        api.client,
        headers,
        name="Lee",
        pain_points=["We have to lay off 40 people and want to do it decently"],
    )
    items = get_json(api.client, f"/contacts/{contact['id']}/suggestions", headers, limit=5)
    articles = [i["article"]["id"] for i in items["items"] if i["kind"] == "article"]
    assert len(report_text) == 190_000
    assert articles and articles[0] == wanted["id"]
    assert report["id"] != articles[0]


# The four misses the match-quality issue found when the engine was tried as a new user: each
# pain point as said, the article that answers it, and the articles that once came first
# (a word in common: *leave*, *survey*, *review*) in the same library.
NEW_USER_CASES = [
    ("our new hires leave within three months", "hr2-a006", ["hr3-a046", "hr2-a052"]),
    (
        "I keep struggling to find the right organization to help manage our employee "
        "engagement survey process",
        "hr5-a001",
        ["hr5-a004", "hr5-a015"],
    ),
    ("We have to lay off 40 people and want to do it decently", "hr6-a001", []),
    ("the board wants people metrics we don't track", "hr6-a039", ["hr3-a060", "hr4-a023"]),
]


def test_the_new_user_cases_get_the_article_that_answers(api: Api) -> None:
    """One library of the four answers and their look-alikes (and two HR articles more): each
    contact's first suggestion is the answer, above its look-alikes, and nobody with an answer in
    the library gets a check-in instead (the layoff guide once fell under the floor)."""
    corpus = {
        row["_id"]: row
        for row in map(json.loads, (HR_SET / "corpus.jsonl").read_text().splitlines())
    }
    headers = api.headers("acme")
    others = ["hr4-a062", "hr6-a052"]  # a performance-review checklist, CEO succession
    keys = {key for _, answer, traps in NEW_USER_CASES for key in [answer, *traps]} | set(others)
    ids = {
        key: make_article(
            api.client, headers, title=corpus[key]["title"], text=corpus[key]["text"]
        )["id"]
        for key in sorted(keys)
    }
    for number, (said, answer, _) in enumerate(NEW_USER_CASES):
        contact = make_contact(
            api.client, headers, name=f"Contact {number}", tier="A", pain_points=[said]
        )
        items = get_json(api.client, f"/contacts/{contact['id']}/suggestions", headers)["items"]
        assert items[0]["kind"] == "article", (said, items)
        assert items[0]["article"]["id"] == ids[answer], (said, items[0]["article"]["title"])
