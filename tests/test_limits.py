"""Limits that keep one caller from taking the service down: requests per key, body sizes."""

import json
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import Api, auth, error_text, get_json, make_settings, running_api
from tests.helpers import create_key, serving


def test_past_the_rate_limit_a_key_gets_429_with_retry_after(data_dir: Path) -> None:
    with running_api(data_dir, rate_limit="3/minute") as api:
        key, other = api.new_key("acme"), api.new_key("acme")
        for _ in range(3):
            assert api.client.get("/contacts", headers=auth(key)).status_code == 200

        refused = api.client.post("/contacts", json={"name": "Refused"}, headers=auth(key))

        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "3/minute" in error_text(refused)
        assert f"retry in {refused.headers['retry-after']} s" in error_text(refused)
        # Nothing was written, and the limit is per key: another key goes on.
        listed = get_json(api.client, "/contacts", auth(other))
        assert listed["total"] == 0
        # Requests without a valid key are refused as before (401), not counted as the key's.
        assert api.client.get("/contacts", headers=auth("gf_wrong")).status_code == 401
        assert api.client.get("/health").status_code == 200


def test_without_the_setting_there_is_no_limit() -> None:
    assert make_settings(Path("unused")).rate_limit is None
    assert make_settings(Path("unused"), rate_limit="off").rate_limit is None


@pytest.mark.parametrize("value", ["many", "120/fortnight", "-5/minute"])
def test_a_rate_limit_that_is_no_rate_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit"):
        make_settings(Path("unused"), rate_limit=value)


# --- bodies ---------------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_413_and_nothing_is_stored(data_dir: Path) -> None:
    with running_api(data_dir, max_body_bytes=2_000) as api:
        headers = api.headers("acme")

        response = api.client.post(
            "/contacts", json={"name": "X", "notes": "n" * 3_000}, headers=headers
        )

        assert response.status_code == 413, response.text
        assert "2,000 bytes" in error_text(response)
        assert get_json(api.client, "/contacts", headers)["total"] == 0
        small = api.client.post("/contacts", json={"name": "Fits"}, headers=headers)
        assert small.status_code == 201, small.text


def test_the_largest_article_fits_the_default_limit_even_fully_escaped(api: Api) -> None:
    text = "€" * 200_000  # the longest text allowed, each character sent as \\u20ac
    body = json.dumps({"title": "Long read", "text": text}, ensure_ascii=True).encode()
    assert len(body) > 1_000_000

    response = api.client.post(
        "/articles", content=body, headers={**api.headers(), "Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text[:300]


def _raw_request(base_url: str, head: str, body: bytes = b"") -> str:
    """Send ``head`` (and ``body``) on a plain socket; the status line of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode() + body)
        return sock.recv(4096).decode("latin-1").splitlines()[0]


def test_a_body_announced_too_large_is_refused_before_it_is_sent(data_dir: Path) -> None:
    key, _ = create_key(data_dir, "acme")
    with serving(data_dir, max_body_bytes="10000") as server:
        # 50 MB announced, not one byte sent: the answer comes at once, from the headers.
        status = _raw_request(
            server.base_url,
            "POST /contacts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: 50000000\r\n\r\n",
        )
        assert status.startswith("HTTP/1.1 413"), status
        # Sent in chunks with no length: cut off once past the limit.
        chunk = b'{"name": "' + b"x" * 8_000
        status = _raw_request(
            server.base_url,
            "POST /contacts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(3)),
        )
        assert status.startswith("HTTP/1.1 413"), status
        listed = httpx.get(f"{server.base_url}/contacts", headers=auth(key), timeout=60)
        assert listed.json()["total"] == 0


def test_slow_clients_do_not_hold_up_the_others(data_dir: Path) -> None:
    """Twenty clients that send half a request and stall (headers only, or a body cut short)
    hold their own connections and nothing else: writes and reads of others go through."""
    key, _ = create_key(data_dir, "acme")
    with serving(data_dir) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        stalled = []
        try:
            for n in range(20):
                sock = socket.create_connection((host, int(port)), timeout=60)
                head = (
                    "POST /contacts HTTP/1.1\r\nHost: localhost\r\n"
                    f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n"
                )
                # Even: the headers never end. Odd: 100 bytes announced, 10 sent.
                sock.sendall(
                    head.encode()
                    if n % 2 == 0
                    else (head + "Content-Length: 100\r\n\r\n").encode() + b'{"name": "'
                )
                stalled.append(sock)
            created = httpx.post(
                f"{server.base_url}/contacts",
                json={"name": "Dana Reyes", "pain_points": ["choosing a survey firm"]},
                headers=auth(key),
                timeout=60,
            )
            assert created.status_code == 201, created.text
            listed = httpx.get(f"{server.base_url}/contacts", headers=auth(key), timeout=60)
            assert [c["name"] for c in listed.json()["items"]] == ["Dana Reyes"]
        finally:
            for sock in stalled:
                sock.close()
        health = httpx.get(f"{server.base_url}/health", timeout=60)
        assert health.status_code == 200
