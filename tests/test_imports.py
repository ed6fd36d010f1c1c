"""Importing contacts and articles from the files people really have.

The fixtures in ``tests/fixtures/imports`` follow the real exports byte for byte: LinkedIn's
``Notes:`` preamble, Google's ``:::`` joined values and UTF-16 legacy file, CRLF line ends,
folded vCard lines, Chrome's and Firefox's bookmark files; some rows in them are broken on
purpose.
"""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    Api,
    Headers,
    Json,
    error_text,
    get_json,
    make_article,
    make_contact,
    running_api,
    snapshot,
)
from tests.helpers import FIXTURES, articles_by_url, contacts_by_name, upload


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def import_file(client: TestClient, path: str, headers: Headers, name: str, **params: str) -> Json:
    response = upload(client, path, headers, fixture(name), name, **params)
    assert response.status_code == 200, response.text
    report: Json = response.json()
    return report


def skipped(report: Json) -> list[tuple[int, int | None]]:
    return [(row["record"], row["line"]) for row in report["skipped_rows"]]


# --- contacts -------------------------------------------------------------------------------


def test_linkedin_export_with_preamble(client: TestClient, headers: Headers) -> None:
    client.patch("/workspace", json={"default_tier": "C"}, headers=headers)

    report = import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")

    assert report["format"] == "linkedin"
    assert (report["created"], report["updated"], report["skipped"]) == (6, 0, 2)
    # Records count data rows; lines count the file's lines (preamble and header included).
    assert skipped(report) == [(5, 9), (7, 11)]
    reasons = [row["reason"] for row in report["skipped_rows"]]
    assert "no first or last name" in reasons[0]
    assert "8 values" in reasons[1] and "7 columns" in reasons[1]
    assert [(w["line"], "sometime in 2019" in w["reason"]) for w in report["warnings"]] == [
        (12, True)
    ]

    people = contacts_by_name(client, headers)
    assert set(people) == {
        "Dana Reyes",
        "Ken Okafor, SPHR",
        "José Álvarez",
        "Zoë Ångström 🌱",
        "Priya Natarajan",
        "Sam Taylor",
    }
    dana = people["Dana Reyes"]
    assert dana["tier"] == "C"  # the workspace's default tier
    assert dana["company"] == "Northwind Traders"
    assert dana["title"] == "SVP Human Resources"
    assert dana["email"] is None
    assert dana["linkedin_url"] == "https://www.linkedin.com/in/dana-reyes-4b1a2c3"
    assert dana["notes"] == "Connected on LinkedIn on 2025-12-22."
    ken = people["Ken Okafor, SPHR"]
    assert (ken["email"], ken["company"]) == ("ken.okafor@example.com", "Contoso, Ltd.")
    assert people["Priya Natarajan"]["title"] == "Head of People, EMEA"
    assert people["Zoë Ångström 🌱"]["company"] is None
    assert people["Sam Taylor"]["notes"] is None  # its date was unreadable


def test_importing_the_same_file_twice_creates_no_duplicates(
    client: TestClient, headers: Headers
) -> None:
    first = import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")
    before = contacts_by_name(client, headers)

    again = import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")

    assert first["created"] == 6
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 6)
    assert again["skipped"] == 2
    after = contacts_by_name(client, headers)
    assert after == before


def test_a_contact_edited_by_hand_keeps_its_edits(client: TestClient, headers: Headers) -> None:
    import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")
    dana = contacts_by_name(client, headers)["Dana Reyes"]
    edit = {"name": "Dana R.", "tier": "A", "notes": "Prefers phone.", "email": "dana@home.example"}
    assert client.patch(f"/contacts/{dana['id']}", json=edit, headers=headers).status_code == 200

    report = import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")

    assert report["created"] == 0  # matched by LinkedIn URL although the name changed
    stored = get_json(client, f"/contacts/{dana['id']}", headers)
    for field, value in edit.items():
        assert stored[field] == value, field


