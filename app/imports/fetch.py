"""Fetching a web page to save it as an article, without letting a URL reach inside the network.

A URL is refused unless it is http(s) and every address its host resolves to is public (or the
host is on the allow-list). The connection then goes to the address that was checked, so a DNS
answer that changes between the check and the request cannot send it elsewhere. Redirects are
followed by hand, each hop checked the same way. The time of the whole exchange is bounded, and
so is the size of the page, counted as it is decompressed.
"""

import ipaddress
import json
import socket
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpx

from app.config import Settings
from app.imports.parsers.common import clean

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix
_USER_AGENT = "Givefirst/0.1 (saves an article you asked for)"


class FetchError(ValueError):
    """The URL cannot be saved: refused, unreachable, too large, too slow or not a page."""


@dataclass(frozen=True)
class FetchPolicy:
    timeout_seconds: float
    max_bytes: int
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    extract_timeout_seconds: float = 15.0


@dataclass(frozen=True)
class FetchedPage:
    url: str
    content: bytes
    content_type: str = ""
    # A feed's validators, sent back on the next poll (``fetch_feed``).
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # the server answered 304: ``content`` is empty


@dataclass(frozen=True)
class _Wanted:
    """What a fetch accepts: the Accept header sent, the answers read, and how they are named."""

    accept: str
    is_wanted: Callable[[str], bool]
    refusal: str  # why another Content-Type is refused, after "(Content-Type: x)"
    noun: str = "page"
    conditional: tuple[tuple[str, str], ...] = ()  # If-None-Match, If-Modified-Since


_PAGE = _Wanted(
    accept="text/html,application/xhtml+xml;q=0.9",
    is_wanted=lambda content_type: _is_html(content_type),
    refusal="only web pages can be saved by URL",
)
_FEED_TYPES = ("xml", "rss", "atom", "rdf", "html", "text/plain")


@dataclass(frozen=True)
class ExtractedArticle:
    url: str
    title: str
    text: str | None
    summary: str | None


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The limits of every fetch the service makes (save by URL, feeds), from the settings."""
    return FetchPolicy(
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        allowed_hosts=frozenset(settings.fetch_allowed_hosts),
        extract_timeout_seconds=settings.extract_timeout_seconds,
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (and reaches): IPv4-mapped ``::ffff:a.b.c.d``,
    IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16`` or Teredo (its
    client)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    value = int(address)
    if value >> 32 == 0 and value > 1:  # IPv4-compatible; :: and ::1 are IPv6's own
        return ipaddress.IPv4Address(value)
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFF_FFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _why_refused(address: IpAddress) -> str | None:
    """Why an address must not be fetched from, or None for a public address. An IPv6 address
    that carries an IPv4 one is judged as that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _embedded_ipv4(address) or address
    if address.is_unspecified:
        return "not a public address"
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if not address.is_global or address.is_multicast:
        return "not a public address"
    return None


