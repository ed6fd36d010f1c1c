"""Touches through the API: logged by hand, read from a Google Calendar export, a Gmail Takeout
mbox and a single .eml (real files, real SQLite), the cadence they restart and the daily list."""

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import (
    Api,
    Headers,
    Json,
    auth,
    error_text,
    get_json,
    make_contact,
    running_api,
)
from tests.helpers import create_key, givefirst

FIXTURES = Path(__file__).parent / "fixtures" / "touches"
TODAY = date.today()


def upload(
    client: TestClient,
    headers: Headers,
    name: str,
    fmt: str | None = None,
    data: bytes | None = None,
) -> Json:
    response = client.post(
        "/imports/touches",
        headers=headers,
        files={"file": (name, data if data is not None else (FIXTURES / name).read_bytes())},
        params={"format": fmt} if fmt else None,
    )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def people(client: TestClient, headers: Headers) -> dict[str, int]:
    names = ["Priya Shah", "Marcus Lee", "Lena Park", "José García", "Alex Kim", "Alex Kim"]
    emails = [
        "priya.shah@example.org",
        "marcus@example.net",
        "lena@work.example",
        None,
        "alex.kim@one.example",
        "alex.kim@two.example",
    ]
    ids: dict[str, int] = {}
    for name, email in zip(names, emails, strict=True):
        contact = make_contact(client, headers, name=name, email=email)
        ids.setdefault(name, contact["id"])
    return ids


def touches(client: TestClient, headers: Headers, contact_id: int) -> list[Json]:
    items: list[Json] = get_json(client, f"/contacts/{contact_id}/touches", headers)["items"]
    return items


def test_a_google_calendar_export_logs_each_occurrence_met_once(api: Api, headers: Headers) -> None:
    client = api.client
    ids = people(client, headers)

    report = upload(client, headers, "google_calendar.ics")

    assert report["format"] == "ics"
    # The weekly 1:1 (5 Mondays, one excluded by EXDATE, one moved to a Tuesday): 4 meetings;
    # the lunch: 1 (Lena, by her unique name; Marcus declined); the cancelled coffee and the
    # meeting in 2099: none.
    assert report["read"] == 5
    assert (report["logged"], report["contacts_touched"]) == (5, 2)
    assert report["skipped"] == 1
    [broken] = report["skipped_rows"]
    assert (broken["record"], broken["line"]) == (5, 92)
    assert "DTSTART" in broken["reason"]
    unknown = {p["email"]: p for p in report["unknown_people"]}
    assert set(unknown) == {"sam@example.com", "dana@elsewhere.example"}
    assert unknown["dana@elsewhere.example"]["name"] == "Dana Whitfield"
    assert unknown["sam@example.com"]["occurrences"] == 5

    priya = touches(client, headers, ids["Priya Shah"])
    assert [t["happened_on"] for t in priya] == [
        "2026-11-02",
        "2026-10-27",
        "2026-10-12",
        "2026-10-05",
    ]
    assert {t["kind"] for t in priya} == {"meeting"}
    assert {t["source"] for t in priya} == {"ics"}
    # 09:30 in Paris: 07:30 UTC in summer time, 08:30 UTC after the change of 25 October.
    assert priya[-1]["happened_at"].startswith("2026-10-05T07:30:00")
    assert priya[0]["happened_at"].startswith("2026-11-02T08:30:00")
    assert priya[1]["subject"] == "Weekly 1:1 Priya / Sam (moved to Tuesday)"
    assert [t["subject"] for t in touches(client, headers, ids["Lena Park"])] == ["Team lunch"]
    assert touches(client, headers, ids["Marcus Lee"]) == []
    contact = get_json(client, f"/contacts/{ids['Priya Shah']}", headers)
    assert contact["last_contacted_on"] == "2026-11-02"
    assert get_json(client, f"/contacts/{ids['Marcus Lee']}", headers)["last_contacted_on"] is None

    again = upload(client, headers, "google_calendar.ics")
    assert (again["logged"], again["already_logged"]) == (0, 5)
    assert len(touches(client, headers, ids["Priya Shah"])) == 4


