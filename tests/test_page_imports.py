"""The web page's Import: a file posted through the page goes through the API's import (its
records, its report, its message for a file that cannot be read), within the signed-in
workspace, and only with the session's CSRF token."""

import httpx

from tests.conftest import Api, auth, get_json
from tests.helpers import Browser, seed, sign_in

VCARD = b"""BEGIN:VCARD
VERSION:3.0
FN:Bea Okafor
N:Okafor;Bea;;;
ORG:Fabrikam
EMAIL;type=INTERNET:bea@fabrikam.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:;;;;
ORG:;;
END:VCARD
"""
ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//EN
BEGIN:VEVENT
UID:page-import-1@example
DTSTAMP:20261001T090000Z
DTSTART:20261001T090000Z
DTEND:20261001T093000Z
SUMMARY:Coffee
ORGANIZER;CN=Sam:mailto:sam@example.com
ATTENDEE;CN=Ann:mailto:ann@acme.example
ATTENDEE;CN=Stranger:mailto:stranger@elsewhere.example
END:VEVENT
END:VCALENDAR
"""


def upload(
    browser: Browser,
    kind: str,
    name: str,
    content: bytes,
    format_name: str = "",
    csrf: bool = True,
) -> httpx.Response:
    headers = {"HX-Request": "true", **({"X-CSRF-Token": browser.csrf} if csrf else {})}
    return browser.client.post(
        f"/imports/page/{kind}",
        files={"file": (name, content)},
        data={"format": format_name},
        headers=headers,
        follow_redirects=False,
    )


def test_import_page_imports_contacts_and_touches_as_the_api_does(api: Api) -> None:
    key, headers, ann = seed(api, "acme")
    browser = sign_in(api, key)
    page = browser.client.get("/import")
    assert page.status_code == 200, page.text
    assert '<a href="/import" aria-current="page">Import</a>' in page.text
    for kind in ("contacts", "articles", "touches"):
        assert f'<label for="import-{kind}-file">' in page.text
        assert f'<label for="import-{kind}-format">' in page.text
        assert f'action="/imports/page/{kind}"' in page.text

    contacts = upload(browser, "contacts", "people.vcf", VCARD)
    assert contacts.status_code == 200, contacts.text
    assert "1 created, 0 updated, 0 unchanged, 1 skipped." in contacts.text
    assert "Line 8:" in contacts.text and "no name" in contacts.text  # the skipped card, why
    found = get_json(api.client, "/contacts", headers, q="bea@fabrikam.example")["items"]
    assert [(c["name"], c["company"]) for c in found] == [("Bea Okafor", "Fabrikam")]

    touches = upload(browser, "touches", "calendar.ics", ICS, "ics")
    assert touches.status_code == 200, touches.text
    assert "1 touches logged for" in touches.text
    assert "stranger@elsewhere.example" in touches.text  # an unknown person, listed
    logged = get_json(api.client, f"/contacts/{ann['id']}/touches", headers)
    assert logged["total"] == 1
    assert logged["items"][0]["kind"] == "meeting"
    assert get_json(api.client, "/contacts", headers, q="stranger")["total"] == 0

    # A plain form post (no JavaScript) gets the whole page with the report.
    plain = browser.client.post(
        "/imports/page/contacts",
        files={"file": ("people.vcf", VCARD)},
        data={"csrf_token": browser.csrf},
    )
    assert plain.status_code == 200, plain.text
    assert "<h1>Import</h1>" in plain.text and "0 created, 0 updated, 1 unchanged" in plain.text


def test_a_file_the_import_cannot_read_gets_the_apis_message(api: Api) -> None:
    key, headers, _ = seed(api, "acme")
    browser = sign_in(api, key)
    bad = b"this is not a calendar\n"
    through_api = api.client.post(
        "/imports/touches", files={"file": ("x.ics", bad)}, data={"format": "ics"}, headers=headers
    )
    assert through_api.status_code == 422
    through_page = upload(browser, "touches", "x.ics", bad, "ics")
    assert through_page.status_code == 422
    assert through_page.json()["message"] == through_api.json()["message"]
    wrong = upload(browser, "contacts", "x.csv", b"\xff\xfe\x00not utf-8", "linkedin")
    assert wrong.status_code == 422
    assert wrong.json()["message"]
    unknown = upload(browser, "articles", "x.txt", b"x", "word")
    assert unknown.status_code == 422
    assert get_json(api.client, "/articles", headers)["total"] == 1


def test_import_needs_the_csrf_token_and_touches_only_its_workspace(api: Api) -> None:
    key_a, headers_a, ann = seed(api, "acme")
    key_b, headers_b, _ = seed(api, "other")
    a = sign_in(api, key_a)
    b = sign_in(api, key_b)
    refused = upload(a, "contacts", "people.vcf", VCARD, csrf=False)
    assert refused.status_code == 403
    assert get_json(api.client, "/contacts", headers_a)["total"] == 1

    # Ann's e-mail is a contact of "acme" only: "other" logs nothing for her, lists her unknown.
    assert upload(b, "touches", "calendar.ics", ICS).status_code == 200
    assert upload(b, "contacts", "people.vcf", VCARD).status_code == 200
    assert get_json(api.client, f"/contacts/{ann['id']}/touches", headers_a)["total"] == 0
    assert get_json(api.client, "/contacts", headers_a)["total"] == 1
    assert get_json(api.client, "/contacts", headers_b)["total"] == 2
    assert get_json(api.client, "/contacts", auth(key_b), q="bea")["total"] == 1
