"""A small newsroom site on loopback: pages by path, ETags, a log of requests, scripted
statuses; the stories it publishes, as HTML articles and an RSS feed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    """A small newsroom site on 127.0.0.1: routes by path, ETags on everything, a log of
    every request (path and headers), and answers scripted per path (429 once, 410)."""

    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> type, body
    statuses: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    base: str = ""

    def page(self, path: str, kind: str, body: str) -> None:
        self.routes[path] = (kind, body.encode())

    def hits(self, path: str) -> list[int]:
        """The statuses answered to each request for `path`."""
        return [status for p, _h, status in self.requests if p == path]


@contextmanager
def serving(site: Site) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, kind, body = self._answer(headers)
            site.requests.append((self.path, headers, status))
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, headers: dict[str, str]) -> tuple[int, dict[str, str], str, bytes]:
            scripted = site.statuses.get(self.path)
            if scripted:
                status, extra = scripted.pop(0) if len(scripted) > 1 else scripted[0]
                if status != 200:
                    return status, extra, "text/plain", b"no"
            if self.path not in site.routes:
                return 404, {}, "text/plain", b"missing"
            kind, body = site.routes[self.path]
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, "", b""
            return 200, {"ETag": etag}, kind, body

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def article(title: str, text: str, modified: str = "") -> str:
    meta = f'<meta property="article:modified_time" content="{modified}">' if modified else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f"<html><head><title>{title}</title>{meta}"
        '<meta property="article:published_time" content="2026-11-10T08:00:00Z">'
        f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


STORIES = {
    "bridge": (
        "Council approves the Zephyr bridge",
        "The city council approved the Zephyr bridge over the Morrow river on Monday.\n"
        "Construction of the Zephyr bridge is expected to take four years and cost 80 million.",
    ),
    "library": (
        "New central library opens",
        "The new central library on Quill Street opened its doors with seven floors of books.\n"
        "Librarians said the seven floors hold more than a million volumes for readers.",
    ),
    "orchard": (
        "Orchard festival returns",
        "The apple orchard festival in Brindle returned after a pause of three seasons.\n"
        "Growers at the orchard festival sold cider and pressed juice to thousands of visitors.",
    ),
    "ferry": (
        "Night ferry to Calloway resumes",
        "The night ferry to Calloway island resumed service after the winter storms.\n"
        "Ferry operators added two extra night crossings to Calloway island every week.",
    ),
    "tunnel": (
        "Tunnel inspection finds cracks",
        "Engineers inspecting the Harrow tunnel found cracks in the northern ventilation shaft.\n"
        "The Harrow tunnel will close for repairs of the ventilation shaft next month.",
    ),
    "museum": (
        "Museum unveils whale skeleton",
        "The natural history museum unveiled a blue whale skeleton in its atrium.\n"
        "Visitors queued to see the whale skeleton hanging above the museum atrium.",
    ),
    "storm": (
        "Hailstorm damages vineyards",
        "A hailstorm damaged vineyards across the Pellan valley on Sunday evening.\n"
        "Winemakers in the Pellan valley expect the hailstorm to halve this year's harvest.",
    ),
    "secret": (
        "Internal memo on the merger",
        "The internal memo on the Gantry merger must never be fetched by any robot.\n"
        "The Gantry merger memo lists figures that robots.txt keeps private.",
    ),
    "market": (
        "Night market opens downtown",
        "A night market with forty food stalls opened downtown near the Tessel square.\n"
        "The night market at Tessel square will run every Friday through the summer.",
    ),
}


def atom(base: str, updated: str) -> str:
    """An Atom feed of one entry, the library story at `/news/library`, updated at `updated`."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Culture</title><id>{base}/feed.atom</id><updated>{updated}</updated>"
        f'<entry><title>Library</title><link href="{base}/news/library"/>'
        f"<id>{base}/news/library</id><published>2026-11-10T08:00:00Z</published>"
        f"<updated>{updated}</updated></entry></feed>"
    )


def rss(base: str, items: list[str]) -> str:
    entries = "".join(
        f"<item><title>{STORIES[s][0]}</title><link>{base}/{p}</link>"
        "<pubDate>Tue, 10 Nov 2026 08:00:00 GMT</pubDate></item>"
        for s, p in ((i.rsplit("/", 1)[-1], i) for i in items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>{base}/</link>{entries}</channel></rss>"
    )


def story(site: Site, name: str, modified: str = "", text: str | None = None) -> None:
    title, body = STORIES[name]
    prefix = "/private/" if name == "secret" else "/news/"
    site.page(prefix + name, "text/html; charset=utf-8", article(title, text or body, modified))
