"""What a followed source lists: feeds (RSS, Atom, JSON Feed), sitemaps, robots.txt, homepages.

Pure parsing of bytes already fetched (by `ingest.follow`, through the guarded fetch): no
function here touches the network. feedparser reads RSS and Atom (given the bytes, never a
URL, so it cannot fetch by itself); lxml reads sitemaps with entities and network access
off; trafilatura finds a homepage's feeds; the standard library reads robots.txt.
"""

from __future__ import annotations

import io
import json
import os
import re
import urllib.robotparser
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from core.errors import LoadError
from ingest.dates import iso_date

USER_AGENT = "newsroom-bot-follow/0.1"  # what robots.txt rules are matched against
MAX_ENTRIES = 50_000  # a sitemap holds at most 50,000 URLs (sitemaps.org)
MAX_UNZIPPED = 50 * 1024 * 1024  # and at most 50 MB uncompressed

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_HEADER = re.compile(r"^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class Entry:
    """One page a source lists, with the dates it gives (ISO 8601, None when not given)."""

    url: str
    modified: str | None = None  # lastmod, updated, date_modified
    published: str | None = None  # pubDate, published, news:publication_date

    @property
    def newest(self) -> str | None:
        """The later of its dates (what `--since` compares)."""
        return self.modified or self.published


@dataclass
class Listing:
    """What one fetched source says: pages to follow, and further sources (the sitemaps of
    an index or of robots.txt, the feeds a homepage links to)."""

    kind: str  # "feed", "sitemap", "index", "robots", "homepage"
    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """A source given on the command line or in a sources file, with its own request
    headers (a private feed's token: never printed)."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()


def read_listing(body: bytes, url: str, content_type: str = "") -> Listing:
    """Parse a fetched source by what it is: robots.txt, a sitemap (index), a feed, or a
    homepage whose `<link rel="alternate">` feeds are followed.

    Raises:
        LoadError: it is none of these.
    """
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz, served as a file rather than encoded
        body = _gunzip(body, url)
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if urlsplit(url).path == "/robots.txt":
        return Listing("robots", children=robots_sitemaps(body, url))
    if head.startswith((b"{", b"[")) or "json" in content_type:
        return _json_feed(body, url)
    if b"<urlset" in head or b"<sitemapindex" in head:
        return _sitemap(body, url)
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        parts = urlsplit(url)
        robots = f"{parts.scheme}://{parts.netloc}/robots.txt"  # its Sitemap: lines
        return Listing("homepage", children=discover_feeds(body, url) or [robots])
    return _xml_feed(body, url)


def _gunzip(body: bytes, url: str) -> bytes:
    """A gzip file's content, refused past the 50 MB a sitemap may have uncompressed."""
    inflate = zlib.decompressobj(wbits=31)
    try:
        data = inflate.decompress(body, MAX_UNZIPPED)
    except zlib.error as exc:
        raise LoadError(f"{url}: a gzip file that cannot be read") from exc
    if inflate.unconsumed_tail:
        raise LoadError(f"{url}: over {MAX_UNZIPPED >> 20} MB once unzipped; not read")
    return data


def _xml_feed(body: bytes, url: str) -> Listing:
    import feedparser

    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        raise LoadError(f"{url}: not a feed, sitemap or web page that can be followed")
    entries = []
    for item in parsed.entries[:MAX_ENTRIES]:
        link = item.get("link") or _permalink(item.get("id"))
        if not link:
            continue
        entries.append(
            Entry(
                urljoin(url, link.strip()),
                modified=_iso(item.get("updated")),
                published=_iso(item.get("published")),
            )
        )
    return Listing("feed", entries)


def _permalink(value: object) -> str | None:
    """An RSS guid or Atom id that is itself a link (otherwise it names, not locates)."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    return None


def _json_feed(body: bytes, url: str) -> Listing:
    """A JSON Feed (jsonfeed.org, versions 1 and 1.1)."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(f"{url}: not valid JSON, so not a JSON Feed") from exc
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise LoadError(f"{url}: a JSON document without 'items' is not a JSON Feed")
    entries = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") if isinstance(item.get("url"), str) else _permalink(item.get("id"))
        if link:
            entries.append(
                Entry(
                    urljoin(url, link.strip()),
                    modified=_iso(item.get("date_modified")),
                    published=_iso(item.get("date_published")),
                )
            )
    return Listing("feed", entries)


def _sitemap(body: bytes, url: str) -> Listing:
    """An XML sitemap, a sitemap index, or a Google News sitemap."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"{url}: the sitemap is not readable XML") from exc
    if root is None:
        raise LoadError(f"{url}: the sitemap is not readable XML")
    index = etree.QName(root).localname == "sitemapindex"
    entries = []
    for node in root.iter(f"{{{_SITEMAP_NS}}}sitemap", f"{{{_SITEMAP_NS}}}url", "sitemap", "url"):
        loc = _text(node, "loc")
        if not loc or not loc.startswith(("http://", "https://")):
            continue
        published = _text(node, f"{{{_NEWS_NS}}}news/{{{_NEWS_NS}}}publication_date")
        entries.append(Entry(urljoin(url, loc), _iso(_text(node, "lastmod")), _iso(published)))
        if len(entries) >= MAX_ENTRIES:
            break
    if index:
        return Listing("index", entries=entries, children=[e.url for e in entries])
    return Listing("sitemap", entries)


def _text(node: object, path: str) -> str | None:
    """The stripped text of a child, in the sitemap namespace or in none."""
    for candidate in (
        path if path.startswith("{") else f"{{{_SITEMAP_NS}}}{path}",
        path,
    ):
        found = node.find(candidate)  # type: ignore[attr-defined]
        if found is not None and found.text and found.text.strip():
            return str(found.text).strip()
    return None


def _iso(value: object) -> str | None:
    return iso_date(value.strip()) if isinstance(value, str) else None


def discover_feeds(body: bytes, url: str) -> list[str]:
    """The feeds a homepage names (`<link rel="alternate" type="application/rss+xml">`,
    and the like), by trafilatura's own rules."""
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(url).netloc
    html = body.decode("utf-8", errors="replace")
    params = FeedParameters(f"{urlsplit(url).scheme}://{host}", host, url)
    return determine_feed(html, params)


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """The `Sitemap:` lines of a robots.txt."""
    return robots_rules(body, url).site_maps() or []


def robots_rules(body: bytes, url: str) -> urllib.robotparser.RobotFileParser:
    """A robots.txt parsed (the standard library's rules: first matching group wins)."""
    rules = urllib.robotparser.RobotFileParser(url)
    rules.parse(body.decode("utf-8", errors="replace").splitlines())
    rules.modified()  # parsed now: `can_fetch` answers only after a read or a parse
    return rules


def read_sources(path: Path) -> list[Source]:
    """The sources a file lists, one a line: `URL`, optionally followed by request headers
    separated from it and from each other by two spaces or a tab
    (`https://cms.example/feed  Authorization: Bearer ${FEED_TOKEN}`). `${NAME}` is taken
    from the environment, so a token need not be written in the file. `#` starts a comment.

    Raises:
        LoadError: the file cannot be read, or a line is not a URL with headers.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: cannot read this sources file ({type(exc).__name__})") from exc
    sources = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        url, *headers = re.split(r"\t+|\s{2,}", line.strip())
        if not url.startswith(("http://", "https://")):
            raise LoadError(f"{path} line {number}: a source is an http:// or https:// URL")
        pairs = []
        for header in headers:
            match = _HEADER.match(header)
            if not match:  # the value is not repeated: it may be a token
                raise LoadError(f"{path} line {number}: write each header as 'Name: value'")
            pairs.append((match[1], os.path.expandvars(match[2]).strip()))
        sources.append(Source(url, tuple(pairs)))
    return sources
