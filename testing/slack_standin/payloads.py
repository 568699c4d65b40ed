"""Payloads shaped like Slack's: Events API callbacks, slash commands, button clicks, signatures.

Messages carry what real Slack sends besides `text`: `rich_text` blocks, `team`, and for
people from another organisation in a Slack Connect channel `user_team`/`source_team`.
Edits, deletions, files, broadcasts, joins, other bots' posts, App Home visits, assistant
threads and the app's lifecycle events are all here, in Slack's shapes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from testing.slack_standin.rules import APP_ID, BOT_USER_ID, TEAM_ID

BOT_NAME = "archive"
_MARKUP = re.compile(r"<([@#!])([^<>|]+)(?:\|([^<>]*))?>|<(https?://[^<>|]+)(?:\|([^<>]*))?>")

_clock = itertools.count(1)


def new_ts() -> str:
    """A fresh, increasing message timestamp."""
    return f"1710000000.{next(_clock):06d}"


def event_callback(
    event: dict[str, Any], event_id: str | None = None, shared: bool = False
) -> dict[str, Any]:
    """The Events API envelope around an event (`shared`: in a Slack Connect channel)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "is_ext_shared_channel": shared,
    }


def rich_text(text: str) -> list[dict[str, Any]]:
    """The `rich_text` block Slack's clients send along with a message's `text`."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MARKUP.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": _unescape(text[position : match.start()])})
        sigil, target, _, url, label = match.groups()
        if url:
            elements.append({"type": "link", "url": url, **({"text": label} if label else {})})
        elif sigil == "@":
            elements.append({"type": "user", "user_id": target})
        elif sigil == "#":
            elements.append({"type": "channel", "channel_id": target})
        elif target.startswith("subteam^"):
            elements.append({"type": "usergroup", "usergroup_id": target.split("^", 1)[1]})
        else:
            elements.append({"type": "broadcast", "range": target})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": _unescape(text[position:])})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _author(user: str, user_team: str | None) -> dict[str, Any]:
    """Who wrote a message; someone from another organisation in a shared channel brings
    their own team as `user_team` and `source_team`."""
    if user_team and user_team != TEAM_ID:
        return {"user": user, "team": user_team, "user_team": user_team, "source_team": user_team}
    return {"user": user, "team": TEAM_ID}


def app_mention(
    text: str,
    user: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    user_team: str | None = None,
    legacy: bool = False,
) -> dict[str, Any]:
    """`@archive text` in a channel (text gets the mention markup Slack sends; `legacy`:
    the old `<@U…|name>` form some clients and integrations still send)."""
    ts = ts or new_ts()
    mention = f"<@{BOT_USER_ID}|{BOT_NAME}>" if legacy else f"<@{BOT_USER_ID}>"
    full = f"{mention} {text}"
    event = {
        "type": "app_mention",
        **_author(user, user_team),
        "client_msg_id": str(uuid.uuid4()),
        "text": full,
        "blocks": rich_text(full),
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def channel_mention(
    text: str, user: str, channel: str, thread_ts: str | None = None, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What Slack delivers for one channel mention when the app subscribes to both
    `app_mention` and `message.channels`: the two events, about the very same message."""
    mention = app_mention(text, user, channel, thread_ts=thread_ts, **kwargs)
    same = {k: v for k, v in mention.items() if k not in ("type", "event_ts")}
    echo = {"type": "message", **same, "event_ts": mention["ts"], "channel_type": "channel"}
    return mention, echo


def edited(event: dict[str, Any], new_text: str, by: str | None = None) -> dict[str, Any]:
    """The event Slack sends again when a message that mentions the app is edited: same ts,
    new text, an `edited` field (and, in its envelope, a new event_id)."""
    text = _edited_text(event, new_text)
    when = new_ts()
    return {
        **event,
        "text": text,
        "blocks": rich_text(text),
        "edited": {"user": by or event["user"], "ts": when},
        "event_ts": when,
    }


def message_changed(original: dict[str, Any], new_text: str) -> dict[str, Any]:
    """`message_changed`: a message (e.g. a DM to the app) was edited. Its inner message
    holds the whole new text, so an edited mention keeps its mention, as in `edited`."""
    when = new_ts()
    text = _edited_text(original, new_text)
    inner = {k: v for k, v in original.items() if k not in ("channel", "event_ts", "channel_type")}
    inner = {**inner, "type": "message", "text": text, "blocks": rich_text(text)}
    inner["edited"] = {"user": original["user"], "ts": when}
    previous = {k: v for k, v in inner.items() if k != "edited"} | {"text": original["text"]}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": inner,
        "previous_message": previous,
        "channel": original["channel"],
        "channel_type": original.get("channel_type", "channel"),
        "ts": when,
        "event_ts": when,
    }