def test_the_older_linkedin_export_matches_by_name_and_company(
    client: TestClient, headers: Headers
) -> None:
    import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")

    report = import_file(client, "/imports/contacts", headers, "linkedin_connections_2018.csv")

    assert report["format"] == "linkedin"
    assert (report["created"], report["updated"], report["skipped"]) == (1, 1, 1)
    assert skipped(report) == [(3, 4)]
    assert "email" in report["skipped_rows"][0]["reason"]
    people = contacts_by_name(client, headers)
    assert len(people) == 7
    dana = people["Dana Reyes"]
    assert dana["email"] == "dana.reyes@northwind.example"  # filled in: it was empty
    assert dana["title"] == "HR Director"  # the file's title
    assert people["Alex Kim"]["notes"] == "Connected on LinkedIn on 2017-12-31."
    assert "Robin Fischer" not in people


def test_google_contacts_current_export(client: TestClient, headers: Headers) -> None:
    ken = make_contact(client, headers, name="Ken Okafor", email="ken.okafor@example.com")

    report = import_file(client, "/imports/contacts", headers, "google_contacts.csv")

    assert report["format"] == "google"
    assert (report["created"], report["updated"], report["skipped"]) == (2, 1, 2)
    assert skipped(report) == [(4, 6), (5, 7)]  # a bad e-mail; a row with nothing in it
    assert "email" in report["skipped_rows"][0]["reason"]
    people = contacts_by_name(client, headers)
    hannah = people["Hannah Schmidt"]
    assert hannah["email"] == "hannah.schmidt@blueyonder.example"  # first of "a ::: b"
    assert hannah["linkedin_url"] == "https://www.linkedin.com/in/hannahschmidt"
    assert hannah["notes"] == 'Met at SHRM 2025.\nStruggles with "quiet quitting" in ops teams.'
    assert hannah["title"] == "Chief People Officer"
    assert hannah["phones"] == ["+49 170 1234567"]
    assert people["payroll-help@example.net"]["email"] == "payroll-help@example.net"
    # Matched by e-mail whatever its case, and updated rather than duplicated.
    updated = get_json(client, f"/contacts/{ken['id']}", headers)
    assert (updated["company"], updated["title"]) == ("Contoso, Ltd.", "VP Talent")
    assert len(people) == 3


def test_google_contacts_legacy_export_in_utf16(client: TestClient, headers: Headers) -> None:
    assert fixture("google_contacts_legacy.csv")[:2] == b"\xff\xfe"

    report = import_file(client, "/imports/contacts", headers, "google_contacts_legacy.csv")

    assert (report["format"], report["created"], report["skipped"]) == ("google", 2, 0)
    people = contacts_by_name(client, headers)
    mei = people["Mei Chen"]
    assert (mei["email"], mei["company"]) == ("mei.chen@litware.example", "Litware")
    assert mei["linkedin_url"] == "http://www.linkedin.com/in/meichen"
    tomas = people["Tomás J. Ruiz"]  # no "Name": built from its parts
    assert tomas["notes"] == "Runs the onboarding guild, Madrid."


def test_vcard_3_folded_lines_and_broken_cards(client: TestClient, headers: Headers) -> None:
    import_file(client, "/imports/contacts", headers, "linkedin_connections.csv")

    report = import_file(client, "/imports/contacts", headers, "contacts_v3.vcf")

    assert report["format"] == "vcard"
    # Dana by her LinkedIn URL (gains an e-mail), Ken by e-mail (nothing new); three broken
    # cards reported with the lines they start on.
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert report["skipped"] == 3
    assert skipped(report) == [(3, 26), (4, 32), (5, 37)]
    reasons = [row["reason"] for row in report["skipped_rows"]]
    assert "END:VCARD" in reasons[0]
    assert "no name" in reasons[1]
    assert "line 41" in reasons[2]
    people = contacts_by_name(client, headers)
    assert len(people) == 6
    assert people["Dana Reyes"]["email"] == "dana.reyes@northwind.example"


