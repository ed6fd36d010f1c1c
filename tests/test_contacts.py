"""Contacts, their pain points and expertise, and the workspace's cadences."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    Headers,
    Json,
    error_text,
    get_json,
    make_contact,
    without_timestamps,
)

CADENCE_DAYS = {"A": 90, "B": 182, "C": 365}


def _iso(day: date) -> str:
    return day.isoformat()


def _names(page: Json) -> list[str]:
    return [item["name"] for item in page["items"]]


# --- create ---------------------------------------------------------------------------------


def test_create_contact_with_plain_and_dated_pain_points(
    client: TestClient, headers: Headers
) -> None:
    today = date.today()
    response = client.post(
        "/contacts",
        json={
            "name": "  Grace Hopper  ",
            "email": "grace@example.com",
            "company": "Navy",
            "title": "Rear Admiral",
            "field": "Computing",
            "pain_points": [
                "Hiring COBOL programmers",
                {"text": "Compilers are slow", "noted_on": "2024-03-01"},
            ],
            "expertise": ["compilers", "public speaking"],
            "notes": "Met at a conference.",
            "linkedin_url": "https://www.linkedin.com/in/grace",
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    contact = response.json()
    assert isinstance(contact["id"], int)
    assert contact["name"] == "Grace Hopper"  # surrounding spaces are stripped
    assert contact["email"] == "grace@example.com"
    assert contact["company"] == "Navy"
    assert contact["title"] == "Rear Admiral"
    assert contact["field"] == "Computing"
    assert contact["notes"] == "Met at a conference."
    assert contact["linkedin_url"] == "https://www.linkedin.com/in/grace"
    assert contact["tier"] == "B"
    assert contact["last_contacted_on"] is None
    assert contact["expertise"] == ["compilers", "public speaking"]
    pain_points = contact["pain_points"]
    assert [p["text"] for p in pain_points] == ["Hiring COBOL programmers", "Compilers are slow"]
    assert pain_points[0]["noted_on"] == _iso(today)  # a plain string is noted today
    assert pain_points[1]["noted_on"] == "2024-03-01"
    assert all(p["active"] is True for p in pain_points)
    assert len({p["id"] for p in pain_points}) == 2

    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    for field in ("name", "email", "tier", "pain_points", "expertise", "next_due_on"):
        assert stored[field] == contact[field], field


def test_create_contact_defaults(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, name="Linus")

    assert contact["tier"] == "B"
    assert contact["pain_points"] == []
    assert contact["expertise"] == []
    for field in ("email", "company", "title", "field", "notes", "linkedin_url"):
        assert contact[field] is None, field


def test_every_field_at_its_longest_accepted_length_is_stored(
    client: TestClient, headers: Headers
) -> None:
    """What the API accepts, the database keeps (PostgreSQL enforces column lengths; a longer
    value than a column holds would be a server error there)."""
    longest = {
        "name": "N" * 200,
        "company": "C" * 200,
        "title": "T" * 200,
        "field": "F" * 200,
        "linkedin_url": "https://www.linkedin.com/in/" + "x" * (1998 - 28),
    }
    contact = make_contact(client, headers, **longest)
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    for field, value in longest.items():
        assert stored[field] == value, field
    too_long = client.post(
        "/contacts",
        json={**longest, "linkedin_url": longest["linkedin_url"] + "xyz"},
        headers=headers,
    )
    assert too_long.status_code == 422, too_long.text


def test_never_contacted_is_due_today(client: TestClient, headers: Headers) -> None:
    before = date.today()
    contact = make_contact(client, headers, tier="A")
    after = date.today()

    assert contact["last_contacted_on"] is None
    assert contact["next_due_on"] in {_iso(before), _iso(after)}


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_next_due_is_last_contact_plus_tier_cadence(
    client: TestClient, headers: Headers, tier: str
) -> None:
    last = date(2024, 1, 31)
    contact = make_contact(client, headers, tier=tier, last_contacted_on=_iso(last))

    expected = _iso(last + timedelta(days=CADENCE_DAYS[tier]))
    assert contact["tier"] == tier
    assert contact["last_contacted_on"] == _iso(last)
    assert contact["next_due_on"] == expected
    assert get_json(client, f"/contacts/{contact['id']}", headers)["next_due_on"] == expected


@contextmanager
def _local_timezone(tz: str) -> Iterator[None]:
    """Run with the process's local time zone set to ``tz`` (a POSIX TZ string)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_never_contacted_is_due_on_the_local_today_whatever_the_time_zone(
    client: TestClient, headers: Headers
) -> None:
    """The service's "today" is the local date (pain points are noted on it); a contact added
    today must be due today, even when the UTC date is already another day."""
    # UTC+14 is a day ahead of UTC from 10:00 UTC; UTC-12 is a day behind until 12:00 UTC.
    zone = "<+14>-14" if datetime.now(UTC).hour >= 10 else "<-12>+12"
    with _local_timezone(zone):
        local_today = date.today()
        assert local_today != datetime.now(UTC).date(), "the chosen zone must differ from UTC"
        contact = make_contact(client, headers, pain_points=["Cash flow"])

    assert contact["pain_points"][0]["noted_on"] == _iso(local_today)
    assert contact["next_due_on"] == _iso(local_today)


