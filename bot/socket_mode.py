"""Socket Mode: the bot dials out to Slack over a WebSocket (no public URL needed).

Uses slack_sdk's `websocket-client` based client rather than its built-in one. Measured
against the test stand-in, the built-in client took 9 s to reconnect after Slack closed the
socket or reset the connection, and after a bare TCP close (FIN, no close frame) it spun a
CPU core for ~40 s and reconnected only after ~60 s; this one notices all three at once.

`ArchiveSocketModeClient` fixes what measuring it showed next. Replacing or closing a session
closed its socket under the reader thread, which could then wait in select() for 10 s
before the next session could start (so a refresh Slack asks for took 10 s): the old
socket is now shut down first, which wakes the reader at once. A session still starting
(it starts up to 0.5 s after being created) counted as disconnected, so the client opened
another one on top of it. And there was no pong timeout: `_ConnectionWatch` reconnects when
Slack falls silent, and reopens a connection that stays gone.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.socket_mode.websocket_client import SocketModeClient

log = logging.getLogger(__name__)

# What this module relies on that slack_sdk (and websocket-client) do not promise: a release
# may rename any of it, so pyproject.toml bounds slack-sdk to the minor version tested, and
# tests/bot/test_dependencies.py fails loudly, naming the part, when one disappears.
CLIENT_INTERNALS = (
    "current_app_monitor_started",  # set before slack_sdk's connect() reads it
    "current_session",
    "on_open_listeners",
    "closed",
    "auto_reconnect_enabled",
    "socket_mode_request_listeners",
    "connect_to_new_endpoint",
    "logger",
)
SESSION_INTERNALS = ("sock", "last_ping_tm", "last_pong_tm")  # websocket.WebSocketApp
SOCKET_INTERNALS = ("abort",)  # websocket.WebSocket

PING_SECONDS = 10.0
CONCURRENCY = 8
STARTING_GRACE = 2.0  # a session not open this long after it was created is gone
MAX_BACKOFF = 30.0


class ArchiveSocketModeClient(SocketModeClient):
    """slack_sdk's websocket-client based client, replacing sessions without stalls."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.current_app_monitor_started = True  # keeps its monitor off: _ConnectionWatch
        self.created_at = 0.0
        self.opened: object = None  # the last session that completed its handshake
        self.quiet_until = 0.0  # errors about a socket we ended ourselves are not logged
        self.on_open_listeners.append(self._on_open)
        noise = _OwnCloseNoise(self)
        for logger in (self.logger, logging.getLogger("websocket")):
            logger.addFilter(noise)

    def _on_open(self, session: object) -> None:
        self.opened = session

    def is_connected(self) -> bool:
        """Connected, or a session created moments ago that is still opening."""
        session = self.current_session
        if session is None:
            return False
        if session.sock is not None:
            return True
        opening = session is not self.opened
        return opening and time.monotonic() - self.created_at < STARTING_GRACE

    def connect(self) -> None:
        """Open a new session once the old one's reader has ended it (slack_sdk's connect
        then finds no socket left to close under that reader)."""
        self.end_session(wait=2.0)
        super().connect()
        self.created_at = time.monotonic()

    def end_session(self, wait: float = 0.0) -> None:
        """End the current session's TCP connection; its reader wakes and tears it down.

        Only the reader closes the socket: closed by another thread while the reader waits
        in select(), the wake-up can be lost and the reader sleeps on for 10 s.

        Args:
            wait: Seconds to wait at most for the teardown (the reader's `on_close` may
                then still be running, and reconnecting).
        """
        session = self.current_session
        sock = session.sock if session is not None else None
        if session is None or sock is None:
            return
        self.quiet_until = time.monotonic() + 2.0
        sock.abort()
        deadline = time.monotonic() + wait
        while session.sock is not None and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Close the connection and stop every thread of the client."""
        self.closed, self.auto_reconnect_enabled = True, False  # no reconnect from here
        self.end_session(wait=2.0)
        super().close()


class _OwnCloseNoise(logging.Filter):
    """Drops the errors the client logs about a connection it just ended itself (an ERROR
    "Connection to remote host was lost" at every refresh and stop would mislead)."""

    def __init__(self, client: ArchiveSocketModeClient):
        super().__init__()
        self.client = client

    def filter(self, record: logging.LogRecord) -> bool:
        if time.monotonic() > self.client.quiet_until:
            return True
        message = record.getMessage()
        return not ("on_error invoked" in message or "remote host was lost" in message)


class ArchiveSocketModeHandler(SocketModeHandler):
    """Bolt's websocket-client handler around our client, with a connection watch.

    Bolt's own `__init__` is not called: it would build (and start the threads of)
    slack_sdk's client; this is the same wiring with ours.
    """

    def __init__(self, app: App, app_token: str, ping_interval: float):
        self.app = app
        self.app_token = app_token
        self.client = ArchiveSocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
            concurrency=CONCURRENCY,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        watch = _ConnectionWatch(self.client, ping_interval)
        threading.Thread(target=watch.run, name="socket-mode-watch", daemon=True).start()


def create_socket_handler(
    app: App, app_token: str, *, ping_interval: float = PING_SECONDS
) -> SocketModeHandler:
    """A Socket Mode handler for the app; `connect()` it, or `start()` to block.

    Args:
        app: The Bolt app (its client opens the connection: `apps.connections.open`).
        app_token: The app-level token (xapp-…) with `connections:write`.
        ping_interval: Seconds between pings; a ping unanswered for as long again makes
            the bot reconnect.
    """
    return ArchiveSocketModeHandler(app, app_token, ping_interval)


class _ConnectionWatch:
    """Checks the client's connection about every second until the client is closed.

    A connection gone (and not replaced by the client itself, which it does at once when
    it sees one close) is reopened, with backoff while Slack refuses; a ping still
    unanswered after `ping_interval` seconds (pings go every `ping_interval` s, so about
    two intervals after Slack fell silent) ends the connection, which the client then
    replaces.
    """

    def __init__(self, client: ArchiveSocketModeClient, ping_interval: float):
        self.client = client
        self.ping_interval = ping_interval
        self.period = min(1.0, ping_interval / 4)
        self.backoff = self.period
        self.unanswered: tuple[object, float] | None = None  # (socket, seen unanswered at)

    def run(self) -> None:
        while not self.client.closed:
            time.sleep(self.period)
            try:
                self.check()
            except Exception:  # the watch must outlive any surprise
                log.exception("checking the Socket Mode connection failed")

    def check(self) -> None:
        client = self.client
        if client.closed or not client.auto_reconnect_enabled:
            return
        session = client.current_session
        sock = session.sock if session is not None else None
        if session is None or sock is None:
            self._reopen_if_gone()
            return
        self.backoff = self.period
        if session.last_pong_tm >= session.last_ping_tm:
            self.unanswered = None  # every ping answered (pongs take milliseconds)
        elif self.unanswered is None or self.unanswered[0] is not sock:
            self.unanswered = (sock, time.monotonic())
        elif time.monotonic() - self.unanswered[1] > self.ping_interval:
            log.warning("Slack stopped answering pings; reconnecting")
            self.unanswered = None
            client.end_session()  # its reader wakes, sees the end, and the client reconnects

    def _reopen_if_gone(self) -> None:
        if self.client.is_connected():  # still opening
            return
        log.info("no Socket Mode connection; opening a new one")
        try:
            self.client.connect_to_new_endpoint()
        except Exception as exc:  # Slack unreachable or refusing: wait longer each time
            log.warning(
                "opening a Socket Mode connection failed (%s); retrying in %.0f s",
                type(exc).__name__,
                self.backoff,
            )
            time.sleep(self.backoff)
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
