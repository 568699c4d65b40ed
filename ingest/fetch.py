"""Fetching an article by URL: http(s) only, a timeout, a size cap, no private addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import LoadError
from core.settings import Settings

_MAX_REDIRECTS = 5
_USER_AGENT = "newsroom-bot-ingest/0.1 (+https://github.com/)"


@dataclass
class Page:
    """A fetched response body with what is needed to decode and extract it."""

    final_url: str
    body: bytes
    content_type: str
    charset: str | None

    @property
    def is_pdf(self) -> bool:
        """True for a PDF response (by type or by magic bytes)."""
        return "pdf" in self.content_type or self.body[:5] == b"%PDF-"

    @property
    def text(self) -> str:
        """The body decoded with the declared charset (replacing undecodable bytes)."""
        return self.body.decode(self.charset or "utf-8", errors="replace")


Resolver = Callable[..., list[Any]]


def check_url(url: str, settings: Settings, resolve: Resolver = socket.getaddrinfo) -> None:
    """Refuse non-http(s) URLs and, unless allowed, private/loopback/link-local hosts.

    Args:
        url: The URL about to be requested (each redirect hop is checked too).
        settings: `allow_private_urls` lifts the address check.
        resolve: Name resolution (`socket.getaddrinfo`); a seam for tests.

    Raises:
        LoadError: the URL may not be fetched.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise LoadError(f"{url}: only http:// and https:// URLs can be ingested")
    if not parts.hostname:
        raise LoadError(f"{url}: no host in this URL")
    if settings.allow_private_urls:
        return
    try:
        infos = resolve(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise LoadError(f"{url}: cannot resolve host {parts.hostname!r}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise LoadError(
                f"{url}: {parts.hostname} is a private, loopback or link-local address "
                f"({address}); set ALLOW_PRIVATE_URLS=true to ingest from internal hosts"
            )


def fetch_url(
    url: str,
    settings: Settings,
    resolve: Resolver = socket.getaddrinfo,
    transport: httpx.BaseTransport | None = None,
) -> Page:
    """GET a page, following redirects by hand so that every hop is checked.

    Raises:
        LoadError: refused URL, network error, HTTP error, or a body over the size cap.
    """
    limit = int(settings.max_file_mb * 1024 * 1024)
    headers = {"User-Agent": _USER_AGENT, "Accept": "text/html,application/pdf;q=0.9,*/*;q=0.5"}
    client = httpx.Client(
        timeout=settings.fetch_timeout, follow_redirects=False, transport=transport
    )
    with client:
        for _ in range(_MAX_REDIRECTS + 1):
            check_url(url, settings, resolve)
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise LoadError(f"{url}: the server answered HTTP {response.status_code}")
                    body = _read_body(response, limit, url, settings)
                    return Page(
                        str(response.url),
                        body,
                        response.headers.get("content-type", "").lower(),
                        response.charset_encoding,
                    )
            except httpx.TimeoutException as exc:
                raise LoadError(f"{url}: no answer within {settings.fetch_timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise LoadError(f"{url}: could not fetch ({type(exc).__name__})") from exc
    raise LoadError(f"{url}: more than {_MAX_REDIRECTS} redirects")


def _read_body(response: httpx.Response, limit: int, url: str, settings: Settings) -> bytes:
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
