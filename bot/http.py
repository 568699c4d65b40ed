"""HTTP mode: Events API, `/ask` and interactivity on `POST /slack/events`, plus `GET /healthz`.

Before Bolt sees a request, the body is read here, and only as far as an honest
Content-Length says: a missing, negative or malformed length gets 411, a body over 1 MB
gets 413, and Bolt reads the bytes already in memory, never the socket. Then the signature
(SLACK_SIGNING_SECRET, timestamps at most five minutes old) and the body's shape are checked
(`bot.signing`), so nothing unauthenticated or malformed reaches Bolt's parser; Bolt
verifies again and dispatches. A threading
`wsgiref` server runs it, so the bot needs no web framework. Behind a TLS-terminating proxy
this is all Slack needs; for heavier traffic any WSGI server can serve `create_wsgi_app`.

Until a request has wholly arrived nothing vouches for its sender, so what it may cost is
bounded: at most `max_arriving` connections are read at once (each a thread and up to 1 MB),
and a whole request, headers and body, must arrive within `arrival_seconds` of its
connection, however it trickles. A connection beyond the cap evicts the oldest one still
arriving when that one has taken over `evict_after` seconds (Slack's requests arrive in
milliseconds), and is otherwise answered 503 and closed at once.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.signing import QuietRefusals, Refused, check_request

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # Slack's requests are a few KB; no Slack request comes near
MAX_DISCARD_BYTES = 16 * MAX_BODY_BYTES
SOCKET_TIMEOUT = 30.0  # a client that stops reading our answer frees its thread
MAX_ARRIVING = 32  # connections read at once, before anything is authenticated
ARRIVAL_SECONDS = 10.0  # for a whole request to arrive (Slack's take milliseconds)
EVICT_AFTER = 1.0  # a request still arriving after this may make room for a new one
ARRIVED = "bot.request_arrived"  # the WSGI environ key of "the whole request is read"
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def create_wsgi_app(
    app: App,
    store_status: Callable[[], bool | None],
    signing_secret: str,
    follow_problem: Callable[[], str | None] = lambda: None,
    search: Callable[[], str | None] = lambda: None,
) -> WSGIApplication:
    """The bot as a WSGI application.

    Args:
        app: The Bolt app.
        store_status: True/False when the store was reachable/unreachable at last try,
            None before the first try; reported by `/healthz`.
        signing_secret: SLACK_SIGNING_SECRET, checked here before Bolt parses anything.
        follow_problem: Why the bot cannot follow the store (its local index), or None;
            `/healthz` answers 503 with it.
        search: Which search answers ("hybrid", or "dense" while a new host builds its
            local index), or None; `/healthz` says it.
    """
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    refusals = QuietRefusals()

    def refuse(start_response: StartResponse, refusal: Refused) -> list[bytes]:
        refusals.note(refusal)
        return _reply(start_response, refusal.status, {"error": refusal.reason})

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            status = store_status()
            store = "unknown" if status is None else ("ok" if status else "unavailable")
            serving = {"search": name} if (name := search()) else {}
            if problem := follow_problem():
                degraded = {"status": "degraded", "store": store, "problem": problem}
                return _reply(start_response, "503 Service Unavailable", degraded | serving)
            return _reply(start_response, "200 OK", {"status": "ok", "store": store} | serving)
        if environ.get("REQUEST_METHOD") != "POST":
            _arrived(environ)
            return slack(environ, start_response)
        try:
            try:
                body = _read_body(environ)
            finally:
                _arrived(environ)
            check_request(
                signing_secret,
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                environ.get("HTTP_X_SLACK_SIGNATURE"),
                body,
                str(environ.get("CONTENT_TYPE") or ""),
            )
        except Refused as refusal:
            return refuse(start_response, refusal)
        # Bolt reads the body again from here: never from the socket, never more than we read.
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return slack(environ, start_response)

    return wsgi


def _arrived(environ: WSGIEnvironment) -> None:
    """Tell our server the request is wholly read (other WSGI servers pass nothing)."""
    arrived = environ.get(ARRIVED)
    if arrived is not None:
        arrived()


def _read_body(environ: WSGIEnvironment) -> bytes:
    """The request body, read only as far as an honest Content-Length says.

    Raises:
        Refused: 411 without a usable length, 413 over `MAX_BODY_BYTES` (the rest of the
            body is drained, within limits, so the client reads the answer), 400 when the
            body ends before its declared length.
    """
    length = _declared_length(environ)
    if length is None:
        raise Refused("411 Length Required", "no usable Content-Length")
    if length > MAX_BODY_BYTES:
        _discard(environ["wsgi.input"], length)
        raise Refused("413 Payload Too Large", "body too large")
    body = _read(environ["wsgi.input"], length)
    if len(body) < length:
        raise Refused("400 Bad Request", "incomplete body")
    return body


def _declared_length(environ: WSGIEnvironment) -> int | None:
    """The body's length as declared, or None when the header is missing, negative or not a
    plain decimal number: then nothing tells where the body ends, so none of it is read."""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not declared.isdigit() or not declared.isascii():
        return None
    return int(declared)


def _read(stream: Any, length: int) -> bytes:
    """Exactly `length` bytes (already capped by the caller), fewer if the client stops."""
    parts: list[bytes] = []
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(left, 64 * 1024))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
    except OSError:
        pass
    return b"".join(parts)


def _reply(start_response: StartResponse, status: str, payload: dict[str, str]) -> list[bytes]:
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def _discard(stream: Any, length: int) -> None:
    """Read and drop a refused body, up to `MAX_DISCARD_BYTES`, so that the client, still
    sending, reads our answer instead of a broken connection; past that, the connection
    simply closes. Reads stop at the request's arrival deadline."""
    left = min(length, MAX_DISCARD_BYTES)
    try:
        while left > 0:
            chunk = stream.read(min(left, 64 * 1024))
            if not chunk:
                return
            left -= len(chunk)
    except OSError:
        return


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, with at most `max_arriving` of them still arriving."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of 20 deliveries on a busy machine
    # overflowed it (the kernel's ListenOverflows counter rose) and some were reset.
    request_queue_size = 128
    max_arriving = MAX_ARRIVING
    arrival_seconds = ARRIVAL_SECONDS
    evict_after = EVICT_AFTER

    def server_activate(self) -> None:
        self._arriving: dict[socket.socket, float] = {}  # connection -> when accepted
        self._arriving_lock = threading.Lock()
        self.refusals = QuietRefusals()  # a flood of these must not flood the log
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Admit a new connection (evicting a slow one if need be), or answer 503 at once."""
        now = time.monotonic()
        with self._arriving_lock:
            room, evicted = self._make_room(now)
            if room:
                self._arriving[request] = now
        if not room:
            self.refusals.note(Refused("503 Service Unavailable", "too many requests arriving"))
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        if evicted is not None:
            self.refusals.note(Refused("408 Request Timeout", "cut a slow request for a new one"))
            _cut(evicted)
        super().process_request(request, client_address)

    def _make_room(self, now: float) -> tuple[bool, socket.socket | None]:
        """Whether a new connection may be read, and which slow one to cut for it (none
        when there is room, or when every arriving one is young and the new one is
        refused). Called with the lock held."""
        if len(self._arriving) < self.max_arriving:
            return True, None
        oldest, since = min(self._arriving.items(), key=lambda item: item[1])
        if now - since < self.evict_after:
            return False, None
        del self._arriving[oldest]
        return True, oldest

    def arrival_deadline(self, request: Any) -> float:
        """When the request on this connection must have wholly arrived (monotonic)."""
        with self._arriving_lock:
            accepted = self._arriving.get(request, time.monotonic())
        return accepted + self.arrival_seconds

    def arrived(self, request: Any) -> None:
        """The request on this connection is wholly read: it no longer counts as arriving."""
        with self._arriving_lock:
            self._arriving.pop(request, None)

    def shutdown_request(self, request: Any) -> None:
        self.arrived(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed mid-request (cut at its deadline, reset by the client):
        one quiet line, never the standard library's traceback on stderr."""
        late = isinstance(sys.exc_info()[1], TimeoutError)
        reason = "request did not arrive in time" if late else "connection broke mid-request"
        self.refusals.note(Refused("408 Request Timeout", reason))