def test_vcard_3_into_an_empty_workspace(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/contacts", headers, "contacts_v3.vcf")

    assert report["created"] == 2
    people = contacts_by_name(client, headers)
    dana = people["Dana Reyes"]
    assert dana["notes"] == (
        "Choosing a vendor for the employee engagement survey, wants a shortlist by Q3.\n"
        "Asked about pulse-survey cadence too."
    )
    assert dana["linkedin_url"] == "https://www.linkedin.com/in/dana-reyes-4b1a2c3"
    assert dana["company"] == "Northwind Traders"
    assert dana["phones"] == ["+1 (555) 010-4477"]
    ken = people["Ken Okafor, SPHR"]
    assert ken["company"] == "Contoso, Ltd."
    assert ken["linkedin_url"] == "http://www.linkedin.com/in/kenokafor"


def test_vcard_4(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/contacts", headers, "contacts_v4.vcf")

    assert (report["format"], report["created"], report["skipped"]) == ("vcard", 2, 0)
    people = contacts_by_name(client, headers)
    zoe = people["Zoë Ångström"]
    assert zoe["email"] == "zoe.angstrom@wingtip.example"  # the PREF=1 address
    assert zoe["linkedin_url"] == "https://www.linkedin.com/in/zoe-angstrom"
    assert zoe["title"] == "Independent HR consultant"
    assert zoe["phones"] == ["+44-20-7946-0958"]  # the number of a tel: URI
    hiroshi = people["Hiroshi Nakamura"]  # no FN: built from N
    assert hiroshi["title"] == "Chief Data Scientist, People"
    assert hiroshi["company"] == "Fabrikam"


def test_crlf_and_bom_variants_read_the_same(client: TestClient, headers: Headers) -> None:
    data = fixture("linkedin_connections.csv")
    variant = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")

    report = upload(client, "/imports/contacts", headers, variant).json()

    assert (report["created"], report["skipped"]) == (6, 2)
    assert skipped(report) == [(5, 9), (7, 11)]
    assert "Dana Reyes" in contacts_by_name(client, headers)


def test_format_given_as_a_query_or_a_form_field(client: TestClient, headers: Headers) -> None:
    by_query = upload(
        client, "/imports/contacts", headers, fixture("contacts_v4.vcf"), format="vcard"
    )
    by_form = client.post(
        "/imports/contacts",
        headers=headers,
        files={"file": ("c.vcf", fixture("contacts_v4.vcf"))},
        data={"format": "vcard"},
    )
    clash = client.post(
        "/imports/contacts",
        headers=headers,
        files={"file": ("c.vcf", fixture("contacts_v4.vcf"))},
        data={"format": "vcard"},
        params={"format": "google"},
    )

    assert by_query.status_code == 200 and by_query.json()["created"] == 2
    assert by_form.status_code == 200 and by_form.json()["unchanged"] == 2
    assert clash.status_code == 422 and "twice" in error_text(clash)


# --- files that cannot be read: 4xx, nothing stored -----------------------------------------


@pytest.fixture
def seeded(client: TestClient, headers: Headers) -> Json:
    make_contact(client, headers, name="Already Here", email="here@example.com")
    make_article(client, headers, title="Already saved", url="https://example.com/saved")
    return snapshot(client, headers)


@pytest.mark.parametrize(
    ("path", "data", "params", "expected"),
    [
        ("/imports/contacts", b"", {}, "empty"),
        ("/imports/contacts", b"\r\n  \r\n", {}, "empty"),
        (
            "/imports/contacts",
            "First Name,Last Name,Email Address,Company,Position,Connected On\n"
            "René,Müller,,Société Générale,DRH,01 Jan 2024\n".encode("latin-1"),
            {},
            "UTF-8",
        ),
        ("/imports/contacts", fixture("google_contacts.csv"), {"format": "linkedin"}, "LinkedIn"),
        ("/imports/contacts", fixture("linkedin_connections.csv"), {"format": "vcard"}, "vCard"),
        ("/imports/contacts", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "UTF-8"),
        ("/imports/contacts", b"name;mail\nAda;ada@example.com\n", {}, "format"),
        ("/imports/contacts", b"BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\nhello\r\n", {}, "Line 4"),
        ("/imports/articles", b"", {}, "empty"),
        ("/imports/articles", fixture("feed_rss.xml"), {"format": "opml"}, "OPML"),
        ("/imports/articles", fixture("feeds.opml"), {"format": "feed"}, "RSS"),
        ("/imports/articles", fixture("feed_atom.xml")[:300], {}, "format"),
        ("/imports/articles", fixture("feed_atom.xml")[:300], {"format": "feed"}, "XML"),
        ("/imports/articles", fixture("linkedin_connections.csv"), {}, "format"),
        (
            "/imports/articles",
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
            {"format": "feed"},
            "DTD",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "latin-1",
        "google-claimed-linkedin",
        "linkedin-claimed-vcard",
        "binary",
        "unknown-csv",
        "text-after-card",
        "empty-articles",
        "rss-claimed-opml",
        "opml-claimed-feed",
        "truncated-xml",
        "truncated-xml-claimed-feed",
        "csv-as-articles",
        "entity-expansion",
    ],
)
def test_an_unreadable_file_is_refused_and_nothing_changes(
    client: TestClient,
    headers: Headers,
    seeded: Json,
    path: str,
    data: bytes,
    params: dict[str, str],
    expected: str,
) -> None:
    response = upload(client, path, headers, data, **params)

    assert response.status_code == 422, response.text
    assert expected in error_text(response)
    assert snapshot(client, headers) == seeded


def test_an_unknown_format_name_is_a_422(client: TestClient, headers: Headers) -> None:
    response = upload(client, "/imports/contacts", headers, b"x", format="outlook")

    assert response.status_code == 422
    assert "format" in error_text(response)


def test_a_50_mb_upload_is_refused_before_it_is_read(
    client: TestClient, headers: Headers, seeded: Json
) -> None:
    big = fixture("linkedin_connections.csv") + b"Ann,Lee,,,,,01 Jan 2024\n" * 2_200_000

    response = upload(client, "/imports/contacts", headers, big)

    assert len(big) > 50_000_000
    assert response.status_code == 413, response.text
    assert "nothing was imported" in error_text(response)
    assert snapshot(client, headers) == seeded


def test_the_upload_limit_is_a_setting(tmp_path: Path) -> None:
    data = fixture("linkedin_connections.csv")
    with running_api(tmp_path / "data", import_max_bytes=len(data) - 1) as api:
        headers = api.headers()

        too_big = upload(api.client, "/imports/contacts", headers, data)
        fits = upload(api.client, "/imports/contacts", headers, data[: len(data) - 200])

        assert too_big.status_code == 413
        assert f"{len(data) - 1:,} bytes" in error_text(too_big)
        assert fits.status_code == 200, fits.text
        assert fits.json()["created"] >= 1


def test_a_chunked_upload_over_the_limit_is_refused(tmp_path: Path) -> None:
    boundary = "givefirst-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = b"Ann,Lee,,,,,01 Jan 2024\n" * 5_000

    def body(chunks: int) -> Any:
        yield head + fixture("linkedin_connections.csv")
        for _ in range(chunks):
            yield chunk
        yield tail

    with running_api(tmp_path / "data", import_max_bytes=200_000) as api:
        headers = {**api.headers(), "content-type": f"multipart/form-data; boundary={boundary}"}

        refused = api.client.post("/imports/contacts", headers=headers, content=body(20))
        accepted = api.client.post("/imports/contacts", headers=headers, content=body(0))

        assert refused.status_code == 413, refused.text
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["created"] == 6


def test_imports_need_a_key(client: TestClient) -> None:
    response = upload(client, "/imports/contacts", {}, fixture("contacts_v4.vcf"))

    assert response.status_code == 401


# --- articles -------------------------------------------------------------------------------


def test_chrome_bookmarks_folders_become_tags(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/articles", headers, "bookmarks_chrome.html")

    assert report["format"] == "bookmarks"
    assert (report["created"], report["unchanged"], report["skipped"]) == (3, 1, 2)
    assert skipped(report) == [(3, 19), (6, 23)]
    assert "javascript:" in report["skipped_rows"][0]["reason"]
    saved = articles_by_url(client, headers)
    survey = saved["https://example.org/engagement-survey-vendors"]
    assert survey["title"] == "How to choose an engagement survey vendor & what to ask"
    assert survey["tags"] == ["HR"]  # "Bookmarks bar" is a place, not a topic
    assert survey["saved_on"] == "2024-11-13"
    assert saved["https://example.org/onboarding/first-90-days"]["tags"] == ["HR", "Onboarding"]
    assert saved["https://example.com/pay-transparency"]["tags"] == []


def test_firefox_bookmarks_descriptions_and_tags(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/articles", headers, "bookmarks_firefox.html")

    assert (report["created"], report["skipped"]) == (3, 1)
    assert "place:" in report["skipped_rows"][0]["reason"]
    saved = articles_by_url(client, headers)
    guide = saved["https://example.net/remote-work/manager-guide"]
    assert guide["title"] == "Leading remote teams: a manager's guide"
    assert guide["summary"] == "Rituals, async updates and 1:1s that work across time zones."
    assert guide["tags"] == ["Reading list", "remote", "management"]
    assert saved["https://example.net/hr-analytics/attrition"]["tags"] == []


def test_a_saved_article_keeps_its_text_and_gains_tags(
    client: TestClient, headers: Headers
) -> None:
    article = make_article(
        client,
        headers,
        title="My own title",
        url="https://example.org/engagement-survey-vendors",
        text="The full text I pasted.",
        tags=["vendors"],
    )

    report = import_file(client, "/imports/articles", headers, "bookmarks_chrome.html")
    again = import_file(client, "/imports/articles", headers, "bookmarks_chrome.html")

    assert (report["created"], report["updated"]) == (2, 1)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    stored = get_json(client, f"/articles/{article['id']}", headers)
    assert stored["title"] == "My own title"
    assert stored["text"] == "The full text I pasted."
    assert stored["tags"] == ["vendors", "HR"]
    assert get_json(client, "/articles", headers)["total"] == 3


def test_opml_feed_list_subscribes_to_its_feeds(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/articles", headers, "feeds.opml")

    assert (report["format"], report["created"], report["skipped"]) == ("opml", 3, 1)
    assert "file:///home/me/feed.xml" in report["skipped_rows"][0]["reason"]
    feeds = {f["url"]: f for f in client.get("/feeds", headers=headers).json()["items"]}
    weekly = feeds["https://peopleops.example/feed.xml"]
    assert (weekly["title"], weekly["tags"], weekly["status"]) == (
        "People Ops Weekly",
        ["HR"],
        "new",
    )
    assert feeds["https://talent.example/rss"]["title"] == "Talent Notes"
    assert feeds["https://eng.example/atom.xml"]["tags"] == []
    assert articles_by_url(client, headers) == {}  # no home page saved as an article

    again = import_file(client, "/imports/articles", headers, "feeds.opml")
    assert (again["created"], again["unchanged"]) == (0, 3)
    assert client.get("/feeds", headers=headers).json()["total"] == 3


def test_rss_feed(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/articles", headers, "feed_rss.xml")

    assert (report["format"], report["created"], report["skipped"]) == ("feed", 2, 1)
    assert skipped(report) == [(3, None)]
    assert [(w["record"], "week before last" in w["reason"]) for w in report["warnings"]] == [
        (2, True)
    ]
    saved = articles_by_url(client, headers)
    vendor = saved["https://peopleops.example/2025/11/survey-vendor-questions"]
    assert vendor["summary"] == "Before you sign, ask about benchmarks and action planning."
    assert vendor["text"].startswith("Choosing a firm to run your employee engagement survey")
    assert vendor["tags"] == ["surveys", "engagement"]
    assert vendor["saved_on"] == "2025-11-18"
    exits = saved["https://peopleops.example/2025/10/exit-interviews"]  # link from <guid>
    assert exits["title"] == "Why exit interviews fail"


def test_atom_feed(client: TestClient, headers: Headers) -> None:
    report = import_file(client, "/imports/articles", headers, "feed_atom.xml")

    assert (report["format"], report["created"]) == ("feed", 1)
    article = articles_by_url(client, headers)["https://eng.example/blog/first-em"]
    assert article["title"] == "Hiring your first engineering manager"
    assert article["summary"] == "When a team outgrows its tech lead."
    assert article["text"].startswith("When a team outgrows its tech lead, the first")
    assert (article["saved_on"], article["tags"]) == ("2025-12-03", ["hiring"])


def test_imported_articles_are_indexed_for_suggestions(api: Api, headers: Headers) -> None:
    contact = make_contact(
        api.client,
        headers,
        name="Dana Reyes",
        pain_points=["Choosing a firm to run our employee engagement survey"],
    )
    import_file(api.client, "/imports/articles", headers, "feed_rss.xml")

    items = get_json(api.client, f"/contacts/{contact['id']}/suggestions", headers)["items"]

    articles = [i["article"]["title"] for i in items if i["kind"] == "article"]
    assert articles[:1] == ["Five questions to ask an engagement survey vendor"]


def test_a_row_with_a_nul_character_is_reported_and_the_others_kept(
    client: TestClient, headers: Headers
) -> None:
    cards = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\nEMAIL:grace@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nul\x00Person\r\nEMAIL:nul@example.com\r\nEND:VCARD\r\n"
    )
    response = upload(client, "/imports/contacts", headers, cards.encode(), "people.vcf")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["skipped"]) == (1, 1)
    assert skipped(report) == [(2, 6)]
    assert "NUL" in report["skipped_rows"][0]["reason"]
    assert set(contacts_by_name(client, headers)) == {"Grace Hopper"}


def test_a_marked_section_python_cannot_name_is_read_past(
    client: TestClient, headers: Headers
) -> None:
    """``<![word`` made Python's HTML parser raise (a 500); it is a bogus comment to ``>``."""
    bookmarks = (
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n<![if gte mso 9]><![word]>\n"
        '<DT><A HREF="https://example.com/kept">Kept</A>\n'
    )
    feed = (
        "<rss><channel><item><title>Item</title><link>https://example.com/item</link>"
        "<description>&lt;![word]&gt;The summary.</description></item></channel></rss>"
    )

    first = upload(client, "/imports/articles", headers, bookmarks.encode())
    second = upload(client, "/imports/articles", headers, feed.encode())

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    saved = articles_by_url(client, headers)
    assert saved["https://example.com/kept"]["title"] == "Kept"
    assert saved["https://example.com/item"]["summary"] == "The summary."


@pytest.mark.parametrize("charset", ["foo", "rot13", "idna"])
def test_a_card_in_an_unknown_character_set_is_reported_and_the_others_kept(
    client: TestClient, headers: Headers, charset: str
) -> None:
    cards = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Grace Hopper\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Odd Charset\r\n"
        f"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET={charset}:=C3=A9t=C3=A9\r\nEND:VCARD\r\n"
    )

    response = upload(client, "/imports/contacts", headers, cards.encode(), "people.vcf")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["skipped"]) == (1, 1)
    assert skipped(report) == [(2, 5)]
    assert f"line 8: the character set '{charset}'" in report["skipped_rows"][0]["reason"]
    assert set(contacts_by_name(client, headers)) == {"Grace Hopper"}


def test_an_import_appends_new_notes_and_never_drops_one(
    client: TestClient, headers: Headers
) -> None:
    stored = make_contact(
        client, headers, name="Ana Ruiz", email="ana@example.com", notes="Met at the summit."
    )
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Ruiz\r\nEMAIL:ana@example.com\r\n"
        b"NOTE:Sails on weekends.\r\nEND:VCARD\r\n"
    )

    first = upload(client, "/imports/contacts", headers, card, "ana.vcf").json()
    again = upload(client, "/imports/contacts", headers, card, "ana.vcf").json()

    assert (first["updated"], again["unchanged"]) == (1, 1)
    notes = get_json(client, f"/contacts/{stored['id']}", headers)["notes"]
    assert notes == "Met at the summit.\n\nSails on weekends."


def test_a_matched_contact_gains_the_files_new_phones_expertise_and_pain_points(
    client: TestClient, headers: Headers
) -> None:
    stored = make_contact(
        client,
        headers,
        name="Ana Ruiz",
        email="ana@example.com",
        tier="C",
        phones=["+1 555 0100"],
        expertise=["Payroll"],
        pain_points=["Hiring engineers"],
    )
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Ruiz\r\nEMAIL:ana@example.com\r\n"
        b"TEL:+1 555 0100\r\nTEL:+44 20 7946 0958\r\nX-GIVEFIRST-TIER:A\r\n"
        b"X-GIVEFIRST-EXPERTISE:Payroll\r\nX-GIVEFIRST-EXPERTISE:Benefits\r\n"
        b"X-GIVEFIRST-PAIN-POINT:Hiring engineers\r\nX-GIVEFIRST-PAIN-POINT:Onboarding\r\n"
        b"END:VCARD\r\n"
    )

    report = upload(client, "/imports/contacts", headers, card, "ana.vcf").json()

    assert report["updated"] == 1
    ana = get_json(client, f"/contacts/{stored['id']}", headers)
    assert ana["phones"] == ["+1 555 0100", "+44 20 7946 0958"]
    assert ana["expertise"] == ["Payroll", "Benefits"]
    assert [p["text"] for p in ana["pain_points"]] == ["Hiring engineers", "Onboarding"]
    assert ana["tier"] == "C"  # the tier is the user's
