"""Slack listeners: unpack the payload, call the responder. Nothing else lives here.

Events are acknowledged by Bolt before these run (they run on its worker threads), and
`/ask` and the buttons call `ack()` first. The answering itself goes to the responder's own
pool (`Responder.later`), so a listener returns at once and Bolt's workers stay free for the
next acknowledgement however many answers are being computed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext
from slack_sdk import WebClient

from bot import inbound
from bot.feedback import Vote
from bot.inbound import Question
from bot.intent import mentioned
from bot.mrkdwn import plain_question
from bot.notices import is_conversation_between_people
from bot.render import FEEDBACK, FEEDBACK_DOWN, FEEDBACK_UP, SHARE
from bot.responder import Responder

# Subtypes of `message` that carry a person's words: a plain message, one with files,
# and a thread reply also sent to the channel. Joins, bots' posts and deletions do not.
SPOKEN = (None, "file_share", "thread_broadcast")


def register(app: App, responder: Responder) -> None:
    """Attach every listener to the app."""
    app.use(_assistant(responder))
    app.event("app_mention")(_on_mention(responder))
    app.event("message")(_on_message(responder))
    app.event("app_home_opened")(_on_home(responder))
    app.event("app_uninstalled")(_on_uninstalled(responder))
    app.event("tokens_revoked")(_on_tokens_revoked(responder))
    app.command("/ask")(_on_ask(responder))
    app.action(SHARE)(_on_share(responder))
    feedback = re.compile(f"^({FEEDBACK}|{FEEDBACK_UP}|{FEEDBACK_DOWN})$")
    app.action(feedback)(_on_feedback(responder))


def _on_mention(responder: Responder) -> Any:
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """`@bot question` in a channel: answered in the message's thread; an edit updates
        that answer."""
        if inbound.from_bot(event) or "user" not in event:
            return
        question = inbound.from_message(event, "mention", context.bot_user_id)
        work = responder.revise if event.get("edited") else responder.ask
        responder.later(work, client, question)

    return on_mention


def _on_message(responder: Responder) -> Any:
    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """A DM, a reply in a thread the bot answered, or an edit of either."""
        edit = event.get("subtype") == "message_changed"
        message = inbound.edited_message(event) if edit else event
        if message is None or message.get("subtype") not in SPOKEN or inbound.from_bot(message):
            return
        if "user" not in message:
            return
        direct = message.get("channel_type") == "im"
        bot = context.bot_user_id
        if not direct and bot in mentioned(message.get("text", ""), message.get("blocks")):
            return  # a mention, in any form: the app_mention listener answers it

        question = inbound.from_message(message, "direct" if direct else "follow_up", bot)
        responder.later(responder.revise if edit else responder.ask, client, question)

    return on_message


def _assistant(responder: Responder) -> Assistant:
    """The assistant split view (Bolt's `Assistant` middleware): it takes the events of
    assistant threads (and of threads in the app's DMs) before the listeners above."""
    assistant = Assistant()

    @assistant.thread_started
    def started(payload: dict[str, Any], client: WebClient) -> None:
        thread = payload["assistant_thread"]
        responder.later(responder.greet, client, thread["channel_id"], thread["thread_ts"])

    @assistant.user_message
    def message(payload: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if payload.get("subtype") not in SPOKEN or "user" not in payload:
            return
        question = inbound.from_message(payload, "assistant", context.bot_user_id)
        responder.later(responder.ask, client, question)

    @assistant.thread_context_changed
    def context_changed() -> None:
        """Which channel the person looks at does not change what the archive holds."""

    return assistant


def _on_home(responder: Responder) -> Any:
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        """The App Home tab was opened: publish it."""
        if event.get("tab") == "home":
            responder.later(responder.show_home, client, event["user"])

    return on_home


def _on_uninstalled(responder: Responder) -> Any:
    def on_uninstalled() -> None:
        """The app was removed from the workspace: its token is gone."""
        responder.revoke("app_uninstalled")

    return on_uninstalled


def _on_tokens_revoked(responder: Responder) -> Any:
    def on_tokens_revoked(event: dict[str, Any]) -> None:
        """Tokens were revoked: only the bot token matters here."""
        if (event.get("tokens") or {}).get("bot"):
            responder.revoke("tokens_revoked")

    return on_tokens_revoked


def _on_ask(responder: Responder) -> Any:
    def on_ask(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        """`/ask question`: answered privately, with a button to share it in the channel."""
        channel, name = command["channel_id"], command.get("channel_name")
        question = Question(
            plain_question(command.get("text", "")),
            command["user_id"],
            channel,
            None,
            None,
            kind="command",
            team=command.get("user_team") or command.get("team_id"),
        )
        shareable = not is_conversation_between_people(channel, name)
        ack(responder.ask_privately(client, question, command["response_url"], shareable))

    return on_ask


def _on_share(responder: Responder) -> Any:
    def on_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        ack()
        channel = body["channel"]
        question = Question(
            str(_value(action).get("q", "")),
            body["user"]["id"],
            channel["id"],
            None,
            None,
            kind="command",
            team=body["user"].get("team_id"),
        )
        response_url = str(body.get("response_url") or "")
        name = str(channel.get("name") or "")
        responder.later(responder.share, client, question, response_url, name)

    return on_share


def _on_feedback(responder: Responder) -> Any:
    def on_feedback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """👍/👎 (Slack's feedback buttons or ours): stored with the question, the answer
        and who clicked."""
        ack()
        value = _value(action)
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        up = value.get("v") == "up" if "v" in value else action["action_id"] == FEEDBACK_UP
        vote = Vote(
            answer_id=str(value.get("id", "")),
            user_id=body["user"]["id"],
            vote="up" if up else "down",
            question=str(value.get("q", "")),
            answer=str(value.get("a") or message.get("text", "")),
            channel_id=channel,
            message_ts=message.get("ts") or container.get("message_ts"),
        )
        thread, response_url = message.get("thread_ts"), body.get("response_url")
        responder.later(responder.vote, client, vote, thread, response_url)

    return on_feedback


def _value(action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