def _refuse_busy(request: socket.socket) -> None:
    """Answer 503 without waiting for anything: the connection is closed next."""
    with contextlib.suppress(OSError):
        request.setblocking(False)
        request.send(BUSY)


def _cut(request: socket.socket) -> None:
    """End a connection another thread is reading: its read returns at once."""
    with contextlib.suppress(OSError):
        request.shutdown(socket.SHUT_RDWR)


class _DeadlineReader(io.RawIOBase):
    """A connection's bytes, but none after a deadline: each read waits only for what is
    left of it, so a client trickling a byte at a time cannot renew it."""

    def __init__(self, sock: socket.socket, deadline: float | None):
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            self.sock.settimeout(min(left, SOCKET_TIMEOUT))
        return self.sock.recv_into(buffer)


class _QuietHandler(WSGIRequestHandler):
    """Logs method, path and status through `logging` (never bodies or query strings)."""

    timeout = SOCKET_TIMEOUT
    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # our reader replaces it (closing drops its hold on the socket)
        deadline = self.server.arrival_deadline(self.request)
        self._reader = _DeadlineReader(self.connection, deadline)
        self.rfile = io.BufferedReader(self._reader)

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ[ARRIVED] = self._arrived
        return environ

    def _arrived(self) -> None:
        """The whole request is read: no deadline for answering it, and no longer counted."""
        self._reader.deadline = None
        self.connection.settimeout(self.timeout)
        self.server.arrived(self.request)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # A request line too malformed to parse leaves no path (nor command) behind.
        path = getattr(self, "path", "").split("?", 1)[0]
        log.debug("%s %s -> %s", getattr(self, "command", None), path, code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """The standard library's error lines (a malformed request, a timeout) quote the raw
        request line, query string included: only the status is logged."""
        status = next((a for a in args if isinstance(a, int)), None)
        log.info("http: refused a request the server could not handle (status %s)", status)


class HttpServer:
    """The WSGI app on a port, in a background thread (`serve_forever` blocks instead)."""

    def __init__(
        self,
        wsgi: WSGIApplication,
        port: int,
        host: str = "0.0.0.0",
        *,
        max_arriving: int = MAX_ARRIVING,
        arrival_seconds: float = ARRIVAL_SECONDS,
        evict_after: float = EVICT_AFTER,
    ):
        limits = {
            "max_arriving": max_arriving,
            "arrival_seconds": arrival_seconds,
            "evict_after": evict_after,
        }
        server_class: type[_ThreadingServer] = type("_LimitedServer", (_ThreadingServer,), limits)
        self._server = make_server(
            host, port, wsgi, server_class=server_class, handler_class=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="bot-http"
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
