"""Socket Mode: the bot dials out to Slack over a WebSocket (no public URL needed).

Uses slack_sdk's built-in client (no extra dependency); it reconnects by itself when the
connection drops, and the Web API client it shares with the app carries our base URL.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

PING_SECONDS = 10.0
CONCURRENCY = 8


def create_socket_handler(app: App, app_token: str) -> SocketModeHandler:
    """A Socket Mode handler for the app; `connect()` it, or `start()` to block.

    Args:
        app: The Bolt app (its client opens the connection: `apps.connections.open`).
        app_token: The app-level token (xapp-…) with `connections:write`.
    """
    return SocketModeHandler(
        app, app_token=app_token, ping_interval=PING_SECONDS, concurrency=CONCURRENCY
    )
