"""Inbound e-mail: real SMTP conversations (smtplib) with the listener the app runs on 127.0.0.1,
the touches they log read back through the API, and what the listener refuses."""

import smtplib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, Headers, Json, get_json, make_contact, running_api

TODAY = date.today()
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
    with smtplib.SMTP("127.0.0.1", port_of(api), timeout=10) as smtp:
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

    database = (data_dir / "givefirst.sqlite3").read_bytes()
    assert b"quarterly numbers" not in database
    assert b"else@elsewhere.example" not in database


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
        with smtplib.SMTP("127.0.0.1", port_of(api), timeout=10) as smtp:
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
