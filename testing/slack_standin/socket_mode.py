"""A fake Socket Mode endpoint: says `hello`, delivers envelopes, reads acks by envelope_id.

The bot reaches it the way it reaches Slack: `apps.connections.open` on the Web API
stand-in returns this server's ws:// URL.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from testing.slack_standin.rules import APP_ID


@dataclass
class Delivery:
    """An envelope sent to the bot and, once it arrives, its ack."""

    envelope_id: str
    sent_at: float
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None

    @property
    def ack_seconds(self) -> float:
        assert self.acked_at is not None, "not acked"
        return self.acked_at - self.sent_at


class FakeSocketMode:
    """The WebSocket side of Socket Mode on 127.0.0.1."""

    def __init__(self) -> None:
        self.deliveries: dict[str, Delivery] = {}
        self.stray_acks: list[dict[str, Any]] = []
        self.connections = 0
        self.connected_at: list[float] = []  # when each connection got its hello
        self._connection: ServerConnection | None = None
        self._open: list[ServerConnection] = []  # in the order they connected
        self._stalled: list[ServerConnection] = []
        self._changed = threading.Condition()
        # After a close handshake, wait 1 s (not 10) for the bot's end of the TCP connection:
        # websocket-client leaves its socket to the garbage collector after a server's close.
        self._server: Server = serve(self._serve_connection, "127.0.0.1", 0, close_timeout=1)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release_stalled()
        self.drop()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def refresh(self) -> None:
        """Ask the bot to reconnect, as Slack does every few hours (then it closes the socket)."""
        with self._changed:
            connection = self._connection
        if connection is not None:
            message = {
                "type": "disconnect",
                "reason": "refresh_requested",
                "debug_info": {"host": "standin"},
            }
            connection.send(json.dumps(message))

    def drop(self, how: str = "close") -> float:
        """Close the bot's connection from Slack's side; returns when (perf_counter).

        Args:
            how: "close": a WebSocket close frame, as Slack sends when it closes a socket;
                "eof": the TCP connection ends (FIN) without a close frame, as when a proxy
                or a crashed server drops it; "reset": a TCP reset, nothing else.
        """
        with self._changed:
            connection = self._connection
        dropped_at = time.perf_counter()
        if connection is None:
            return dropped_at
        if how == "close":
            # close() waits for the bot's close frame: do not hold up the caller meanwhile.
            threading.Thread(target=connection.close, daemon=True).start()
        elif how == "eof":
            connection.socket.shutdown(socket.SHUT_RDWR)
        elif how == "reset":
            # SO_LINGER 0: closing sends a reset at once.
            connection.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            connection.socket.close()
        else:
            raise ValueError(f"unknown way to drop a connection: {how!r}")
        return dropped_at

    def stall(self) -> float:
        """Stop answering on the current connection without closing it, as a silent network
        path would: no pongs, no acks read. Returns when (perf_counter)."""
        with self._changed:
            connection = self._connection
        assert connection is not None, "no connection to stall"
        # websockets answers pings and reads frames under this lock: holding it freezes
        # the connection while the TCP socket stays open.
        connection.protocol_mutex.acquire()
        self._stalled.append(connection)
        return time.perf_counter()

    def _release_stalled(self) -> None:
        for connection in self._stalled:
            connection.protocol_mutex.release()
            connection.socket.close()
        self._stalled.clear()

    # -- the connection ------------------------------------------------------------------

    def _serve_connection(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "standin", "approximate_connection_time": 3600},
            "connection_info": {"app_id": APP_ID},
        }
        connection.send(json.dumps(hello))
        with self._changed:
            self._connection = connection
            self._open.append(connection)
            self.connections += 1
            self.connected_at.append(time.perf_counter())
            self._changed.notify_all()
        try:
            for raw in connection:
                self._on_message(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._open.remove(connection)
                if self._connection is connection:
                    self._connection = self._open[-1] if self._open else None
                self._changed.notify_all()

    def _on_message(self, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self._changed:
            delivery = self.deliveries.get(str(message.get("envelope_id")))
            if delivery is None or delivery.acked_at is not None:
                self.stray_acks.append(message)
            else:
                delivery.acked_at, delivery.ack_payload = now, message.get("payload")
            self._changed.notify_all()

    def wait_connected(self, timeout: float = 20.0, connections: int = 1) -> None:
        """Block until the bot holds a connection (and got its hello), the n-th if given."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._connection is None or self.connections < connections:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the bot did not connect over Socket Mode")
                self._changed.wait(left)

    def wait_open(self, count: int, timeout: float = 120.0) -> None:
        """Block until `count` connections are open at once (several bot processes, or the
        several connections Slack spreads one app's events over)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._open) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fewer than {count} Socket Mode connections open")
                self._changed.wait(left)

    # -- delivering ----------------------------------------------------------------------

    def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        retry_attempt: int = 0,
        retry_reason: str = "",
        via: int | None = None,
    ) -> Delivery:
        """Send one envelope: kind is events_api, slash_commands or interactive.

        Args:
            via: Which open connection carries it (0 = the oldest); the newest by default.
        """
        self.wait_connected()
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        delivery = Delivery(envelope_id, time.perf_counter())
        with self._changed:
            self.deliveries[envelope_id] = delivery
            connection = self._connection if via is None else self._open[via]
        assert connection is not None
        delivery.sent_at = time.perf_counter()
        connection.send(json.dumps(envelope))
        return delivery

    def wait_ack(self, delivery: Delivery, timeout: float = 5.0) -> Delivery:
        """Block until the envelope was acked (Slack redelivers after 3 s without one)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while delivery.acked_at is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {delivery.envelope_id} was never acked")
                self._changed.wait(left)
        return delivery
