"""POST /articles/from-url against a real HTTP server on 127.0.0.1 (allowed by the setting)."""

import ipaddress
import os
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.imports.fetch import _why_refused
from tests.conftest import (
    Api,
    Headers,
    Json,
    error_text,
    get_json,
    make_contact,
    running_api,
    snapshot,
)

TIMEOUT_S = 1.0
MAX_BYTES = 100_000

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Choosing an engagement survey vendor | People Ops Weekly</title>
<meta name="description" content="Five questions to ask before you sign.">
</head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/subscribe">Subscribe now</a></nav>
<article>
<h1>Choosing an engagement survey vendor</h1>
<p>Choosing a firm to run your employee engagement survey is one of the harder calls an HR
leader makes. The survey shapes what managers hear and what they act on for a whole year.</p>
<p>Ask every vendor about benchmarks for your industry, the anonymity threshold below which
results are hidden, and how they help managers turn results into action plans.</p>
<p>Finally, ask to speak with a customer of your size who has run the survey for three years:
what changed after the first year, and what did they wish they had known at the start?</p>
</article>
<footer>Copyright People Ops Weekly. All rights reserved.</footer>
</body></html>
"""


def _gzip(chunks: Iterable[bytes]) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join([*(compressor.compress(c) for c in chunks), compressor.flush()])


# 90 MB of HTML in 91,773 bytes of gzip (under MAX_BYTES); gzipped again, in 335 bytes.
BOMB_DECODED = 90 * 2**20
BOMB = _gzip([b"<html><body>", *[b" " * 2**20] * (BOMB_DECODED // 2**20)])
BOMB_IN_A_BOMB = _gzip([BOMB])


# Three megabytes of paragraphs: seconds of work for trafilatura.
LONG_ARTICLE = b"<html><body>" + b"<p>A paragraph of the article.</p>" * 100_000


# /stalled answers once the test lets it, to hold a fetch in progress.
STALLED = threading.Event()
LET_GO = threading.Event()


class _Pages(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_gzip(self, body: bytes, encoding: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _headers_byte_by_byte(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n"
        try:
            for byte in head:  # each byte in time for a per-read timeout, the whole too slow
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(TIMEOUT_S / 4)
        except OSError:  # the client has hung up
            pass

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        routes = {
            "/article": lambda: self._send(200, ARTICLE.encode()),
            "/Guides/Survey?Vendor=Acme": lambda: self._send(200, ARTICLE.encode()),
            "/redirect-same": lambda: self._redirect("/article"),
            "/redirect-localhost": lambda: self._redirect(f"http://localhost:{port}/article"),
            "/redirect-metadata": lambda: self._redirect(
                "http://169.254.169.254/latest/meta-data/"
            ),
            "/redirect-loop": lambda: self._redirect("/redirect-loop"),
            "/big": lambda: self._send(200, b"<html><body>" + b"<p>x</p>" * MAX_BYTES),
            "/pdf": lambda: self._send(200, b"%PDF-1.7\n", "application/pdf"),
            "/missing": lambda: self._send(404, b"<html><body>Not found</body></html>"),
            "/long-article": lambda: self._send(200, LONG_ARTICLE),
            "/article-gzip": lambda: self._send_gzip(_gzip([ARTICLE.encode()]), "gzip"),
            "/gzip-bomb": lambda: self._send_gzip(BOMB, "gzip"),
            "/gzip-in-gzip": lambda: self._send_gzip(BOMB_IN_A_BOMB, "gzip, gzip"),
            "/headers-byte-by-byte": self._headers_byte_by_byte,
        }
        if self.path in routes:
            routes[self.path]()
        elif self.path == "/big-undeclared":  # no Content-Length: the body ends when it closes
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(MAX_BYTES // 1000 + 10):
                self.wfile.write(b"<p>" + b"y" * 1000 + b"</p>")
        elif self.path == "/stalled":
            STALLED.set()
            LET_GO.wait(timeout=30)
            self._send(200, ARTICLE.encode())
        elif self.path == "/slow":
            time.sleep(TIMEOUT_S * 3)
            self._send(200, ARTICLE.encode())
        elif self.path == "/dribble":  # each piece in time, the whole page too slow
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(8):
                self.wfile.write(b"<p>a little more</p>" * 10)
                self.wfile.flush()
                time.sleep(TIMEOUT_S / 3)
        else:
            self._send(404, b"")


@dataclass
class PageServer:
    base: str

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PageServer(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(
        tmp_path / "data",
        fetch_allowed_hosts=["127.0.0.1"],
        fetch_timeout_seconds=TIMEOUT_S,
        fetch_max_bytes=MAX_BYTES,
    ) as running:
        yield running


def save(client: TestClient, headers: Headers, url: str, **extra: object) -> httpx.Response:
    return client.post("/articles/from-url", json={"url": url, **extra}, headers=headers)


def test_save_a_page_by_url(api: Api, headers: Headers, pages: PageServer) -> None:
    contact = make_contact(
        api.client,
        headers,
        name="Dana Reyes",
        pain_points=["Finding the right firm to run our employee engagement survey"],
    )

    response = save(api.client, headers, pages.url("/article"), tags=["surveys"])

    assert response.status_code == 201, response.text
    article: Json = response.json()
    assert article["created"] is True
    assert article["url"] == pages.url("/article")
    assert article["title"] == "Choosing an engagement survey vendor"
    assert article["summary"] == "Five questions to ask before you sign."
    assert "anonymity threshold" in article["text"]
    assert "Subscribe now" not in article["text"]  # the menu is not the article
    assert "All rights reserved" not in article["text"]
    assert article["tags"] == ["surveys"]
    # Indexed in the same request: it is matched to the contact's pain point at once.
    recipients = get_json(api.client, f"/articles/{article['id']}/recipients", headers)
    assert [r["contact"]["id"] for r in recipients["items"]] == [contact["id"]]


def test_saving_the_same_url_again_refreshes_it(
    api: Api, headers: Headers, pages: PageServer
) -> None:
    first: Json = save(api.client, headers, pages.url("/article"), tags=["surveys"]).json()

    again = save(api.client, headers, pages.url("/article"), tags=["vendors"])

    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["id"], body["created"]) == (first["id"], False)
    assert body["tags"] == ["surveys", "vendors"]
    assert get_json(api.client, "/articles", headers)["total"] == 1


def test_the_saved_url_keeps_its_case_and_drops_credentials(
    api: Api, headers: Headers, pages: PageServer
) -> None:
    with_credentials = pages.base.replace("http://", "HTTP://Reader:S3cret@")

    response = save(api.client, headers, f"{with_credentials}/Guides/Survey?Vendor=Acme#Top")

    assert response.status_code == 201, response.text
    assert response.json()["url"] == pages.url("/Guides/Survey?Vendor=Acme")
    assert "S3cret" not in str(get_json(api.client, "/export", headers))


def test_a_redirect_to_an_allowed_host_is_followed(
    api: Api, headers: Headers, pages: PageServer
) -> None:
    response = save(api.client, headers, pages.url("/redirect-same"))

    assert response.status_code == 201, response.text
    assert response.json()["url"] == pages.url("/article")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/redirect-localhost", "localhost resolves to"),
        ("/redirect-metadata", "metadata"),
        ("/redirect-loop", "redirects"),
        ("/big", "larger than the 100,000 bytes"),
        ("/big-undeclared", "larger than the 100,000 bytes"),
        ("/pdf", "not HTML"),
        ("/slow", "did not answer within 1 s"),
        ("/dribble", "took more than 1 s"),
        ("/missing", "HTTP 404"),
        ("/headers-byte-by-byte", "did not answer within 1 s"),
    ],
)
def test_pages_that_cannot_be_saved(
    api: Api, headers: Headers, pages: PageServer, path: str, expected: str
) -> None:
    before = snapshot(api.client, headers)
    started = time.monotonic()

    response = save(api.client, headers, pages.url(path))

    assert response.status_code == 422, response.text
    assert expected in error_text(response)
    assert time.monotonic() - started < TIMEOUT_S * 2.5
    assert snapshot(api.client, headers) == before


def test_a_gzip_page_is_decompressed(api: Api, headers: Headers, pages: PageServer) -> None:
    """A guard for the bounded decoder below (httpx decoded gzip before it)."""
    response = save(api.client, headers, pages.url("/article-gzip"))

    assert response.status_code == 201, response.text
    assert "anonymity threshold" in response.json()["text"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/gzip-bomb", "larger than the 100,000 bytes"),
        ("/gzip-in-gzip", "compressed more than once"),
    ],
)
def test_a_compression_bomb_is_refused_without_being_decompressed(
    api: Api, headers: Headers, pages: PageServer, path: str, expected: str
) -> None:
    tracemalloc.start()
    try:
        response = save(api.client, headers, pages.url(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 422, response.text
    assert expected in error_text(response)
    assert peak < BOMB_DECODED / 8, f"{peak:,} bytes were allocated at the peak"


def test_a_page_being_fetched_holds_up_no_other_workspaces_writes(
    tmp_path: Path, pages: PageServer
) -> None:
    with running_api(
        tmp_path / "data", fetch_allowed_hosts=["127.0.0.1"], fetch_timeout_seconds=10
    ) as api:
        saver, other = api.headers("acme"), api.headers("globex")
        saved: list[httpx.Response] = []
        fetching = threading.Thread(
            target=lambda: saved.append(save(api.client, saver, pages.url("/stalled")))
        )
        STALLED.clear()
        LET_GO.clear()
        fetching.start()
        try:
            assert STALLED.wait(timeout=10), "the page was never asked for"

            written = api.client.post("/contacts", json={"name": "Ada Lovelace"}, headers=other)

            still_fetching = fetching.is_alive()
        finally:
            LET_GO.set()
            fetching.join(timeout=30)

        assert written.status_code == 201, written.text
        assert still_fetching, "the write waited for the fetch to end"
        assert [r.status_code for r in saved] == [201]


def _children() -> list[str]:
    """The command lines of the processes this one started that are still there."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().rsplit(")", 1)[1].split()[1]
            if int(parent) == os.getpid():
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):  # the process ended meanwhile
            continue
    return found


