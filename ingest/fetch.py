"""Fetching an article by URL: http(s) only, a timeout, a size cap, no private addresses.

Each hop is resolved once, checked, and connected to at the address checked (DNS rebinding
cannot swap in an internal address between the check and the connection)."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from core.errors import LoadError
from core.sections import IngestSettings

_MAX_REDIRECTS = 5
_USER_AGENT = "newsroom-bot-ingest/0.1 (+https://github.com/)"


@dataclass
class Page:
    """A fetched response body with what is needed to decode and extract it."""

    final_url: str
    body: bytes
    content_type: str
    charset: str | None
    status: int = 200  # 304 (not modified) is a Page with an empty body
    headers: dict[str, str] = field(default_factory=dict)  # the response's, lower-cased names

    @property
    def is_pdf(self) -> bool:
        """True for a PDF response (by type or by magic bytes)."""
        return "pdf" in self.content_type or self.body[:5] == b"%PDF-"

    @property
    def text(self) -> str:
        """The body decoded with the declared charset (replacing undecodable bytes)."""
        return self.body.decode(self.charset or "utf-8", errors="replace")


class HTTPStatusError(LoadError):
    """The server answered with an error status (4xx, 5xx); `retry_after` is its
    `Retry-After` in seconds, when it gave one that can be read."""

    def __init__(self, message: str, status: int, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


Resolver = Callable[..., list[Any]]

# Ranges that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, RFC 8215) and
# the deprecated IPv4-compatible form. 6to4 (2002::/16) carries it in bits 16-48.
_LAST_32_BITS = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]


@dataclass(frozen=True)
class Target:
    """A URL that passed `check_url`, pinned to the address the check approved."""

    url: httpx.URL
    address: str

    @property
    def pinned(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (what is connected to)."""
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        """The `Host` header the server expects: the name (and port) from the URL."""
        return self.url.netloc.decode("ascii")

    @property
    def server_name(self) -> str:
        """The name TLS sends (SNI) and verifies the certificate against."""
        return self.url.raw_host.decode("ascii")


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, NAT64, compatible, 6to4, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo:
        found += list(address.teredo)
    if any(address in network for network in _LAST_32_BITS) and int(address) > 1:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """True when the address, and any IPv4 address inside it, is globally routable."""
    return address.is_global and all(a.is_global for a in embedded_ipv4(address))