def test_outlook_and_apple_calendar_exports(api: Api, headers: Headers) -> None:
    """Outlook's Windows time zone names ("W. Europe Standard Time", defined in the file) and a
    weekly series; Apple's Olson zones, folded lines and a cancelled all-day event."""
    client = api.client
    ids = people(client, headers)

    outlook = upload(client, headers, "outlook_calendar.ics")
    apple = upload(client, headers, "apple_calendar.ics")

    assert (outlook["read"], outlook["logged"], outlook["skipped"]) == (3, 6, 0)
    assert (apple["read"], apple["logged"], apple["skipped"]) == (1, 1, 0)
    priya = touches(client, headers, ids["Priya Shah"])
    # 09:30 in Berlin's summer time: 07:30 UTC.
    assert [t["happened_at"][:19] for t in priya] == [
        "2026-10-20T07:30:00",
        "2026-10-13T07:30:00",
        "2026-10-06T07:30:00",
    ]
    assert {(t["kind"], t["subject"]) for t in priya} == {("meeting", "Planning")}
    assert len(touches(client, headers, ids["Lena Park"])) == 3  # not the cancelled offsite
    [lunch] = touches(client, headers, ids["Marcus Lee"])
    assert (lunch["happened_at"][:19], lunch["subject"]) == (
        "2026-11-04T11:00:00",
        "Lunch with Marcus",
    )


def test_a_gmail_takeout_mbox_and_an_eml_of_the_same_message(api: Api, headers: Headers) -> None:
    client = api.client
    ids = people(client, headers)

    report = upload(client, headers, "gmail_takeout.mbox")

    assert (report["format"], report["read"]) == ("mbox", 3)
    # Priya (to, then from), Marcus (to), José (by his unique name, decoded); not the two Alex
    # Kims (a name two contacts share matches neither).
    assert (report["logged"], report["contacts_touched"]) == (4, 3)
    assert report["skipped_rows"] == [
        {"record": 3, "line": 30, "reason": "no Date header: the day it was sent is unknown"}
    ]
    unknown = {p["email"]: p["name"] for p in report["unknown_people"]}
    assert unknown["zoe@example.com"] == "Zoë Müller"  # RFC 2047, base64 and quoted-printable
    assert unknown["alex.kim@somewhere.example"] == "Alex Kim"

    priya = touches(client, headers, ids["Priya Shah"])
    assert [(t["happened_on"], t["kind"], t["subject"]) for t in priya] == [
        ("2026-11-03", "email_received", "Re: Café next week?"),
        ("2026-10-12", "email_sent", "Café next week?"),
    ]
    assert [t["kind"] for t in touches(client, headers, ids["José García"])] == ["email_sent"]
    assert touches(client, headers, ids["Alex Kim"]) == []
    assert get_json(client, f"/contacts/{ids['Priya Shah']}", headers)["last_contacted_on"] == (
        "2026-11-03"
    )

    # The same message saved as an .eml (and the mbox again): nothing new.
    eml = upload(client, headers, "priya_reply.eml")
    assert (eml["format"], eml["logged"], eml["already_logged"]) == ("eml", 0, 1)
    assert upload(client, headers, "gmail_takeout.mbox", "mbox")["logged"] == 0
    assert len(touches(client, headers, ids["Priya Shah"])) == 2