def _edited_text(original: dict[str, Any], new_text: str) -> str:
    """The whole text of an edited message: an edited mention keeps its leading mention."""
    mention = original["text"].split(" ", 1)[0] if original["type"] == "app_mention" else ""
    return f"{mention} {new_text}".strip()


def message_deleted(original: dict[str, Any]) -> dict[str, Any]:
    """`message_deleted`: a message was deleted."""
    when = new_ts()
    previous = {k: v for k, v in original.items() if k not in ("channel", "event_ts")}
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": original["ts"],
        "previous_message": previous,
        "channel": original["channel"],
        "channel_type": original.get("channel_type", "channel"),
        "ts": when,
        "event_ts": when,
    }


def message(
    text: str,
    user: str,
    channel: str,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    user_team: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `message` event (message.im when channel_type is "im")."""
    ts = ts or new_ts()
    event = {
        "type": "message",
        **_author(user, user_team),
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "blocks": rich_text(text),
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def file_share(text: str, user: str, channel: str, channel_type: str = "im", **kw: Any) -> dict:
    """A message that carries a file (subtype `file_share`)."""
    attached = {
        "id": f"F{uuid.uuid4().hex[:9].upper()}",
        "name": "minutes.pdf",
        "title": "minutes.pdf",
        "mimetype": "application/pdf",
        "filetype": "pdf",
        "size": 48213,
        "mode": "hosted",
        "url_private": "https://files.slack.com/files-pri/T0NEWS-F0/minutes.pdf",
    }
    extra: dict[str, Any] = {
        "subtype": "file_share",
        "files": [attached],
        "upload": False,
        "display_as_bot": False,
    }
    return message(text, user, channel, channel_type, **extra, **kw)


def thread_broadcast(text: str, user: str, channel: str, thread_ts: str) -> dict[str, Any]:
    """A thread reply also sent to the channel ("Also send to #channel")."""
    root = {"type": "message", "user": user, "ts": thread_ts, "thread_ts": thread_ts}
    return message(text, user, channel, thread_ts=thread_ts, subtype="thread_broadcast", root=root)


def bot_message(text: str, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
    """A post by another integration (subtype `bot_message`, no user)."""
    ts = new_ts()
    event = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0FEED",
        "username": "newsfeed",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    return event | ({"thread_ts": thread_ts} if thread_ts else {})


def channel_join(user: str, channel: str) -> dict[str, Any]:
    """Someone joined a channel (subtype `channel_join`)."""
    return message(f"<@{user}> has joined the channel", user, channel, subtype="channel_join")


def app_home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    """Someone opened the app's Home (or Messages) tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": new_ts(),
    }


def app_context_changed(user: str, viewing: str = "C0NEWSDESK") -> dict[str, Any]:
    """In the agent experience, the person looks at another channel while the app is open
    (docs.slack.dev/reference/events/app_context_changed)."""
    entity = {"type": "slack#/types/channel_id", "value": viewing, "team_id": TEAM_ID}
    return {
        "type": "app_context_changed",
        "user": user,
        "channel": "D" + user[1:],
        "context": {"entities": [entity]},
        "event_ts": new_ts(),
    }


def assistant_thread_started(user: str, channel: str, from_channel: str = "C0NEWSDESK") -> dict:
    """Someone opened the app's assistant split view: a new assistant thread."""
    thread_ts = new_ts()
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": from_channel, "team_id": TEAM_ID, "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": new_ts(),
    }


def app_uninstalled() -> dict[str, Any]:
    """The app was removed from the workspace."""
    return {"type": "app_uninstalled", "event_ts": new_ts()}


def tokens_revoked(bot: list[str] | None = None, oauth: list[str] | None = None) -> dict:
    """Tokens of the app were revoked (`bot`: bot user ids whose token went)."""
    return {
        "type": "tokens_revoked",
        "tokens": {"oauth": oauth or [], "bot": [BOT_USER_ID] if bot is None else bot},
        "event_ts": new_ts(),
    }


# -- HTTP deliveries ---------------------------------------------------------------------


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers (v0, HMAC-SHA256 of `v0:ts:body`)."""
    return sign_bytes(body.encode(), secret, timestamp)


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
