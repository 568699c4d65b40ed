"""Socket Mode: the bot dials out to Slack over a WebSocket (no public URL needed).

Uses slack_sdk's `websocket-client` based client rather than its built-in one. Measured
against the test stand-in, the built-in client took 9 s to reconnect after Slack closed the
socket or reset the connection, and after a bare TCP close (FIN, no close frame) it spun a
CPU core for ~40 s and reconnected only after ~60 s; this one notices all three at once.

Its connection monitor is replaced by `_ConnectionWatch`: that monitor treats a session
that is still starting (it starts up to 0.5 s after being created) as closed and opens
another, which at start-up left a second, orphaned connection now and then; and the client
has no pong timeout, so a silent network path would go unnoticed. `close` lets the
client's reader end the session first, which otherwise may wait up to 10 s.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.socket_mode.websocket_client import SocketModeClient

log = logging.getLogger(__name__)

PING_SECONDS = 10.0
CONCURRENCY = 8
GONE_GRACE = 2.0  # a session not yet connected after this long is reconnected
MAX_BACKOFF = 30.0


class ArchiveSocketModeHandler(SocketModeHandler):
    """Bolt's websocket-client handler with our connection watch and a prompt close."""

    def __init__(self, app: App, app_token: str, ping_interval: float):
        super().__init__(
            app, app_token=app_token, ping_interval=ping_interval, concurrency=CONCURRENCY
        )
        self.client.current_app_monitor_started = True  # keeps the client's monitor off
        watch = _ConnectionWatch(self.client, ping_interval)
        threading.Thread(target=watch.run, name="socket-mode-watch", daemon=True).start()

    def close(self) -> None:
        """Close the connection and stop every thread of the client."""
        client = self.client
        client.closed, client.auto_reconnect_enabled = True, False  # no reconnect from here
        session = client.current_session
        sock = session.sock if session is not None else None
        if session is not None and sock is not None:
            # End the TCP connection and let the reader tear the session down: closing the
            # socket under it instead can leave it waiting in select() for up to 10 s.
            sock.abort()
            deadline = time.monotonic() + 2.0
            while session.sock is not None and time.monotonic() < deadline:
                time.sleep(0.01)
        super().close()


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

    A socket gone for `GONE_GRACE` seconds (and not replaced by the client itself, which
    it does at once when it sees the connection close) is reopened, with backoff while
    Slack refuses; a ping still unanswered after `ping_interval` seconds (pings go every
    `ping_interval` s, so about two intervals after Slack fell silent) ends the connection,
    which the client then replaces.
    """

    def __init__(self, client: SocketModeClient, ping_interval: float):
        self.client = client
        self.ping_interval = ping_interval
        self.period = min(1.0, ping_interval / 4)
        self.gone_since: float | None = None
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
        session = self.client.current_session
        sock = session.sock if session is not None else None
        if self.client.closed or not self.client.auto_reconnect_enabled:
            return
        if session is None or sock is None:
            self._reopen_if_gone()
            return
        self.gone_since, self.backoff = None, self.period
        if session.last_pong_tm >= session.last_ping_tm:
            self.unanswered = None  # every ping answered (pongs take milliseconds)
        elif self.unanswered is None or self.unanswered[0] is not sock:
            self.unanswered = (sock, time.monotonic())
        elif time.monotonic() - self.unanswered[1] > self.ping_interval:
            log.warning("Slack stopped answering pings; reconnecting")
            sock.abort()  # the client's reader wakes, sees the connection end, reconnects
            self.unanswered = None

    def _reopen_if_gone(self) -> None:
        now = time.monotonic()
        self.gone_since = self.gone_since or now
        if now - self.gone_since < GONE_GRACE:
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
            return
        self.gone_since = None