def test_a_touch_restarts_the_cadence_but_is_not_a_give(api: Api, headers: Headers) -> None:
    client = api.client
    contact = make_contact(client, headers, name="Ada", tier="A")
    give = client.post(
        f"/contacts/{contact['id']}/gives",
        json={"description": "Sent the guide", "given_on": (TODAY - timedelta(40)).isoformat()},
        headers=headers,
    )
    assert give.status_code == 201, give.text

    response = client.post(
        f"/contacts/{contact['id']}/touches",
        json={
            "kind": "call",
            "happened_on": (TODAY - timedelta(2)).isoformat(),
            "subject": "Catch-up",
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["source"] == "manual"
    after = get_json(client, f"/contacts/{contact['id']}", headers)
    assert after["last_contacted_on"] == (TODAY - timedelta(2)).isoformat()
    ledger = get_json(client, f"/contacts/{contact['id']}/ledger", headers)
    assert (ledger["given"], ledger["asked"], ledger["balance"]) == (1, 0, 1)
    assert [(t["kind"], t["subject"]) for t in ledger["touches"]] == [("call", "Catch-up")]
    # An older touch does not move the last contact back.
    older = client.post(
        f"/contacts/{contact['id']}/touches",
        json={"kind": "note", "happened_on": (TODAY - timedelta(9)).isoformat()},
        headers=headers,
    )
    assert older.status_code == 201
    assert (
        get_json(client, f"/contacts/{contact['id']}", headers)["last_contacted_on"]
        == (after["last_contacted_on"])
    )


def test_a_touch_to_come_is_refused(api: Api, headers: Headers) -> None:
    client = api.client
    contact = make_contact(client, headers)
    tomorrow = (TODAY + timedelta(1)).isoformat()
    later = (datetime.now().astimezone() + timedelta(hours=2)).isoformat()
    for body, expected in (
        ({"kind": "meeting", "happened_on": tomorrow}, "is after today"),
        ({"kind": "meeting", "happened_at": later}, "in the future"),
        ({"kind": "meeting", "happened_at": "2026-01-01T10:00:00"}, "time zone"),
        ({"kind": "lunch"}, "kind"),
    ):
        response = client.post(f"/contacts/{contact['id']}/touches", json=body, headers=headers)
        assert response.status_code == 422, body
        assert expected in response.text, response.text
    assert touches(client, headers, contact["id"]) == []
    assert get_json(client, f"/contacts/{contact['id']}", headers)["last_contacted_on"] is None


def test_a_contact_touched_yesterday_is_not_on_todays_list(api: Api, headers: Headers) -> None:
    client = api.client
    seen = make_contact(client, headers, name="Seen yesterday", tier="A")
    make_contact(client, headers, name="Not seen", tier="A")
    yesterday = (TODAY - timedelta(1)).isoformat()
    response = client.post(
        f"/contacts/{seen['id']}/touches",
        json={"kind": "meeting", "happened_on": yesterday},
        headers=headers,
    )
    assert response.status_code == 201

    daily = client.post("/daily", headers=headers)

    assert daily.status_code == 200, daily.text
    listed = [item["contact"]["name"] for item in daily.json()["items"]]
    assert listed == ["Not seen"]
    assert get_json(client, f"/contacts/{seen['id']}", headers)["next_due_on"] > TODAY.isoformat()


def test_touches_stay_in_their_workspace(api: Api, headers: Headers) -> None:
    client = api.client
    ours = make_contact(client, headers, name="Priya Shah", email="priya.shah@example.org")
    other = api.headers("other")
    theirs = make_contact(client, other, name="Priya Shah", email="priya.shah@example.org")

    report = upload(client, other, "gmail_takeout.mbox")

    assert report["contacts_touched"] == 1
    assert touches(client, headers, ours["id"]) == []
    assert len(touches(client, other, theirs["id"])) == 2
    for method, path in (("GET", "touches"), ("POST", "touches")):
        response = client.request(
            method, f"/contacts/{theirs['id']}/{path}", headers=headers, json={"kind": "call"}
        )
        assert response.status_code == 404


def test_a_file_that_is_not_the_format_named_is_refused(api: Api, headers: Headers) -> None:
    client = api.client
    contact = make_contact(client, headers, name="Priya Shah", email="priya.shah@example.org")
    mbox = (FIXTURES / "gmail_takeout.mbox").read_bytes()
    ics = (FIXTURES / "google_calendar.ics").read_bytes()
    for name, data, fmt, expected in (
        ("mail.mbox", mbox, "ics", "Not an iCalendar"),
        ("cal.ics", ics, "mbox", "Not an mbox"),
        ("cal.ics", ics, "eml", "no From header"),
        ("mail.mbox", mbox, "eml", "import it as mbox"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", None, "name the format"),
        ("empty.ics", b"", "ics", "empty"),
    ):
        response = client.post(
            "/imports/touches",
            headers=headers,
            files={"file": (name, data)},
            params={"format": fmt} if fmt else None,
        )
        assert response.status_code == 422, (name, fmt)
        assert expected in error_text(response), error_text(response)
    assert touches(client, headers, contact["id"]) == []


def test_givefirst_import_touches_reads_a_calendar_and_a_folder_of_eml(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")
    with running_api(data_dir) as api:
        priya = make_contact(
            api.client, auth(key), name="Priya Shah", email="priya.shah@example.org"
        )
    folder = tmp_path / "Sent"
    folder.mkdir()
    shutil.copy(FIXTURES / "priya_reply.eml", folder / "reply.eml")

    first = givefirst(
        data_dir,
        "import",
        "touches",
        str(FIXTURES / "google_calendar.ics"),
        str(folder),
        "-w",
        "acme",
    )
    again = givefirst(data_dir, "import", "touches", str(folder), "-w", "acme")
    wrong = givefirst(
        data_dir,
        "import",
        "touches",
        str(FIXTURES / "google_calendar.ics"),
        "--format",
        "mbox",
        "-w",
        "acme",
    )

    assert first.returncode == 0, first.stderr
    assert "Read as ics: 5 read, 4 touches logged for 1 contacts" in first.stdout
    assert "skipped: line 92: malformed event: DTSTART" in first.stdout
    assert "Dana Whitfield <dana@elsewhere.example>: 1" in first.stdout
    assert "Read as eml: 1 read, 1 touches logged" in first.stdout
    assert "0 touches logged for 0 contacts, 1 already logged" in again.stdout
    assert wrong.returncode == 1
    assert "Not an mbox" in wrong.stderr
    with running_api(data_dir) as api:
        contact = get_json(api.client, f"/contacts/{priya['id']}", auth(key))
        assert contact["last_contacted_on"] == "2026-11-03"
        assert len(touches(api.client, auth(key), priya["id"])) == 5
