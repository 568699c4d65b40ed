"""Slack's payloads -> `Question`s: which message, who asked (from which team), where to reply.

Listeners call these to unpack; nothing here decides whether or how to answer. A payload
is signed by Slack but its shape is not promised: a field may be missing or of another type,
so unpacking never indexes blindly, and a payload without who or where is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.intent import mentioned
from bot.mrkdwn import plain_question

Kind = Literal["mention", "direct", "follow_up", "assistant", "command", "auto", "shortcut"]


@dataclass(frozen=True)
class Question:
    """A question as it arrived from Slack.

    Attributes:
        text: The plain question (markup already removed).
        user: Who asked.
        channel: Where.
        message_ts: The asking message (gets the progress reaction); None for `/ask`.
        thread_ts: Where to reply: a thread's root ts, or None for the top level (DMs).
        kind: How it was asked.
        team: The asker's team or org when the payload says (Slack Connect).
        mentions: Everyone the message mentions (users, groups, broadcasts), the bot too.
        files: Whether files came with it.
    """

    text: str
    user: str
    channel: str
    message_ts: str | None
    thread_ts: str | None
    kind: Kind = "direct"
    team: str | None = None
    mentions: set[str] = field(default_factory=set)
    files: bool = False


def from_message(event: dict[str, Any], kind: Kind, bot_user_id: str | None) -> Question | None:
    """A mention, DM, follow-up or assistant-thread message as a Question (None when the
    event does not say who wrote it, where, or which message it is).

    A mention and a top-level DM are answered in the thread of their message (in the agent
    experience the app replies in a thread of the person's DM, and a thread is where a
    status and a stream can show: docs.slack.dev/ai/migrating-to-agent-messaging/);
    anything else in its own thread.
    """
    user, channel, ts = text_at(event, "user"), text_at(event, "channel"), text_at(event, "ts")
    if not (user and channel and ts):
        return None
    thread = text_at(event, "thread_ts")
    if kind in ("mention", "direct", "auto"):  # answered in the asking message's thread
        thread = thread or ts
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    blocks = event.get("blocks")
    return Question(
        text=plain_question(text, bot_user_id),
        user=user,
        channel=channel,
        message_ts=ts,
        thread_ts=thread,
        kind=kind,
        team=team_of(event),
        mentions=mentioned(text, blocks if isinstance(blocks, list) else None),
        files=bool(event.get("files")),
    )


def edited_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The new version of the message a `message_changed` event is about, as a message
    event of its own (None for changes without an author, such as unfurls by bots, and for
    changes that leave its words as they were: Slack also sends `message_changed` when it
    unfurls a link in a person's message or counts replies to it, and those ask nothing new)."""
    inner = event.get("message") or {}
    if "user" not in inner or inner.get("bot_id"):
        return None
    before = event.get("previous_message")
    if isinstance(before, dict) and before.get("text") == inner.get("text"):
        return None
    return {**inner, "channel": event["channel"], "channel_type": event.get("channel_type")}


def team_of(event: dict[str, Any]) -> str | None:
    """The team (T…) or org (E…) of a message's author: `user_team` where Slack Connect
    sets it, else `team`."""
    team = event.get("user_team") or event.get("team")
    return str(team) if team else None


def from_bot(event: dict[str, Any]) -> bool:
    """Posted by a bot or an integration (ours included)."""
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


def text_at(payload: object, *path: str) -> str | None:
    """The non-empty string found by following `path` through nested objects, or None
    where a step is missing or holds something else."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload if isinstance(payload, str) and payload else None