def test_reading_a_page_is_stopped_at_its_time_limit(tmp_path: Path, pages: PageServer) -> None:
    with running_api(
        tmp_path / "data",
        fetch_allowed_hosts=["127.0.0.1"],
        fetch_max_bytes=len(LONG_ARTICLE),
        extract_timeout_seconds=TIMEOUT_S,
    ) as api:
        headers = api.headers()
        started = time.monotonic()

        response = save(api.client, headers, pages.url("/long-article"))

        assert response.status_code == 422, response.text[:500]
        assert "took more than 1 s" in error_text(response)
        assert time.monotonic() - started < TIMEOUT_S * 5  # trafilatura alone takes seconds
        assert not [c for c in _children() if "app.imports.extraction" in c]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:9/", "loopback"),
        ("http://127.0.0.2/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 spelled as one number
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1/admin", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "not a public address"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        # IPv6 forms that carry an IPv4 address are judged as that address.
        ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64
        ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4
        ("http://[2002:a00:1::]/", "private"),
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),  # Teredo, client hidden
    ],
)
def test_internal_addresses_are_refused(
    client: TestClient, headers: Headers, url: str, expected: str
) -> None:
    """Without the allow-list (the default), nothing is even connected to."""
    response = save(client, headers, url)

    assert response.status_code == 422, response.text
    message = error_text(response)
    assert "Refused" in message and expected in message
    assert get_json(client, "/articles", headers)["total"] == 0