async def _checked_address(url: httpx.URL, policy: FetchPolicy, resolver: Resolver) -> str:
    """The address to connect to for ``url``, once every address of its host is allowed."""
    if url.scheme not in ("http", "https"):
        raise FetchError(f"Only http and https URLs can be saved, not {url.scheme}:.")
    host = url.host
    if not host:
        raise FetchError("The URL has no host.")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        answer = await anyio.to_thread.run_sync(resolver, host, port, abandon_on_cancel=True)
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in answer]
    except (OSError, UnicodeError, ValueError) as error:
        raise FetchError(f"The host {host} could not be resolved.") from error
    if not addresses:
        raise FetchError(f"The host {host} could not be resolved.")
    if host.lower() not in policy.allowed_hosts:
        for address in addresses:
            if (reason := _why_refused(address)) is not None:
                # The address itself is not named: the answer would map the inside network.
                named = "is" if _is_address(host) else "resolves to"
                raise FetchError(
                    f"Refused: {host} {named} {reason}. Only public web pages can be saved by URL."
                )
    return str(addresses[0])


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_html(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in _HTML_TYPES


def _parsed(url: str, base: httpx.URL | None = None) -> httpx.URL:
    """``url`` (joined to ``base``, for a redirect), or a FetchError saying it is no URL."""
    try:
        return base.join(url) if base is not None else httpx.URL(url)
    except httpx.InvalidURL as error:
        raise FetchError(f"{url!r} is not a valid web address: {error}.") from error


def fetch_page(url: str, policy: FetchPolicy, *, resolver: Resolver = resolve) -> FetchedPage:
    """The HTML of ``url`` after at most ``policy.max_redirects`` checked redirects.

    ``policy.timeout_seconds`` bounds the whole exchange (each look-up and connection, status
    line, headers and body of every hop): a per-read timeout never ends a server that sends a
    byte at a time. The exchange runs in an event loop of its own: call this from a thread that
    has none (a sync route runs in the threadpool).
    """
    return anyio.run(_fetch, url, policy, resolver, _PAGE)


def fetch_feed(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    resolver: Resolver = resolve,
) -> FetchedPage:
    """A feed (or the page that links one) with the same checks as ``fetch_page``, asked
    conditionally: with the validators of the last poll, a 304 answer comes back as
    ``not_modified`` with no body."""
    conditional = (("If-None-Match", etag), ("If-Modified-Since", last_modified))
    wanted = _Wanted(
        accept="application/rss+xml,application/atom+xml,application/xml;q=0.9,"
        "text/xml;q=0.9,text/html;q=0.5,*/*;q=0.1",
        is_wanted=_is_feed_type,
        refusal="only RSS or Atom feeds, or pages that link one, can be subscribed to",
        noun="feed",
        conditional=tuple((name, value) for name, value in conditional if value),
    )
    return anyio.run(_fetch, url, policy, resolver, wanted)


def _is_feed_type(content_type: str) -> bool:
    """Feeds come as XML of every name, as HTML (a page that links one) and as plain text; an
    answer with no Content-Type is read too (feedparser says whether it is a feed)."""
    kind = content_type.split(";")[0].strip().lower()
    return not kind or any(part in kind for part in _FEED_TYPES)


async def _fetch(url: str, policy: FetchPolicy, resolver: Resolver, wanted: _Wanted) -> FetchedPage:
    current = _parsed(url)
    seconds = f"{policy.timeout_seconds:g} s"
    too_slow = f"{current.host} did not answer within {seconds}."
    try:
        with anyio.fail_after(policy.timeout_seconds):
            async with httpx.AsyncClient(
                timeout=None, follow_redirects=False, trust_env=False
            ) as client:
                for _ in range(policy.max_redirects + 1):
                    too_slow = f"{current.host} did not answer within {seconds}."
                    address = await _checked_address(current, policy, resolver)
                    response = await _send(client, current, address, wanted)
                    try:
                        if response.is_redirect and "location" in response.headers:
                            current = _parsed(response.headers["location"], current)
                            continue
                        if response.status_code == 304 and wanted.conditional:
                            return FetchedPage(url=str(current), content=b"", not_modified=True)
                        too_slow = (
                            f"{current.host} took more than {seconds} to send the {wanted.noun}."
                        )
                        content = await _read_body(response, policy, wanted)
                    finally:
                        await response.aclose()
                    return FetchedPage(
                        url=str(current),
                        content=content,
                        content_type=response.headers.get("content-type", ""),
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                    )
    except TimeoutError as error:
        raise FetchError(too_slow) from error
    raise FetchError(f"More than {policy.max_redirects} redirects.")


async def _send(
    client: httpx.AsyncClient, url: httpx.URL, address: str, wanted: _Wanted
) -> httpx.Response:
    """The answer's status and headers, from ``address`` (checked) in the name of ``url``."""
    request = client.build_request(
        "GET",
        url.copy_with(host=address),
        headers={
            "Host": url.netloc.decode("ascii"),
            "User-Agent": _USER_AGENT,
            "Accept": wanted.accept,
            "Accept-Encoding": "gzip, deflate",
            **dict(wanted.conditional),
        },
        extensions={"sni_hostname": url.host},
    )
    try:
        return await client.send(request, stream=True)
    except httpx.HTTPError as error:
        raise FetchError(f"Could not fetch the {wanted.noun} from {url.host}: {error}.") from error


def _decoder(response: httpx.Response) -> "zlib._Decompress | None":
    """What undoes the answer's Content-Encoding, or None when it has none.

    One layer at most: gzip inside gzip turns a few hundred bytes into gigabytes.
    """
    named = response.headers.get_list("content-encoding", split_commas=True)
    encodings = [e for e in (n.strip().lower() for n in named) if e not in ("", "identity")]
    if not encodings:
        return None
    if len(encodings) > 1:
        raise FetchError(
            f"The page is compressed more than once (Content-Encoding: {', '.join(encodings)}); "
            "only one layer of compression is accepted."
        )
    if encodings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(
            f"The page is compressed as {encodings[0]}, which cannot be read (gzip and deflate "
            "can)."
        )
    return zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header, whichever it is


async def _read_body(response: httpx.Response, policy: FetchPolicy, wanted: _Wanted) -> bytes:
    noun = wanted.noun
    if response.status_code >= 400:
        raise FetchError(f"The {noun} answered HTTP {response.status_code}.")
    content_type = response.headers.get("content-type", "")
    if not wanted.is_wanted(content_type):
        what = "HTML" if noun == "page" else "a feed"
        raise FetchError(
            f"The {noun} is not {what} (Content-Type: {content_type or 'none'}); {wanted.refusal}."
        )
    limit = f"larger than the {policy.max_bytes:,} bytes allowed"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"The {noun} is {limit} ({int(declared):,} bytes).")
    decoder = _decoder(response)
    body = bytearray()
    received = 0
    try:
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if decoder is None:
                body += chunk
            else:  # decoded only up to one byte past the limit, never the whole of a bomb
                body += decoder.decompress(chunk, policy.max_bytes - len(body) + 1)
            if received > policy.max_bytes or len(body) > policy.max_bytes:
                raise FetchError(f"The {noun} is {limit}.")
    except zlib.error as error:
        raise FetchError(f"The {noun}'s compression is damaged: {error}.") from error
    except httpx.HTTPError as error:
        raise FetchError(f"The {noun} could not be read: {error}.") from error
    return bytes(body)


def extract_article(page: FetchedPage, *, timeout_seconds: float) -> ExtractedArticle:
    """Title, main text and description of a page, read in a child process
    (``app.imports.extraction``) that is killed after ``timeout_seconds``."""
    try:
        child = subprocess.run(
            [sys.executable, "-m", "app.imports.extraction", page.url],
            input=page.content,
            capture_output=True,
            timeout=timeout_seconds,
            check=True,
        )
    except subprocess.TimeoutExpired as error:
        raise FetchError(
            f"Reading the page's text took more than {timeout_seconds:g} s: the page is too "
            "large or too complex to save."
        ) from error
    except (OSError, subprocess.CalledProcessError) as error:
        raise FetchError("The page's text could not be read.") from error
    fields = json.loads(child.stdout)
    title, text, summary = (clean(fields.get(name)) for name in ("title", "text", "summary"))
    if title is None and text is None:
        raise FetchError("No title or readable text was found on the page.")
    return ExtractedArticle(url=page.url, title=title or page.url, text=text, summary=summary)
