"""Payloads shaped like Slack's: Events API callbacks, slash commands, button clicks, signatures."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.slack_standin.web_api import APP_ID, BOT_USER_ID, TEAM_ID

_clock = itertools.count(1)


def new_ts() -> str:
    """A fresh, increasing message timestamp."""
    return f"1710000000.{next(_clock):06d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """The Events API envelope around an event."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def app_mention(
    text: str, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    """`@archive text` in a channel (text gets the mention markup Slack sends)."""
    ts = ts or new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    user: str,
    channel: str,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `message` event (message.im when channel_type is "im")."""
    ts = ts or new_ts()
    event = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
        "team": TEAM_ID,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def slash_command(
    text: str, user: str, channel: str, response_url: str, command: str = "/ask"
) -> dict[str, Any]:
    """A slash command invocation."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "newsroom",
        "channel_id": channel,
        "channel_name": "newsdesk",
        "user_id": user,
        "user_name": "reporter",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{uuid.uuid4().int % 10**12}.trigger",
    }


def block_actions(
    button: dict[str, Any],
    user: str,
    channel: str,
    response_url: str,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    ephemeral: bool = False,
    message_text: str = "",
) -> dict[str, Any]:
    """A click on one of the bot's buttons (as found in the message it posted)."""
    message_ts = message_ts or new_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "reporter", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.trigger",
        "team": {"id": TEAM_ID, "domain": "newsroom"},
        "channel": {"id": channel, "name": "newsdesk"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }
    if not ephemeral:
        payload["message"] = {
            "type": "message",
            "ts": message_ts,
            "text": message_text,
            "bot_id": "B0BOT",
            "user": BOT_USER_ID,
        }
        if thread_ts:
            payload["message"]["thread_ts"] = thread_ts
    return payload


def buttons_of(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons in a message's blocks, by action_id."""
    found = {}
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element["action_id"]] = element
    return found


# -- HTTP deliveries ---------------------------------------------------------------------


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers (v0, HMAC-SHA256 of `v0:ts:body`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def sign_bytes(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The same signature over raw bytes (bodies that are not UTF-8 text)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def json_body(payload: dict[str, Any]) -> tuple[str, str]:
    """An Events API body and its content type."""
    return json.dumps(payload), "application/json"


def form_body(fields: dict[str, Any]) -> tuple[str, str]:
    """A slash command body and its content type."""
    return urlencode(fields), "application/x-www-form-urlencoded"


def interactive_body(payload: dict[str, Any]) -> tuple[str, str]:
    """An interactivity body (`payload=<json>`) and its content type."""
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