def test_ipv6_forms_of_a_public_ipv4_address_are_public() -> None:
    """The IPv4 rule decides, both ways: Teredo (``2001::/32``) is not refused for its own sake."""
    carrying_8_8_8_8 = [
        "::8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: the client is stored inverted
    ]

    reasons = {a: _why_refused(ipaddress.ip_address(a)) for a in carrying_8_8_8_8}

    assert reasons == dict.fromkeys(carrying_8_8_8_8)


def test_a_refusal_does_not_say_what_the_name_resolves_to(
    client: TestClient, headers: Headers
) -> None:
    response = save(client, headers, "http://localhost:9/")

    assert response.status_code == 422
    message = error_text(response)
    assert "localhost resolves to a loopback address" in message
    assert "127.0.0.1" not in message and "::1" not in message


def test_the_allow_list_names_hosts_not_whole_ranges(
    api: Api, headers: Headers, pages: PageServer
) -> None:
    port = pages.base.rsplit(":", 1)[1]

    response = save(api.client, headers, f"http://127.0.0.2:{port}/article")

    assert response.status_code == 422
    assert "loopback" in error_text(response)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/file.html", "file:///etc/passwd", "javascript:alert(1)", "example.org"],
)
def test_only_http_and_https_urls(client: TestClient, headers: Headers, url: str) -> None:
    response = save(client, headers, url)

    assert response.status_code == 422
    assert "url" in error_text(response)
