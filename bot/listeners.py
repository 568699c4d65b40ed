"""Slack listeners: unpack the payload, call the responder. Nothing else lives here.

Events are acknowledged by Bolt before these run (they run on its worker threads), and
`/ask` and the buttons call `ack()` first. The answering itself goes to the responder's own
pool (`Responder.later`), so a listener returns at once and Bolt's workers stay free for the
next acknowledgement however many answers are being computed.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.feedback import Vote
from bot.mrkdwn import plain_question
from bot.render import FEEDBACK_DOWN, FEEDBACK_UP, SHARE
from bot.responder import EMPTY_QUESTION, Question, Responder, not_allowed_text

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback! It helps whoever tunes the archive."


def register(app: App, responder: Responder) -> None:
    """Attach every listener to the app."""
    app.event("app_mention")(_on_mention(responder))
    app.event("message")(_on_message(responder))
    app.command("/ask")(_on_ask(responder))
    app.action(SHARE)(_on_share(responder))
    app.action(re.compile(f"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$"))(_on_feedback(responder))


def _from_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


def _on_mention(responder: Responder) -> Any:
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """`@bot question` in a channel: answered in the message's thread."""
        if _from_bot(event) or "user" not in event:
            return
        channel, user = event["channel"], event["user"]
        if not responder.allowed(channel):
            responder.whisper(
                client,
                channel,
                user,
                not_allowed_text(responder.settings.allowed_channels),
                event.get("thread_ts"),
            )
            return
        root = event.get("thread_ts") or event["ts"]
        earlier = responder.threads.recall(channel, root) if event.get("thread_ts") else None
        text = plain_question(event.get("text", ""), context.bot_user_id)
        question = Question(text, user, channel, event["ts"], root)
        responder.later(responder.reply, client, question, earlier.question if earlier else None)

    return on_mention


def _on_message(responder: Responder) -> Any:
    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """A DM is a question; a same-person reply in a thread the bot answered is a follow-up."""
        if event.get("subtype") not in (None, "thread_broadcast") or _from_bot(event):
            return
        if "user" not in event:
            return
        raw = event.get("text", "")
        bot = context.bot_user_id
        direct = event.get("channel_type") == "im"
        if not direct and bot and f"<@{bot}>" in raw:
            return  # the app_mention listener answers this one
        channel, user, thread = event["channel"], event["user"], event.get("thread_ts")
        earlier = responder.threads.recall(channel, thread) if thread else None
        if not direct:
            if not (responder.settings.answer_followups and earlier and earlier.user == user):
                return
            if not responder.allowed(channel):
                return
        question = Question(plain_question(raw, bot), user, channel, event["ts"], thread)
        responder.later(responder.reply, client, question, earlier.question if earlier else None)

    return on_message


def _on_ask(responder: Responder) -> Any:
    def on_ask(ack: Ack, command: dict[str, Any]) -> None:
        """`/ask question`: answered privately, with a button to share it in the channel."""
        question = plain_question(command.get("text", ""))
        channel, user = command["channel_id"], command["user_id"]
        if not question:
            ack(EMPTY_QUESTION)
            return
        if not responder.allowed(channel):
            ack(not_allowed_text(responder.settings.allowed_channels))
            return
        ack(responder.ask_privately(question, user, command["response_url"]))

    return on_ask


def _on_share(responder: Responder) -> Any:
    def on_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        ack()
        question = _value(action).get("q", "")
        channel, user = body["channel"]["id"], body["user"]["id"]
        response_url = str(body.get("response_url") or "")
        responder.later(responder.share, client, channel, user, question, response_url)

    return on_share


def _on_feedback(responder: Responder) -> Any:
    def on_feedback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """👍/👎: stored with the question, the answer and who clicked."""
        ack()
        value = _value(action)
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        user = body["user"]["id"]
        vote = Vote(
            answer_id=str(value.get("id", "")),
            user_id=user,
            vote="up" if action["action_id"] == FEEDBACK_UP else "down",
            question=str(value.get("q", "")),
            answer=str(value.get("a") or message.get("text", "")),
            channel_id=channel,
            message_ts=message.get("ts") or container.get("message_ts"),
        )
        responder.feedback.record(vote)
        log.info("feedback %s on answer %s from %s", vote.vote, vote.answer_id, user)
        if channel:
            responder.whisper(client, channel, user, THANKS, message.get("thread_ts"))

    return on_feedback


def _value(action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