def test_timestamps_keep_their_time_zone_when_read_back(
    client: TestClient, headers: Headers
) -> None:
    created = make_contact(client, headers)
    stored = get_json(client, f"/contacts/{created['id']}", headers)

    for field in ("created_at", "updated_at"):
        assert datetime.fromisoformat(created[field]).tzinfo is not None, field
        read_back = datetime.fromisoformat(stored[field])
        assert read_back.tzinfo is not None, f"{field} lost its time zone: {stored[field]}"
        assert read_back == datetime.fromisoformat(created[field]), field


# --- list -----------------------------------------------------------------------------------


def test_list_paginates_with_total(client: TestClient, headers: Headers) -> None:
    names = ["Erin", "Alice", "Dave", "Carol", "Bob"]
    ids = {make_contact(client, headers, name=name)["id"] for name in names}

    pages = [get_json(client, "/contacts", headers, limit=2, offset=o) for o in (0, 2, 4)]

    assert [page["total"] for page in pages] == [5, 5, 5]
    assert [page["limit"] for page in pages] == [2, 2, 2]
    assert [page["offset"] for page in pages] == [0, 2, 4]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    seen = [item["id"] for page in pages for item in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == ids
    assert [name for page in pages for name in _names(page)] == sorted(names)
    beyond = get_json(client, "/contacts", headers, limit=2, offset=10)
    assert beyond["items"] == []
    assert beyond["total"] == 5


def test_list_filters_by_tier(client: TestClient, headers: Headers) -> None:
    make_contact(client, headers, name="Anna", tier="A")
    make_contact(client, headers, name="Beth")
    make_contact(client, headers, name="Cleo", tier="C")
    make_contact(client, headers, name="Abel", tier="A")

    page_a = get_json(client, "/contacts", headers, tier="A")
    page_b = get_json(client, "/contacts", headers, tier="B")

    assert _names(page_a) == ["Abel", "Anna"]
    assert page_a["total"] == 2
    assert _names(page_b) == ["Beth"]
    assert page_b["total"] == 1


def test_list_searches_name_and_company(client: TestClient, headers: Headers) -> None:
    make_contact(client, headers, name="Margaret Hamilton", company="MIT")
    make_contact(client, headers, name="Ken Thompson", company="Bell Labs")
    make_contact(client, headers, name="Dennis Ritchie", company="Bell Labs")

    by_name = get_json(client, "/contacts", headers, q="hamil")
    by_company = get_json(client, "/contacts", headers, q="BELL")
    nothing = get_json(client, "/contacts", headers, q="Xerox")

    assert _names(by_name) == ["Margaret Hamilton"]
    assert by_name["total"] == 1
    assert _names(by_company) == ["Dennis Ritchie", "Ken Thompson"]
    assert by_company["total"] == 2
    assert nothing["items"] == []
    assert nothing["total"] == 0


def test_search_matches_percent_and_underscore_literally(
    client: TestClient, headers: Headers
) -> None:
    """``q`` is a plain substring: SQL LIKE wildcards in it must not match everything."""
    make_contact(client, headers, name="Ada Lovelace")
    make_contact(client, headers, name="Growth 100% Ltd")
    make_contact(client, headers, name="snake_case fan")

    percent = get_json(client, "/contacts", headers, q="%")
    underscore = get_json(client, "/contacts", headers, q="_")

    assert _names(percent) == ["Growth 100% Ltd"]
    assert _names(underscore) == ["snake_case fan"]


def test_list_combines_tier_search_and_pagination(client: TestClient, headers: Headers) -> None:
    for name in ("Sam Acme", "Sue Acme", "Sid Acme"):
        make_contact(client, headers, name=name, tier="A", company="Acme")
    make_contact(client, headers, name="Stan Acme", tier="C", company="Acme")

    page = get_json(client, "/contacts", headers, tier="A", q="acme", limit=2, offset=1)

    assert page["total"] == 3
    assert _names(page) == ["Sid Acme", "Sue Acme"]  # A-tier Acme contacts by name, from 2nd


# --- get, patch, delete ---------------------------------------------------------------------


def test_get_unknown_contact_is_404(client: TestClient, headers: Headers) -> None:
    response = client.get("/contacts/12345", headers=headers)

    assert response.status_code == 404
    assert "12345" in error_text(response)


def test_patch_changes_only_the_fields_sent(client: TestClient, headers: Headers) -> None:
    contact = make_contact(
        client, headers, company="Old Co", title="CTO", expertise=["go"], pain_points=["Churn"]
    )

    response = client.patch(
        f"/contacts/{contact['id']}", json={"company": "New Co", "title": None}, headers=headers
    )

    assert response.status_code == 200, response.text
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert without_timestamps(stored) == without_timestamps(response.json())
    assert stored["company"] == "New Co"
    assert stored["title"] is None
    for field in ("name", "tier", "expertise", "pain_points", "next_due_on"):
        assert stored[field] == contact[field], field


def test_patch_replaces_expertise(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, expertise=["pricing", "hiring", "sales"])

    response = client.patch(
        f"/contacts/{contact['id']}",
        json={"expertise": ["fundraising", "pricing"]},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["expertise"] == ["fundraising", "pricing"]
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert stored["expertise"] == ["fundraising", "pricing"]

    cleared = client.patch(f"/contacts/{contact['id']}", json={"expertise": []}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert get_json(client, f"/contacts/{contact['id']}", headers)["expertise"] == []


def test_phones_are_kept_on_create_and_replaced_by_patch(
    client: TestClient, headers: Headers
) -> None:
    contact = make_contact(client, headers, phones=[" +1 555 0100 ", "+1 555 0100", "555-0199"])
    assert contact["phones"] == ["+1 555 0100", "555-0199"]  # stripped, each once

    patched = client.patch(
        f"/contacts/{contact['id']}", json={"phones": ["+44 20 7946 0958"]}, headers=headers
    )

    assert patched.status_code == 200, patched.text
    assert get_json(client, f"/contacts/{contact['id']}", headers)["phones"] == ["+44 20 7946 0958"]
    assert make_contact(client, headers, name="No Phone")["phones"] == []


@pytest.mark.parametrize(
    ("phones", "says"),
    [(["5"] * 11, "at most 10"), (["1" * 41], "at most 40 characters"), ([""], "at least 1")],
)
def test_too_many_or_too_long_phones_are_a_422(
    client: TestClient, headers: Headers, phones: list[str], says: str
) -> None:
    response = client.post("/contacts", json={"name": "Ana", "phones": phones}, headers=headers)

    assert response.status_code == 422
    assert "phones" in error_text(response) and says in error_text(response)
    assert get_json(client, "/contacts", headers)["total"] == 0


@pytest.mark.parametrize("field", ["name", "tier", "expertise", "phones"])
def test_patch_cannot_null_a_required_field(
    client: TestClient, headers: Headers, field: str
) -> None:
    contact = make_contact(client, headers, expertise=["design"])
    before = get_json(client, f"/contacts/{contact['id']}", headers)

    response = client.patch(f"/contacts/{contact['id']}", json={field: None}, headers=headers)

    assert response.status_code == 422
    assert field in error_text(response)
    assert get_json(client, f"/contacts/{contact['id']}", headers) == before


def test_patch_last_contacted_and_tier_move_next_due(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers)
    touched = date(2025, 6, 1)

    response = client.patch(
        f"/contacts/{contact['id']}", json={"last_contacted_on": _iso(touched)}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_due_on"] == _iso(touched + timedelta(days=CADENCE_DAYS["B"]))

    response = client.patch(f"/contacts/{contact['id']}", json={"tier": "C"}, headers=headers)
    assert response.status_code == 200, response.text
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert stored["tier"] == "C"
    assert stored["next_due_on"] == _iso(touched + timedelta(days=CADENCE_DAYS["C"]))


def test_a_last_contact_in_the_future_is_refused(client: TestClient, headers: Headers) -> None:
    tomorrow = _iso(date.today() + timedelta(days=1))
    created = client.post(
        "/contacts", json={"name": "Ada", "last_contacted_on": tomorrow}, headers=headers
    )
    assert created.status_code == 422
    assert "last_contacted_on" in error_text(created) and "after today" in error_text(created)
    assert get_json(client, "/contacts", headers)["total"] == 0

    contact = make_contact(client, headers, last_contacted_on=_iso(date.today()))
    patched = client.patch(
        f"/contacts/{contact['id']}", json={"last_contacted_on": tomorrow}, headers=headers
    )
    assert patched.status_code == 422 and "after today" in error_text(patched)
    # A give dated tomorrow would move the last contact there too.
    given = client.post(
        f"/contacts/{contact['id']}/gives",
        json={"description": "Sent the survey guide", "given_on": tomorrow},
        headers=headers,
    )
    assert given.status_code == 422 and "given_on" in error_text(given)
    assert get_json(client, f"/contacts/{contact['id']}", headers) == contact
    assert get_json(client, f"/contacts/{contact['id']}/ledger", headers)["given"] == 0


def test_delete_contact(client: TestClient, headers: Headers) -> None:
    kept = make_contact(client, headers, name="Kept")
    gone = make_contact(client, headers, name="Gone", pain_points=["Visas"])
    pain_point_id = gone["pain_points"][0]["id"]

    response = client.delete(f"/contacts/{gone['id']}", headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/contacts/{gone['id']}", headers=headers).status_code == 404
    assert client.delete(f"/contacts/{gone['id']}", headers=headers).status_code == 404
    pain_point_url = f"/contacts/{gone['id']}/pain-points/{pain_point_id}"
    assert client.delete(pain_point_url, headers=headers).status_code == 404
    page = get_json(client, "/contacts", headers)
    assert [item["id"] for item in page["items"]] == [kept["id"]]
    assert page["total"] == 1


# --- pain points ----------------------------------------------------------------------------


def test_add_pain_point(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, pain_points=["First"])

    plain = client.post(
        f"/contacts/{contact['id']}/pain-points", json={"text": "Second"}, headers=headers
    )
    dated = client.post(
        f"/contacts/{contact['id']}/pain-points",
        json={"text": "Third", "noted_on": "2023-12-24", "active": False},
        headers=headers,
    )

    assert plain.status_code == 201, plain.text
    assert plain.json()["text"] == "Second"
    assert plain.json()["noted_on"] == _iso(date.today())
    assert plain.json()["active"] is True
    assert dated.status_code == 201, dated.text
    assert dated.json()["noted_on"] == "2023-12-24"
    assert dated.json()["active"] is False
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert [p["text"] for p in stored["pain_points"]] == ["First", "Second", "Third"]
    assert stored["pain_points"][1] == plain.json()
    assert stored["pain_points"][2] == dated.json()


def test_add_pain_point_to_unknown_contact_is_404(client: TestClient, headers: Headers) -> None:
    response = client.post("/contacts/777/pain-points", json={"text": "x"}, headers=headers)

    assert response.status_code == 404
    assert "777" in error_text(response)


def test_a_contact_holds_at_most_50_active_pain_points(
    client: TestClient, headers: Headers
) -> None:
    """The documented 50 holds on every path: a 51st active pain point, added or re-opened, is a
    422 saying the limit and changes nothing; resolved ones are history and do not count."""
    contact = make_contact(client, headers, pain_points=[f"Problem {n}" for n in range(50)])
    url = f"/contacts/{contact['id']}/pain-points"
    resolved = client.post(url, json={"text": "Long solved", "active": False}, headers=headers)
    assert resolved.status_code == 201, resolved.text
    before = get_json(client, f"/contacts/{contact['id']}", headers)

    added = client.post(url, json={"text": "One more"}, headers=headers)
    reopened = client.patch(
        f"{url}/{resolved.json()['id']}", json={"active": True}, headers=headers
    )

    for response in (added, reopened):
        assert response.status_code == 422, response.text
        assert "already has 50 active pain points" in error_text(response)
    assert get_json(client, f"/contacts/{contact['id']}", headers) == before
    first = contact["pain_points"][0]["id"]
    assert client.delete(f"{url}/{first}", headers=headers).status_code == 200
    assert client.post(url, json={"text": "One more"}, headers=headers).status_code == 201


def test_patch_pain_point(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, pain_points=["Slow sales", "Burnout"])
    first, second = contact["pain_points"]

    response = client.patch(
        f"/contacts/{contact['id']}/pain-points/{first['id']}",
        json={"text": "Slow enterprise sales", "noted_on": "2025-01-02"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": first["id"],
        "text": "Slow enterprise sales",
        "noted_on": "2025-01-02",
        "active": True,
    }
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert stored["pain_points"] == [response.json(), second]


def test_patch_pain_point_cannot_null_text(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, pain_points=["Slow sales"])
    before = get_json(client, f"/contacts/{contact['id']}", headers)
    url = f"/contacts/{contact['id']}/pain-points/{contact['pain_points'][0]['id']}"

    response = client.patch(url, json={"text": None}, headers=headers)

    assert response.status_code == 422
    assert "text" in error_text(response)
    assert get_json(client, f"/contacts/{contact['id']}", headers) == before


def test_delete_pain_point_resolves_it(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers, pain_points=["Fundraising", "Hiring"])
    first, second = contact["pain_points"]

    response = client.delete(
        f"/contacts/{contact['id']}/pain-points/{first['id']}", headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json() == {**first, "active": False}
    stored = get_json(client, f"/contacts/{contact['id']}", headers)
    assert stored["pain_points"] == [{**first, "active": False}, second]
    # Resolving again changes nothing.
    again = client.delete(f"/contacts/{contact['id']}/pain-points/{first['id']}", headers=headers)
    assert again.status_code == 200
    assert again.json()["active"] is False


def test_pain_point_of_another_contact_is_404(client: TestClient, headers: Headers) -> None:
    owner = make_contact(client, headers, name="Owner", pain_points=["Taxes"])
    other = make_contact(client, headers, name="Other")
    pain_point = owner["pain_points"][0]
    url = f"/contacts/{other['id']}/pain-points/{pain_point['id']}"

    assert client.patch(url, json={"text": "Changed"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    stored = get_json(client, f"/contacts/{owner['id']}", headers)
    assert stored["pain_points"] == [pain_point]


def test_unknown_pain_point_is_404(client: TestClient, headers: Headers) -> None:
    contact = make_contact(client, headers)

    response = client.delete(f"/contacts/{contact['id']}/pain-points/424242", headers=headers)

    assert response.status_code == 404
    assert "424242" in error_text(response)


# --- workspace ------------------------------------------------------------------------------


def test_get_workspace(client: TestClient, headers: Headers) -> None:
    workspace = get_json(client, "/workspace", headers)

    assert workspace["name"] == "acme"
    assert workspace["default_tier"] == "B"
    assert workspace["cadence_days"] == CADENCE_DAYS


def test_workspace_cadence_override_moves_next_due(client: TestClient, headers: Headers) -> None:
    last = date(2025, 3, 10)
    tier_a = make_contact(client, headers, name="Aaron", tier="A", last_contacted_on=_iso(last))
    tier_b = make_contact(client, headers, name="Bea", tier="B", last_contacted_on=_iso(last))

    response = client.patch("/workspace", json={"cadence_a_days": 30}, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["cadence_days"] == {**CADENCE_DAYS, "A": 30}
    assert get_json(client, "/workspace", headers)["cadence_days"] == {**CADENCE_DAYS, "A": 30}
    got_a = get_json(client, f"/contacts/{tier_a['id']}", headers)
    assert got_a["next_due_on"] == _iso(last + timedelta(days=30))
    listed = {item["id"]: item for item in get_json(client, "/contacts", headers)["items"]}
    assert listed[tier_a["id"]]["next_due_on"] == _iso(last + timedelta(days=30))
    assert listed[tier_b["id"]]["next_due_on"] == tier_b["next_due_on"]

    # null goes back to the service default.
    reset = client.patch("/workspace", json={"cadence_a_days": None}, headers=headers)
    assert reset.status_code == 200, reset.text
    assert reset.json()["cadence_days"] == CADENCE_DAYS
    got_a = get_json(client, f"/contacts/{tier_a['id']}", headers)
    assert got_a["next_due_on"] == _iso(last + timedelta(days=CADENCE_DAYS["A"]))


def test_workspace_default_tier_applies_to_new_contacts(
    client: TestClient, headers: Headers
) -> None:
    response = client.patch("/workspace", json={"default_tier": "C"}, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["default_tier"] == "C"
    assert make_contact(client, headers)["tier"] == "C"
    assert make_contact(client, headers, tier="A")["tier"] == "A"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cadence_a_days": 0}, "cadence_a_days"),
        ({"cadence_b_days": "often"}, "cadence_b_days"),
        ({"cadence_c_days": 3651}, "cadence_c_days"),
        ({"default_tier": "Z"}, "default_tier"),
        ({"default_tier": None}, "default_tier"),
        ({"colour": "blue"}, "colour"),
        ({"signature": "Sam\u0000"}, "signature"),
        ({"signature": "S" * 501}, "signature"),
        ({"signature": "\n".join("Sam" for _ in range(9))}, "signature"),
        ({"signature": ["Sam"]}, "signature"),
    ],
)
def test_workspace_rejects_bad_settings(
    client: TestClient, headers: Headers, body: Json, field: str
) -> None:
    before = get_json(client, "/workspace", headers)

    response = client.patch("/workspace", json=body, headers=headers)

    assert response.status_code == 422
    assert field in error_text(response)
    assert get_json(client, "/workspace", headers) == before
