"""Slack's payloads -> `Question`s: which message, who asked (from which team), where to reply.

Listeners call these to unpack; nothing here decides whether or how to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.intent import mentioned
from bot.mrkdwn import plain_question

Kind = Literal["mention", "direct", "follow_up", "assistant", "command"]


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


def from_message(event: dict[str, Any], kind: Kind, bot_user_id: str | None) -> Question:
    """A mention, DM, follow-up or assistant-thread message as a Question.

    A mention is answered in its message's thread; anything else in its own thread, or at
    the top level when it has none (a DM).
    """
    thread = event.get("thread_ts")
    if kind == "mention":
        thread = thread or event["ts"]
    return Question(
        text=plain_question(event.get("text", ""), bot_user_id),
        user=event["user"],
        channel=event["channel"],
        message_ts=event["ts"],
        thread_ts=thread,
        kind=kind,
        team=team_of(event),
        mentions=mentioned(event.get("text", ""), event.get("blocks")),
        files=bool(event.get("files")),
    )


def edited_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The new version of the message a `message_changed` event is about, as a message
    event of its own (None for changes without an author, such as unfurls by bots)."""
    inner = event.get("message") or {}
    if "user" not in inner or inner.get("bot_id"):
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
