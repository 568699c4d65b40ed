"""Fetching URLs: every hop connects to the address that was checked (no DNS rebinding)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core.errors import LoadError
from core.settings import Settings
from ingest.fetch import check_url, fetch_url
from tests.documents import news_page

PUBLIC = "93.184.216.34"
PAGE = news_page("Harbor board", ["The harbor board met on Tuesday to discuss the ferry. " * 5])


def _answer(address: str, port: int) -> list:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


class Rebinding:
    """A hostile DNS server: a public address for the first lookup, loopback afterwards."""

    def __init__(self) -> None:
        self.lookups = 0

    def __call__(self, host: str, port: int, **kwargs: object) -> list:
        self.lookups += 1
        return _answer(PUBLIC if self.lookups == 1 else "127.0.0.1", port)


def test_a_rebinding_host_is_fetched_from_the_address_that_was_checked() -> None:
    """A host that answers public, then loopback: the request goes to the public address."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, text=PAGE)

    resolve = Rebinding()
    page = fetch_url(
        "http://rebind.example/story",
        Settings(_env_file=None).ingest,
        resolve=resolve,
        transport=httpx.MockTransport(respond),
    )
    [request] = seen
    assert request.url.host == PUBLIC  # the checked address, not a second lookup
    assert request.headers["Host"] == "rebind.example"
    assert page.final_url == "http://rebind.example/story"
    assert resolve.lookups == 1


def test_every_redirect_hop_is_pinned_to_its_checked_address() -> None:
    """A public page redirecting to a rebinding host: each hop goes where its check said."""
    seen: list[tuple[str, str]] = []
    answers = {"news.example": ["93.184.216.10"], "evil.example": [PUBLIC, "127.0.0.1"]}

    def resolve(host: str, port: int, **kwargs: object) -> list:
        return _answer(answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0], port)

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["Host"]))
        if request.headers["Host"] == "news.example":
            return httpx.Response(302, headers={"Location": "https://evil.example/inside"})
        return httpx.Response(200, headers={"Content-Type": "text/html"}, text=PAGE)

    page = fetch_url(
        "http://news.example/",
        Settings(_env_file=None).ingest,
        resolve=resolve,
        transport=httpx.MockTransport(respond),
    )
    assert seen == [("93.184.216.10", "news.example"), (PUBLIC, "evil.example")]
    assert page.final_url == "https://evil.example/inside"


class _Echo(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.hosts.append(self.headers["Host"])
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A real HTTP server on 127.0.0.1; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    _Echo.hosts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def test_the_real_connection_goes_to_the_resolved_address(loopback_server: int) -> None:
    """Over a real socket: a name only our resolver knows is reached at the address it gave."""
    settings = Settings(_env_file=None, allow_private_urls=True).ingest
    page = fetch_url(
        f"http://archive.internal:{loopback_server}/story",
        settings,
        resolve=lambda host, port, **kw: _answer("127.0.0.1", port),
    )
    assert b"harbor board met" in page.body
    assert _Echo.hosts == [f"archive.internal:{loopback_server}"]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::10.1.2.3",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:1::1",  # 6to4 of 192.168.0.1
    ],
)
def test_ipv6_forms_embedding_a_private_ipv4_are_refused(address: str) -> None:
    """As a URL literal or as a DNS answer, an IPv6 wrapping an internal IPv4 is refused."""
    with pytest.raises(LoadError, match="ALLOW_PRIVATE_URLS"):
        check_url(f"http://[{address}]/x", Settings(_env_file=None).ingest)
    with pytest.raises(LoadError, match="ALLOW_PRIVATE_URLS"):
        check_url(
            "http://aaaa.example/x",
            Settings(_env_file=None).ingest,
            resolve=lambda host, port, **kw: _answer(address, port),
        )


def test_nat64_of_a_public_address_is_still_fetched() -> None:
    """An IPv6-only network's NAT64 address of a public site is not refused."""
    check_url("http://[64:ff9b::5db8:d822]/x", Settings(_env_file=None).ingest)


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate valid only for `name` (no IP address in it), and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_name(tmp_path: Path) -> None:
    """TLS to the checked address still sends the host name and checks the certificate by it."""
    cert, key = _self_signed(tmp_path, "archive.internal")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    _Echo.hosts = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        page = fetch_url(
            f"https://archive.internal:{server.server_port}/story",
            Settings(_env_file=None, allow_private_urls=True).ingest,
            resolve=lambda host, port, **kw: _answer("127.0.0.1", port),
            transport=httpx.HTTPTransport(verify=trusted),
        )
    finally:
        server.shutdown()
    assert b"harbor board met" in page.body
    assert _Echo.hosts == [f"archive.internal:{server.server_port}"]