def check_url(url: str, settings: IngestSettings, resolve: Resolver = socket.getaddrinfo) -> Target:
    """Refuse non-http(s) URLs and, unless allowed, private/loopback/link-local hosts.

    The host is resolved once, here; the fetch then connects to the address returned, so
    a DNS answer that changes between the check and the connection (rebinding) is never
    followed.

    Args:
        url: The URL about to be requested (each redirect hop is checked too).
        settings: `allow_private_urls` lifts the address check.
        resolve: Name resolution (`socket.getaddrinfo`); a seam for tests.

    Returns:
        The URL with the checked address to connect to.

    Raises:
        LoadError: the URL may not be fetched.
    """
    parsed = _parse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = resolve(parsed.raw_host.decode("ascii"), port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a label IDNA refuses
        raise LoadError(f"{url}: cannot resolve host {parsed.host!r}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise LoadError(f"{url}: cannot resolve host {parsed.host!r}")
    if not settings.allow_private_urls:
        for address in addresses:
            if not is_public(address):
                raise LoadError(
                    f"{url}: {parsed.host} is a private, loopback or link-local address "
                    f"({address}); set ALLOW_PRIVATE_URLS=true to ingest from internal hosts"
                )
    return Target(parsed, str(addresses[0]))


def _parse(url: str) -> httpx.URL:
    """The URL as httpx will request it, refused unless it is a well-formed http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise LoadError(f"{url}: not a valid URL ({exc}); check it for typos") from exc
    if parsed.scheme not in ("http", "https"):
        raise LoadError(f"{url}: only http:// and https:// URLs can be ingested")
    if not parsed.host:
        raise LoadError(f"{url}: no host in this URL")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise LoadError(f"{url}: port {parsed.port} is out of range (1-65535); check the URL")
    return parsed


def fetch_url(
    url: str,
    settings: IngestSettings,
    resolve: Resolver = socket.getaddrinfo,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> Page:
    """GET a page, following redirects by hand so that every hop is checked and pinned.

    Args:
        headers: Extra request headers (a conditional GET's validators, a private feed's
            token); they may hold secrets, so no message ever repeats them.

    Raises:
        HTTPStatusError: the server answered 4xx or 5xx.
        LoadError: refused URL, network error, or a body over the size cap.
    """
    client = httpx.Client(
        timeout=settings.fetch_timeout,
        verify=_tls(),
        follow_redirects=False,
        transport=transport,
        event_hooks={"response": [_refuse_other_schemes]},
    )
    with client:
        for _ in range(_MAX_REDIRECTS + 1):
            outcome = _hop(client, check_url(url, settings, resolve), url, settings, headers)
            if isinstance(outcome, Page):
                return outcome
            url = outcome
    raise LoadError(f"{url}: more than {_MAX_REDIRECTS} redirects")


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every fetch: each new one loads the CA bundle again, ~25 ms of
    CPU, which polling fifty unchanged feeds would pay fifty times."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _hop(
    client: httpx.Client,
    target: Target,
    url: str,
    settings: IngestSettings,
    headers: dict[str, str] | None = None,
) -> Page | str:
    """One request: the page, or the URL a redirect points to."""
    try:
        response = _send(client, target, url, headers)
        try:
            if response.is_redirect and response.status_code != 304:  # 304: not modified
                return urljoin(url, response.headers.get("location", "").strip())
            if response.status_code >= 400:
                raise HTTPStatusError(
                    f"{url}: the server answered HTTP {response.status_code}",
                    response.status_code,
                    retry_after(response.headers.get("retry-after")),
                )
            body = _read_body(response, url, settings)
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise LoadError(f"{url}: no answer within {settings.fetch_timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise LoadError(f"{url}: could not fetch ({type(exc).__name__})") from exc
    content_type = response.headers.get("content-type", "").lower()
    return Page(
        url,
        body,
        content_type,
        response.charset_encoding,
        response.status_code,
        {k.lower(): v for k, v in response.headers.items()},
    )


def retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class _RefusedRedirect(Exception):
    """A redirect to a scheme that is never followed (data:, javascript:, file:, ...)."""


def _refuse_other_schemes(response: httpx.Response) -> None:
    """Stop a redirect to anything but http(s) before httpx even parses its target."""
    if response.has_redirect_location:
        target = urljoin("http://host/", response.headers["location"].strip())
        scheme = target.partition(":")[0].lower()
        if scheme not in ("http", "https"):
            raise _RefusedRedirect(scheme)


def _send(
    client: httpx.Client, target: Target, url: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Send the request of one hop; a redirect httpx cannot or must not follow is refused."""
    try:
        return client.send(_request(client, target, headers), stream=True)
    except _RefusedRedirect as exc:
        raise LoadError(
            f"{url}: redirected to a {exc}: URL; only http:// and https:// links are followed"
        ) from exc
    except httpx.InvalidURL as exc:
        raise LoadError(f"{url}: redirected to a URL that is not valid ({exc})") from exc


def _request(
    client: httpx.Client, target: Target, extra: dict[str, str] | None = None
) -> httpx.Request:
    """A GET to the checked address that names the host in `Host` and in TLS (SNI)."""
    headers = {
        "User-Agent": _USER_AGENT,
        "Accept": "text/html,application/pdf;q=0.9,*/*;q=0.5",
        **(extra or {}),
        "Host": target.host_header,
    }
    return client.build_request(
        "GET", target.pinned, headers=headers, extensions={"sni_hostname": target.server_name}
    )


def _read_body(response: httpx.Response, url: str, settings: IngestSettings) -> bytes:
    limit = settings.max_file_bytes
    declared = int(response.headers.get("content-length") or 0)
    too_big = LoadError(
        f"{url}: the page is over the {settings.max_file_mb:g} MB limit (MAX_FILE_MB)"
    )
    if declared > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    for block in response.iter_bytes():
        size += len(block)
        if size > limit:
            raise too_big
        chunks.append(block)
    return b"".join(chunks)
