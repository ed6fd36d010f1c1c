"""A real HTTP server on 127.0.0.1 serving RSS 2.0 and Atom feeds, item pages and broken
answers, with ETag / Last-Modified and 304 answers to conditional requests: what the feed tests
and ``scripts/bench_feeds.py`` poll (nothing leaves the machine)."""

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    published: datetime
    summary: str | None = None
    content: str | None = None  # the full text (content:encoded, Atom content)
    guid: str | None = None


def rss_feed(title: str, site: str, items: Sequence[Item]) -> bytes:
    """An RSS 2.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title><link>{escape(site)}</link>",
        "<description>Test feed</description>",
    ]
    for item in items:
        parts += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(item.link)}</link>",
            f'<guid isPermaLink="false">{escape(item.guid or item.link)}</guid>',
            f"<pubDate>{format_datetime(item.published)}</pubDate>",
        ]
        if item.summary is not None:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.content is not None:
            parts.append(f"<content:encoded>{escape(item.content)}</content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def atom_feed(title: str, site: str, items: Sequence[Item]) -> bytes:
    """An Atom 1.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f'<title>{escape(title)}</title><link rel="alternate" href="{escape(site)}"/>',
        f"<id>{escape(site)}</id><updated>2026-11-30T10:00:00Z</updated>",
    ]
    for item in items:
        parts += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f'<link rel="alternate" href="{escape(item.link)}"/>',
            f"<id>{escape(item.guid or item.link)}</id>",
            f"<published>{item.published.isoformat()}</published>",
            f"<updated>{item.published.isoformat()}</updated>",
        ]
        if item.summary is not None:
            parts.append(f'<summary type="html">{escape(item.summary)}</summary>')
        if item.content is not None:
            parts.append(f'<content type="html">{escape(item.content)}</content>')
        parts.append("</entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode()


def article_page(title: str, paragraphs: Sequence[str]) -> bytes:
    """A web page with one article, as an item's link leads to."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body><nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>"
        f"{body}</article><footer>All rights reserved.</footer></body></html>"
    ).encode()


@dataclass
class Route:
    body: bytes
    content_type: str = RSS_TYPE
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    delay_seconds: float = 0.0
    hold: threading.Event | None = None  # answered once it is set (a fetch held in progress)


@dataclass
class FeedServer:
    """The routes served (changed while it runs), and what was asked of it."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    not_modified: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve(self, path: str, route: Route) -> str:
        with self.lock:
            self.routes[path] = route
        return self.url(path)


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            with server.lock:
                route = server.routes.get(self.path)
                server.requests[self.path] += 1
            if route is None:
                self._answer(404, b"not found", "text/plain")
                return
            if route.delay_seconds:
                time.sleep(route.delay_seconds)
            if route.hold is not None:
                route.hold.wait(timeout=60)
            validators = []
            if route.etag is not None:
                validators.append(self.headers.get("If-None-Match") == route.etag)
            if route.last_modified is not None:
                validators.append(self.headers.get("If-Modified-Since") == route.last_modified)
            if validators and all(validators) and route.status == 200:
                with server.lock:
                    server.not_modified[self.path] += 1
                self._answer(304, b"", None, route)
                return
            self._answer(route.status, route.body, route.content_type, route)

        def _answer(
            self, status: int, body: bytes, content_type: str | None, route: Route | None = None
        ) -> None:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if route is not None and route.etag:
                    self.send_header("ETag", route.etag)
                if route is not None and route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except OSError:  # the client gave up (a timeout test)
                pass

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A ``FeedServer`` listening on 127.0.0.1 (a free port) for the duration of the block."""
    state = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
