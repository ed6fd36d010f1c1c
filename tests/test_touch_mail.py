"""Inbound e-mail: real SMTP conversations (smtplib) with the listener the app runs on 127.0.0.1,
the touches they log read back through the API, and what the listener refuses."""

import smtplib
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Base
from app.touches.forwards import read_forward
from tests.conftest import (
    Api,
    Headers,
    Json,
    database_url,
    get_json,
    make_contact,
    running_api,
)

TODAY = date.today()
# How long a client waits for the listener's reply: generous, as a real MTA's is (RFC 5321 asks
# for minutes at DATA), so that a busy machine does not fail a test about what is logged.
SMTP_TIMEOUT = 120
BODY_SECRET = "the body says: quarterly numbers, never stored"


@pytest.fixture
def mail_api(data_dir: Path) -> Iterator[Api]:
    with running_api(data_dir, smtp_listen="127.0.0.1:0", smtp_domain="touch.example") as api:
        yield api


def port_of(api: Api) -> int:
    port: int = api.app.state.smtp_listener.port
    return port


def make_address(api: Api, headers: Headers) -> str:
    response = api.client.post("/workspace/touch-address", headers=headers)
    assert response.status_code == 201, response.text
    address: str = response.json()["address"]
    return address


def message(
    *,
    sender: str = "Sam Rivera <sam@mine.example>",
    to: str = "Priya Shah <priya.shah@example.org>",
    cc: str | None = None,
    days_ago: int = 3,
    subject: str = "Intro to the hiring lead",
    body: str = BODY_SECRET,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    sent = datetime.now().astimezone().replace(hour=10, minute=0) - timedelta(days=days_ago)
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = make_msgid(domain="mine.example")
    msg.set_content(body)
    return msg


def send(api: Api, msg: EmailMessage, *recipients: str) -> None:
    """BCC: the touch address is only in the envelope, not in the headers."""
    with smtplib.SMTP("127.0.0.1", port_of(api), timeout=SMTP_TIMEOUT) as smtp:
        smtp.send_message(msg, to_addrs=list(recipients))


def touches(api: Api, headers: Headers, contact_id: int) -> list[Json]:
    items: list[Json] = get_json(api.client, f"/contacts/{contact_id}/touches", headers)["items"]
    return items


def test_a_bccd_message_logs_a_touch_for_each_contact_it_names(
    mail_api: Api, data_dir: Path
) -> None:
    headers = mail_api.headers("acme")
    priya = make_contact(
        mail_api.client, headers, name="Priya Shah", email="priya.shah@example.org"
    )
    marcus = make_contact(mail_api.client, headers, name="Marcus Lee", email="marcus@example.net")
    bystander = make_contact(mail_api.client, headers, name="Lena Park", email="lena@work.example")
    # Another workspace with a contact of the same address: never touched by acme's mail.
    other_headers = mail_api.headers("globex")
    other = make_contact(
        mail_api.client, other_headers, name="Priya Shah", email="priya.shah@example.org"
    )
    address = make_address(mail_api, headers)
    assert address.startswith("touch+") and address.endswith("@touch.example")
    shown = get_json(mail_api.client, "/workspace/touch-address", headers)
    assert shown["enabled"] and shown["listening"] and shown["address"] is None
    assert address.startswith(shown["prefix"].rstrip("…"))

    msg = message(cc="Marcus <MARCUS@example.net>, Someone Else <else@elsewhere.example>")
    send(mail_api, msg, "priya.shah@example.org", address)
    send(mail_api, msg, address)  # the same message again: logged once

    sent_on = (TODAY - timedelta(days=3)).isoformat()
    for contact in (priya, marcus):
        [logged] = touches(mail_api, headers, contact["id"])
        assert (logged["kind"], logged["source"]) == ("email_sent", "smtp")
        assert (logged["happened_on"], logged["subject"]) == (sent_on, "Intro to the hiring lead")
        again = get_json(mail_api.client, f"/contacts/{contact['id']}", headers)
        assert again["last_contacted_on"] == sent_on
    assert touches(mail_api, headers, bystander["id"]) == []
    assert touches(mail_api, other_headers, other["id"]) == []

    # A message from a contact is one received.
    send(mail_api, message(sender="marcus@example.net", to="sam@mine.example", days_ago=1), address)
    latest = touches(mail_api, headers, marcus["id"])[0]
    assert (latest["kind"], latest["happened_on"]) == (
        "email_received",
        (TODAY - timedelta(days=1)).isoformat(),
    )

    assert_database_holds_no_body(mail_api, b"else@elsewhere.example")


def test_mail_to_an_unknown_or_retired_address_is_refused_at_rcpt(mail_api: Api) -> None:
    headers = mail_api.headers("acme")
    priya = make_contact(
        mail_api.client, headers, name="Priya Shah", email="priya.shah@example.org"
    )
    first = make_address(mail_api, headers)
    second = make_address(mail_api, headers)  # the first one is retired
    assert first != second
    unknown = "touch+" + "0" * 32 + "@touch.example"
    for refused in (unknown, first, "postmaster@touch.example", "touch+short@touch.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            send(mail_api, message(), refused)
        [(code, _)] = caught.value.recipients.values()
        assert code == 550, refused
    assert touches(mail_api, headers, priya["id"]) == []

    send(mail_api, message(), second)
    assert len(touches(mail_api, headers, priya["id"])) == 1

    response = mail_api.client.delete("/workspace/touch-address", headers=headers)
    assert response.status_code == 204
    assert get_json(mail_api.client, "/workspace/touch-address", headers)["enabled"] is False
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(mail_api, message(subject="after"), second)


def oversize(api: Api, address: str) -> int:
    """Send a message over the limit; the refusal's code (at MAIL with SIZE, else at DATA)."""
    big = message(body=("x" * 70 + "\n") * 80)
    try:
        send(api, big, address)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        return error.smtp_code
    raise AssertionError("an oversize message was accepted")


def test_an_oversize_message_is_refused_and_a_stranger_logs_nothing(data_dir: Path) -> None:
    settings: dict[str, Any] = {"smtp_listen": "127.0.0.1:0", "smtp_max_bytes": 2000}
    with running_api(data_dir, **settings) as api:
        headers = api.headers("acme")
        priya = make_contact(api.client, headers, name="Priya Shah", email="priya.shah@example.org")
        address = make_address(api, headers)

        assert oversize(api, address) == 552
        # Without SIZE in MAIL FROM the limit holds at DATA.
        with smtplib.SMTP("127.0.0.1", port_of(api), timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            smtp.esmtp_features.pop("size", None)
            with pytest.raises(smtplib.SMTPDataError) as caught:
                smtp.send_message(message(body=("y" * 70 + "\n") * 80), to_addrs=[address])
            assert caught.value.smtp_code == 552
        assert touches(api, headers, priya["id"]) == []

        # Someone who is not a contact: accepted, nothing logged, no contact made.
        send(api, message(to="Nobody Known <nobody@elsewhere.example>"), address)
        assert touches(api, headers, priya["id"]) == []
        contacts = get_json(api.client, "/contacts", headers)
        assert contacts["total"] == 1


def test_an_address_past_its_rate_is_told_to_retry_later(data_dir: Path) -> None:
    settings: dict[str, Any] = {"smtp_listen": "127.0.0.1:0", "smtp_rate_limit": "2/hour"}
    with running_api(data_dir, **settings) as api:
        headers = api.headers("acme")
        priya = make_contact(api.client, headers, name="Priya Shah", email="priya.shah@example.org")
        address = make_address(api, headers)
        send(api, message(days_ago=3), address)
        send(api, message(days_ago=2), address)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            send(api, message(days_ago=1), address)
        [(code, _)] = caught.value.recipients.values()
        assert code == 451
        assert len(touches(api, headers, priya["id"])) == 2


def test_the_listener_is_off_by_default(api: Api, headers: Headers) -> None:
    assert api.app.state.smtp_listener is None
    address = make_address(api, headers)
    assert address.endswith("@localhost")
    assert get_json(api.client, "/workspace/touch-address", headers)["listening"] is False


# --- forwards: the original a forward carries -----------------------------------------------

ME = "Sam Rivera <sam@mine.example>"


def original_time(days_ago: int, zone: timedelta | None = None) -> datetime:
    """When the forwarded original was sent: ``days_ago`` days back at 10:03, in ``zone`` (the
    local zone by default)."""
    now = datetime.now().astimezone()
    tz = timezone(zone) if zone is not None else now.tzinfo
    return (
        (now - timedelta(days=days_ago))
        .astimezone(tz)
        .replace(hour=10, minute=3, second=12, microsecond=0)
    )


def forward(
    body: str, *, subject: str, html: str | None = None, cte: str = "quoted-printable", **outer: str
) -> EmailMessage:
    """A forward the user writes to the touch address: the user's From, the forward's own Date
    in the user's zone."""
    msg = EmailMessage()
    msg["From"] = outer.get("sender", ME)
    msg["To"] = outer["to"]
    if "cc" in outer:
        msg["Cc"] = outer["cc"]
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain="mine.example")
    msg.set_content(body, cte=cte)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def contacts_of(api: Api, headers: Headers) -> dict[str, int]:
    """Priya, Marcus and Jörg, and two that a forward never touches: the user's own address
    (someone may add themselves) and, once made, the touch address."""
    people = {
        "priya": ("Priya Shah", "priya.shah@example.org"),
        "marcus": ("Marcus Lee", "marcus@example.net"),
        "jorg": ("Jörg Müller", "joerg@example.de"),
        "me": ("Sam Rivera", "sam@mine.example"),
    }
    return {
        key: make_contact(api.client, headers, name=name, email=email)["id"]
        for key, (name, email) in people.items()
    }


def assert_database_holds_no_body(api: Api, *secrets: bytes) -> None:
    """Nothing of a message's body is stored: on SQLite no byte of the database file (its free
    pages included) holds it; on PostgreSQL no row of any table."""
    if database_url(api.data_dir) is None:
        stored = (api.data_dir / "givefirst.sqlite3").read_bytes()
    else:
        with api.app.state.session_factory() as session:
            rows = (
                repr(tuple(row))
                for table in Base.metadata.sorted_tables
                for row in session.execute(select(table))
            )
            stored = "\n".join(rows).encode()
    for secret in (b"quarterly numbers", *secrets):
        assert secret not in stored, secret


def test_a_gmail_inline_forward_logs_the_original_on_its_own_day(
    mail_api: Api, data_dir: Path
) -> None:
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    touch_contact = make_contact(mail_api.client, headers, name="Touch box", email=address)
    sent = original_time(12)
    gmail_date = f"{sent:%a, %b} {sent.day}, {sent:%Y} at {sent:%I:%M %p}"
    body = (
        "Worth a look: Priya wants the hiring lead.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Priya Shah <priya.shah@example.org>\n"
        f"Date: {gmail_date}\n"
        "Subject: Café next week? — the hiring lead\n"
        f"To: {ME}\n"
        "Cc: Marcus Lee <marcus@example.net>, Jörg Müller <joerg@example.de>, "
        "Nobody Known <nobody@elsewhere.example>\n\n\n"
        f"Hi Sam, {BODY_SECRET}\n"
    )
    # An RFC 2047 encoded subject and a quoted-printable UTF-8 body, as Gmail sends them.
    msg = forward(body, subject="Fwd: Café next week? — the hiring lead", to=address)
    assert "=?utf-8?" in msg.as_string() and "=C3=B6" in msg.as_string()

    send(mail_api, msg, address)
    send(mail_api, msg, address)  # forwarded twice: logged once

    for key in ("priya", "marcus", "jorg"):
        [logged] = touches(mail_api, headers, ids[key])
        assert logged["kind"] == "email_received", key  # Priya, a contact, sent the original
        assert logged["source"] == "smtp"
        assert logged["happened_on"] == sent.date().isoformat()
        assert logged["subject"] == "Café next week? — the hiring lead"
        contact = get_json(mail_api.client, f"/contacts/{ids[key]}", headers)
        assert contact["last_contacted_on"] == sent.date().isoformat()
    # The forwarder (the user) and the touch address are nobody, even when they are contacts.
    assert touches(mail_api, headers, ids["me"]) == []
    assert touches(mail_api, headers, touch_contact["id"]) == []
    assert get_json(mail_api.client, "/contacts", headers)["total"] == 5
    assert_database_holds_no_body(mail_api, b"hiring lead.\n", b"nobody@elsewhere.example")


def test_an_outlook_forward_of_mail_the_user_sent_is_email_sent(mail_api: Api) -> None:
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    sent = original_time(9)
    outlook_date = f"{sent:%A, %B} {sent.day}, {sent:%Y} {sent:%I:%M %p}"
    block = [
        f"From: {ME}",
        f"Sent: {outlook_date}",
        "To: Priya Shah <priya.shah@example.org>; Jörg Müller <joerg@example.de>",
        "Subject: The survey vendors list",
    ]
    body = "FYI\n\n________________________________\n" + "\n".join(block) + f"\n\n{BODY_SECRET}\n"
    html = (
        "<html><body><p>FYI</p><hr><div id='divRplyFwdMsg'>"
        + "<br>".join(f"<b>{line.split(':', 1)[0]}:</b>{line.split(':', 1)[1]}" for line in block)
        + f"</div><p>{BODY_SECRET}</p></body></html>"
    )
    # Outlook's plain and HTML alternatives; the touch address in Cc, a colleague in To.
    msg = forward(
        body, subject="FW: The survey vendors list", html=html, to="marcus@example.net", cc=address
    )

    send(mail_api, msg, "marcus@example.net", address)

    for key in ("priya", "jorg"):
        [logged] = touches(mail_api, headers, ids[key])
        assert (logged["kind"], logged["happened_on"]) == ("email_sent", sent.date().isoformat())
        assert logged["subject"] == "The survey vendors list"
    # The forward itself went to Marcus today: a message sent to him, with its own subject.
    [to_marcus] = touches(mail_api, headers, ids["marcus"])
    assert (to_marcus["kind"], to_marcus["happened_on"]) == ("email_sent", TODAY.isoformat())
    assert to_marcus["subject"] == "FW: The survey vendors list"
    assert touches(mail_api, headers, ids["me"]) == []


def test_an_apple_mail_forward_reads_its_zone_and_an_html_only_one_too(mail_api: Api) -> None:
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    # 23:30 in UTC+01:00 (the original's zone, written as Apple Mail writes it): the day is the
    # server's local day of that instant.
    sent = original_time(20, zone=timedelta(hours=1)).replace(hour=23, minute=30)
    apple_date = f"{sent.day} {sent:%B %Y} at {sent:%H:%M:%S} GMT+1"
    quoted = [
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>",
        "Subject: Re: Onboarding remote hires",
        f"Date: {apple_date}",
        f"To: {ME}",
        "Cc: Priya Shah <priya.shah@example.org>",
    ]
    body = (
        "See below.\n\nBegin forwarded message:\n\n"
        + "\n".join(f"> {line}" for line in quoted)
        + f"\n> \n> {BODY_SECRET}\n"
    )
    msg = forward(body, subject="Fwd: Re: Onboarding remote hires", to=address, cte="base64")

    send(mail_api, msg, address)

    expected_day = sent.astimezone().date().isoformat()
    for key in ("jorg", "priya"):
        [logged] = touches(mail_api, headers, ids[key])
        assert (logged["kind"], logged["happened_on"]) == ("email_received", expected_day)
        assert logged["happened_at"] is not None
        assert datetime.fromisoformat(logged["happened_at"]) == sent
    assert touches(mail_api, headers, ids["marcus"]) == []

    # An HTML-only Gmail forward (no plain part): the block is read from the HTML.
    earlier = original_time(30)
    html = (
        "<div dir='ltr'>fyi</div><br><div class='gmail_quote'><div dir='ltr' "
        "class='gmail_attr'>---------- Forwarded message ---------<br>From: <strong "
        "class='gmail_sendername'>Marcus Lee</strong> <span>&lt;<a "
        "href='mailto:marcus@example.net'>marcus@example.net</a>&gt;</span><br>Date: "
        f"{earlier:%a, %b} {earlier.day}, {earlier:%Y} at {earlier:%I:%M %p}<br>Subject: "
        f"Lunch<br>To: &lt;sam@mine.example&gt;<br></div><br><br>{BODY_SECRET}</div>"
    )
    html_only = forward("x", subject="Fwd: Lunch", to=address)
    html_only.set_content(html, subtype="html")
    send(mail_api, html_only, address)
    [lunch] = touches(mail_api, headers, ids["marcus"])
    assert (lunch["kind"], lunch["happened_on"]) == ("email_received", earlier.date().isoformat())


def original_message(days_ago: int, **headers: str) -> EmailMessage:
    """A message as the contact's mail client wrote it, its headers RFC 2047 encoded."""
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg["Date"] = format_datetime(original_time(days_ago))
    msg["Message-ID"] = make_msgid(domain="example.de")
    msg.set_content(BODY_SECRET)
    msg.add_attachment(
        b"%PDF-1.4 the attached contract",
        maintype="application",
        subtype="pdf",
        filename="contract.pdf",
    )
    return msg


def test_a_forward_as_attachment_logs_the_attached_message_once(
    mail_api: Api, data_dir: Path
) -> None:
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    attached = original_message(
        6,
        From="Jörg Müller <joerg@example.de>",
        To=ME,
        Cc="Marcus Lee <marcus@example.net>",
        Subject="Zoë's Ångström report",
    )
    # On the wire its names and subject are RFC 2047 encoded words.
    assert b"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?=" in attached.as_bytes()
    assert b"Subject: =?utf-8?" in attached.as_bytes()
    # Thunderbird's "forward as attachment": message/rfc822; Outlook may attach an .eml file.
    also = original_message(4, From="Priya Shah <priya.shah@example.org>", To=ME, Subject="Notes")
    msg = forward("Two for the record.", subject="Fwd: Zoë's Ångström report", to=address)
    msg.add_attachment(attached)
    msg.add_attachment(
        also.as_bytes(), maintype="application", subtype="octet-stream", filename="Notes.eml"
    )

    send(mail_api, msg, address)

    for key, days_ago, subject in (
        ("jorg", 6, "Zoë's Ångström report"),
        ("marcus", 6, "Zoë's Ångström report"),
        ("priya", 4, "Notes"),
    ):
        [logged] = touches(mail_api, headers, ids[key])
        assert logged["kind"] == "email_received", key
        assert logged["happened_on"] == original_time(days_ago).date().isoformat()
        assert logged["subject"] == subject
    assert touches(mail_api, headers, ids["me"]) == []
    # The same original BCC'd or redirected later: its Message-ID says it is logged already.
    send(mail_api, attached, address)
    assert len(touches(mail_api, headers, ids["jorg"])) == 1
    assert_database_holds_no_body(mail_api, b"the attached contract", b"contract.pdf")


@pytest.mark.parametrize(
    ("separator", "headers"),
    [
        (
            "---------- Forwarded message ---------",
            "From: {who}\nDate: Mon, Jan 5, 2026 at 10:03 AM",
        ),
        ("-----Ursprüngliche Nachricht-----", "Von: {who}\nGesendet: Montag, 5. Januar 2026 10:03"),
        ("---------- Mensaje reenviado ---------", "De: {who}\nFecha: lun, 5 ene 2026 a las 10:03"),
        ("-------- Message transféré --------", "De : {who}\nDate : lundi 5 janvier 2026 à 10:03"),
        ("---------- Doorgestuurd bericht ---------", "Van: {who}\nDatum: ma 5 jan. 2026 om 10:03"),
        (
            "---------- Vidarebefordrat meddelande ---------",
            "Från: {who}\nDatum: mån 5 jan. 2026 kl. 10:03",
        ),
    ],
    ids=["en", "de", "es", "fr", "nl", "sv"],
)
def test_a_forwarded_date_line_is_read_in_the_languages_of_its_block(
    separator: str, headers: str
) -> None:
    """The date line of every language the forwarded block is found in; no app needed."""
    body = f"Below.\n\n{separator}\n{headers.format(who='Priya Shah <priya.shah@example.org>')}\n"
    msg = forward(
        body + "Subject: Hello\nTo: sam@mine.example\n\nHi\n", subject="Fwd: Hello", to="t@x"
    )
    read = read_forward(msg.as_bytes(), TODAY, "sam@mine.example", lambda a: a == "t@x")
    assert read is not None and read.problems == []
    [original] = read.originals
    assert original.happened_at is not None
    assert original.happened_at.replace(tzinfo=None) == datetime(2026, 1, 5, 10, 3)


def test_a_forward_that_cannot_be_read_logs_what_its_own_headers_give(mail_api: Api) -> None:
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    # "Fwd:" with no block at all, and a block whose date is not a date: accepted (no error),
    # the forward's own recipients logged (Marcus, in Cc), nothing for the original's people.
    no_block = forward(
        "Priya's note, pasted without headers.",
        subject="Fwd: the note",
        to=address,
        cc="marcus@example.net",
    )
    send(mail_api, no_block, address, "marcus@example.net")
    bad_date = forward(
        "---------- Forwarded message ---------\nFrom: Priya Shah <priya.shah@example.org>\n"
        "Date: sometime around the conference\nSubject: Hello\nTo: sam@mine.example\n\nHi\n",
        subject="Fwd: Hello",
        to=address,
    )
    send(mail_api, bad_date, address)

    assert touches(mail_api, headers, ids["priya"]) == []
    [to_marcus] = touches(mail_api, headers, ids["marcus"])
    assert (to_marcus["kind"], to_marcus["subject"]) == ("email_sent", "Fwd: the note")
    assert to_marcus["happened_on"] == TODAY.isoformat()


def test_a_redirected_forward_is_read_as_the_message_it_is(mail_api: Api) -> None:
    """A contact's own "Fwd:" that the user's mail rule redirects (Resent-From, the envelope
    sender the user's): the contact sent it; the message they forwarded is not the user's."""
    headers = mail_api.headers("acme")
    ids = contacts_of(mail_api, headers)
    address = make_address(mail_api, headers)
    block = (
        "---------- Forwarded message ---------\nFrom: Jörg Müller <joerg@example.de>\n"
        "Date: Mon, Jan 5, 2026 at 10:03 AM\nSubject: Hello\nTo: priya.shah@example.org\n\nHi\n"
    )
    msg = forward(block, subject="Fwd: Hello", to=ME, sender="Priya Shah <priya.shah@example.org>")
    msg["Resent-From"] = ME
    with smtplib.SMTP("127.0.0.1", port_of(mail_api), timeout=SMTP_TIMEOUT) as smtp:
        smtp.send_message(msg, from_addr="sam@mine.example", to_addrs=[address])

    [logged] = touches(mail_api, headers, ids["priya"])
    assert (logged["kind"], logged["subject"]) == ("email_received", "Fwd: Hello")
    assert touches(mail_api, headers, ids["jorg"]) == []
