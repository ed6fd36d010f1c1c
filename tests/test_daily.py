"""The day's list through the API: snoozes (of a contact, of a list item) and a stored list that
stays current when read."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, Headers, Json, error_text, get_json, make_contact, running_api

TODAY = date.today()


def day(n: int) -> str:
    return (TODAY + timedelta(n)).isoformat()


@pytest.fixture
def budget_3(data_dir: Path) -> Iterator[Api]:
    with running_api(data_dir, daily_budget=3) as api:
        yield api


def build(client: TestClient, headers: Headers, **params: Any) -> Json:
    response = client.post("/daily", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def names(daily: Json) -> list[str]:
    return [item["contact"]["name"] for item in daily["items"]]


def coming_up(daily: Json) -> list[str]:
    return [c["name"] for later in daily["coming_up"] for c in later["contacts"]]


def everyone(daily: Json) -> list[str]:
    return names(daily) + coming_up(daily)


def test_a_snoozed_contact_leaves_every_list_until_the_day_and_no_give_is_logged(
    budget_3: Api,
) -> None:
    client, headers = budget_3.client, budget_3.headers()
    # Never contacted: all due today, in the order they were added (same day, same tier).
    ids = {n: make_contact(client, headers, name=n, tier="B")["id"] for n in "ABCDE"}

    snoozed = client.post(f"/contacts/{ids['A']}/snooze", json={"until": day(10)}, headers=headers)
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["snoozed_until"] == day(10)
    assert snoozed.json()["next_due_on"] == day(10)  # due again the day it comes back
    client.post(f"/contacts/{ids['D']}/snooze", json={"until": day(2)}, headers=headers)

    today = build(client, headers)
    assert names(today) == ["B", "C", "E"]
    assert today["due_count"] == 3
    assert coming_up(today) == []  # D was due but is snoozed: not planned for tomorrow either
    # D is back on day 2, first (B, C and E were listed two days before and wait their turn).
    assert everyone(build(client, headers, date=day(2))) == ["D", "B", "C", "E"]
    assert "A" not in everyone(build(client, headers, date=day(9)))
    assert "A" in everyone(build(client, headers, date=day(10)))

    ledger = get_json(client, f"/contacts/{ids['A']}/ledger", headers)
    assert (ledger["given"], ledger["asked"]) == (0, 0)
    assert get_json(client, f"/contacts/{ids['A']}", headers)["last_contacted_on"] is None

    woken = client.delete(f"/contacts/{ids['A']}/snooze", headers=headers)
    assert woken.status_code == 200
    assert woken.json()["snoozed_until"] is None
    assert woken.json()["next_due_on"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"until": TODAY.isoformat()}, "must be after today"),
        ({"until": day(-3)}, "must be after today"),
        ({"until": day(731)}, "at most 730 days"),
        ({"until": "next week"}, "use a date like"),
        ({"until": None}, "until"),
        ({}, "until"),
    ],
)
def test_a_snooze_needs_a_day_after_today_and_within_two_years(
    api: Api, headers: Headers, body: Json, expected: str
) -> None:
    contact = make_contact(api.client, headers)
    response = api.client.post(f"/contacts/{contact['id']}/snooze", json=body, headers=headers)
    assert response.status_code == 422
    assert expected in error_text(response)
    assert get_json(api.client, f"/contacts/{contact['id']}", headers) == contact


def test_another_workspace_cannot_snooze_a_contact(api: Api, headers: Headers) -> None:
    contact = make_contact(api.client, headers)
    stranger = api.headers("other")
    for method in ("POST", "DELETE"):
        response = api.client.request(
            method,
            f"/contacts/{contact['id']}/snooze",
            json={"until": day(5)} if method == "POST" else None,
            headers=stranger,
        )
        assert response.status_code == 404
    assert get_json(api.client, f"/contacts/{contact['id']}", headers)["snoozed_until"] is None


def test_snoozing_an_item_of_the_day_takes_its_contact_off_the_list(budget_3: Api) -> None:
    client, headers = budget_3.client, budget_3.headers()
    for n in "ABCD":
        make_contact(client, headers, name=n)
    built = build(client, headers)
    assert names(built) == ["A", "B", "C"] and coming_up(built) == ["D"]
    b_id = built["items"][1]["contact"]["id"]

    response = client.post("/daily/items/2/snooze", json={"until": day(7)}, headers=headers)
    assert response.status_code == 200, response.text
    after = response.json()
    assert names(after) == ["A", "C"]
    assert [i["position"] for i in after["items"]] == [1, 3]  # the others keep their places
    assert after["items"] == [built["items"][0], built["items"][2]]
    assert get_json(client, "/daily", headers) == after
    assert get_json(client, f"/contacts/{b_id}", headers)["snoozed_until"] == day(7)
    assert get_json(client, f"/contacts/{b_id}/ledger", headers)["given"] == 0
    assert b_id not in [i["contact"]["id"] for i in build(client, headers, date=day(1))["items"]]

    missing = client.post("/daily/items/9/snooze", json={"until": day(7)}, headers=headers)
    assert missing.status_code == 404 and "position 9" in error_text(missing)
    no_list = client.post(
        "/daily/items/1/snooze", json={"until": day(7)}, headers=headers, params={"date": day(-5)}
    )
    assert no_list.status_code == 404
    stranger = client.post(
        "/daily/items/1/snooze", json={"until": day(7)}, headers=budget_3.headers("other")
    )
    assert stranger.status_code == 404  # their own list, which they do not have
    bad = client.post("/daily/items/1/snooze", json={"until": day(0)}, headers=headers)
    assert bad.status_code == 422 and "after today" in error_text(bad)
    assert get_json(client, "/daily", headers) == after


def test_a_list_read_later_shows_contacts_due_since_after_the_items_already_shown(
    data_dir: Path,
) -> None:
    with running_api(data_dir, daily_budget=5) as api:
        client, headers = api.client, api.headers()
        make_contact(client, headers, name="First")
        make_contact(client, headers, name="Second")
        # Tier C, last seen 100 days ago: not due (365 days), nor due within the lookahead.
        later = make_contact(
            client, headers, name="Re-tiered", tier="C", last_contacted_on=day(-100)
        )
        yesterday = build(client, headers, date=day(-1))
        assert names(yesterday) == []
        built = build(client, headers)
        assert names(built) == ["First", "Second"]
        sent = client.post(
            f"/suggestions/{built['items'][0]['suggestion']['id']}/sent", headers=headers
        )
        assert sent.status_code == 200

        make_contact(client, headers, name="Added")  # never contacted: due today
        linkedin = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        imported = client.post(
            "/imports/contacts",
            headers=headers,
            files={"file": ("Connections.csv", linkedin + b"Ivo,Imported,,,,,\n")},
        )
        assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text
        retiered = client.patch(f"/contacts/{later['id']}", json={"tier": "A"}, headers=headers)
        assert retiered.json()["next_due_on"] < TODAY.isoformat()  # 90 days: overdue now

        current = get_json(client, "/daily", headers)
        # Overdue first among the new ones; the two shown first are untouched (the first one
        # acted on stays as it was, sent).
        assert names(current) == ["First", "Second", "Re-tiered", "Added", "Ivo Imported"]
        assert current["items"][0]["suggestion"]["status"] == "sent"
        assert current["items"][1] == built["items"][1]
        assert [i["position"] for i in current["items"]] == [1, 2, 3, 4, 5]
        assert get_json(client, "/daily", headers) == current  # stored: read again, the same
        assert build(client, headers) == current

        make_contact(client, headers, name="One too many")  # the list is at its budget
        assert get_json(client, "/daily", headers) == current
        # A past day's list is shown as it was (Re-tiered is overdue since before it now).
        assert get_json(client, "/daily", headers, date=day(-1)) == yesterday
