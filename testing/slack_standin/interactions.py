"""Payloads of what people do with the app beyond messages: slash commands, button clicks,
message shortcuts and modal submissions, and finding the buttons a reply carries.

`payloads` builds the Events API side and the signed HTTP bodies; these are the
interactivity payloads Slack sends to the same request URL.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from testing.slack_standin.payloads import new_ts
from testing.slack_standin.rules import APP_ID, BOT_USER_ID, TEAM_ID


def slash_command(
    text: str,
    user: str,
    channel: str,
    response_url: str,
    command: str = "/ask",
    user_team: str = TEAM_ID,
) -> dict[str, Any]:
    """A slash command invocation (`team_id` is the invoking person's team)."""
    return {
        "token": "legacy-verification-token",
        "team_id": user_team,
        "team_domain": "newsroom",
        "channel_id": channel,
        "channel_name": _channel_name(channel),
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
    user_team: str = TEAM_ID,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A click on one of the bot's buttons (as found in the message it posted, or from
    `feedback_click`); `trigger_id` one the Web API stand-in issued, to open a modal with."""
    message_ts = message_ts or new_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "reporter", "team_id": user_team},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": trigger_id or f"{uuid.uuid4().int % 10**12}.trigger",
        "team": {"id": TEAM_ID, "domain": "newsroom"},
        "channel": {"id": channel, "name": _channel_name(channel)},
        "response_url": response_url,
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": button.get("type", "button"),
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


def message_action(
    message: dict[str, Any],
    user: str,
    response_url: str,
    trigger_id: str,
    callback_id: str = "ask_about_message",
    user_team: str = TEAM_ID,
) -> dict[str, Any]:
    """A message shortcut (`type: message_action`) on `message` (a message event, as the
    channel saw it): the message's full structure, where, who, a response_url posting in
    that channel and a trigger_id."""
    channel = message["channel"]
    shown = {k: v for k, v in message.items() if k not in ("channel", "event_ts", "channel_type")}
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": str(time.time()),
        "team": {"id": TEAM_ID, "domain": "newsroom"},
        "user": {"id": user, "username": "reporter", "team_id": user_team, "name": "reporter"},
        "channel": {"id": channel, "name": _channel_name(channel)},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": {"type": "message", **shown},
    }


def view_submission(
    view: dict[str, Any], user: str, values: dict[str, Any], user_team: str = TEAM_ID
) -> dict[str, Any]:
    """Someone pressed a modal's submit button: the view as opened (`views.open`'s answer)
    with the state of its inputs, `values` as {block_id: {action_id: value}} (a string for
    a text input, an option's value for radio buttons, None for nothing entered)."""
    state: dict[str, Any] = {}
    for block_id, actions in values.items():
        state[block_id] = {}
        for action_id, value in actions.items():
            element = _element(view, block_id)
            kind = element.get("type", "plain_text_input")
            if kind == "radio_buttons":
                chosen = [o for o in element.get("options", []) if o.get("value") == value]
                option = chosen[0] if chosen else None
                state[block_id][action_id] = {"type": kind, "selected_option": option}
            else:
                state[block_id][action_id] = {"type": kind, "value": value}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "newsroom"},
        "user": {"id": user, "username": "reporter", "name": "reporter", "team_id": user_team},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"{uuid.uuid4().int % 10**12}.trigger",
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id:
            return dict(block.get("element") or {})
    raise AssertionError(f"the view has no input block {block_id!r}")


def _channel_name(channel: str) -> str:
    """The name Slack puts beside a channel id in payloads."""
    if channel.startswith("D"):
        return "directmessage"
    return "mpdm-reporter--editor--archive-1" if channel.startswith("G0MP") else "newsdesk"


def buttons_of(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons in a message's blocks, by action_id (feedback buttons included)."""
    found = {}
    for block in blocks:
        if block.get("type") in ("actions", "context_actions"):
            for element in block.get("elements", []):
                found[element["action_id"]] = element
    return found


def feedback_click(element: dict[str, Any], positive: bool) -> dict[str, Any]:
    """What a click on one of a `feedback_buttons` element's two buttons sends."""
    button = element["positive_button" if positive else "negative_button"]
    return {
        "action_id": element["action_id"],
        "type": "feedback_buttons",
        "text": button["text"],
        "value": button["value"],
    }
