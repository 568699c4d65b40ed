"""HTTP mode: Events API, `/ask` and interactivity on `POST /slack/events`, plus `GET /healthz`.

Before Bolt sees a request, the body is read here, and only as far as an honest
Content-Length says: a missing, negative or malformed length gets 411, a body over 1 MB
gets 413, and Bolt reads the bytes already in memory, never the socket. Then the signature
(SLACK_SIGNING_SECRET, timestamps at most five minutes old) and the body's shape are checked
(`bot.signing`), so nothing unauthenticated or malformed reaches Bolt's parser; Bolt
verifies again and dispatches. A threading
`wsgiref` server runs it, so the bot needs no web framework. Behind a TLS-terminating proxy
this is all Slack needs; for heavier traffic any WSGI server can serve `create_wsgi_app`.
"""

from __future__ import annotations

import io
import json
import logging
import threading
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
SOCKET_TIMEOUT = 30.0  # a client that stops sending mid-request frees its thread


def create_wsgi_app(
    app: App,
    store_status: Callable[[], bool | None],
    signing_secret: str,
    follow_problem: Callable[[], str | None] = lambda: None,
) -> WSGIApplication:
    """The bot as a WSGI application.

    Args:
        app: The Bolt app.
        store_status: True/False when the store was reachable/unreachable at last try,
            None before the first try; reported by `/healthz`.
        signing_secret: SLACK_SIGNING_SECRET, checked here before Bolt parses anything.
        follow_problem: Why the bot cannot follow the store (its local index), or None;
            `/healthz` answers 503 with it.
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
            if problem := follow_problem():
                degraded = {"status": "degraded", "store": store, "problem": problem}
                return _reply(start_response, "503 Service Unavailable", degraded)
            return _reply(start_response, "200 OK", {"status": "ok", "store": store})
        if environ.get("REQUEST_METHOD") != "POST":
            return slack(environ, start_response)
        try:
            body = _read_body(environ)
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
    simply closes. Reads stop at the server's socket timeout."""
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
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of 20 deliveries on a busy machine
    # overflowed it (the kernel's ListenOverflows counter rose) and some were reset.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    """Logs method, path and status through `logging` (never bodies or query strings)."""

    timeout = SOCKET_TIMEOUT

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

    def __init__(self, wsgi: WSGIApplication, port: int, host: str = "0.0.0.0"):
        self._server = make_server(
            host, port, wsgi, server_class=_ThreadingServer, handler_class=_QuietHandler
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
