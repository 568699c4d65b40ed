"""Slack listeners: unpack the payload, call the responder. Nothing else lives here.

Events are acknowledged by Bolt before these run (they run on its worker threads), and
`/ask` and the buttons call `ack()` first. The answering itself goes to the responder's own
pool (`Responder.later`), so a listener returns at once and Bolt's workers stay free for the
next acknowledgement however many answers are being computed.

A payload that lacks who clicked or asked, or where, is acknowledged and dropped with one
warning line (never its body): Slack's own payloads always carry them.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext
from slack_sdk import WebClient

from bot import inbound, shortcut
from bot.feedback import Vote
from bot.inbound import Question, text_at
from bot.intent import mentioned
from bot.mrkdwn import plain_question
from bot.notices import is_conversation_between_people
from bot.render import FEEDBACK, FEEDBACK_DOWN, FEEDBACK_UP, SHARE
from bot.responder import Responder

log = logging.getLogger(__name__)

# Subtypes of `message` that carry a person's words: a plain message, one with files,
# and a thread reply also sent to the channel. Joins, bots' posts and deletions do not.
SPOKEN = (None, "file_share", "thread_broadcast")


# The Events API subscriptions these listeners serve, for each of Slack's two messaging
# experiences (manifest.yml: agent_view; manifest-assistant-view.yml: assistant_view).
EVENTS = {
    "app_mention",
    "message.im",
    "message.channels",
    "message.groups",
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
}
SUBSCRIPTIONS = {
    "agent_view": EVENTS | {"app_context_changed"},
    "assistant_view": EVENTS | {"assistant_thread_started", "assistant_thread_context_changed"},
}


def register(app: App, responder: Responder, question_limit: int) -> None:
    """Attach every listener to the app (`question_limit`: MAX_QUESTION_CHARS, for the
    message a shortcut points at)."""
    app.use(_assistant(responder))
    app.event("app_mention")(_on_mention(responder))
    app.event("message")(_on_message(responder))
    app.event("app_home_opened")(_on_home(responder))
    app.event("app_context_changed")(_on_context_changed)
    app.event("app_uninstalled")(_on_uninstalled(responder))
    app.event("tokens_revoked")(_on_tokens_revoked(responder))
    app.command("/ask")(_on_ask(responder))
    app.action(SHARE)(_on_share(responder))
    feedback = re.compile(f"^({FEEDBACK}|{FEEDBACK_UP}|{FEEDBACK_DOWN})$")
    app.action(feedback)(_on_feedback(responder))
    shortcut.register(app, responder, question_limit)


def _on_mention(responder: Responder) -> Any:
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """`@bot question` in a channel: answered in the message's thread; an edit updates
        that answer."""
        if inbound.from_bot(event) or "user" not in event:
            return
        question = inbound.from_message(event, "mention", context.bot_user_id)
        if question is None:
            return _incomplete("mention")
        conversations = responder.conversations
        work = conversations.revise if event.get("edited") else conversations.ask
        responder.later(work, client, question)

    return on_mention


def _on_message(responder: Responder) -> Any:
    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """A DM, a reply in a thread the bot answered, a top-level question in an
        auto-answer desk channel (`bot.desks`), or an edit of any of them."""
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

        kind: inbound.Kind = "direct" if direct else "follow_up"
        top_level = message.get("thread_ts") in (None, message.get("ts"))
        if not direct and top_level and responder.desks(message.get("channel")).auto_answer:
            kind = "auto"  # an auto-answer desk channel: questions need no mention
        question = inbound.from_message(message, kind, bot)
        if question is None:
            return _incomplete("message")
        conversations = responder.conversations
        responder.later(conversations.revise if edit else conversations.ask, client, question)

    return on_message


def _assistant(responder: Responder) -> Assistant:
    """The assistant split view (Bolt's `Assistant` middleware): it takes the events of
    assistant threads (and of threads in the app's DMs) before the listeners above."""
    assistant = Assistant()

    @assistant.thread_started
    def started(payload: dict[str, Any], client: WebClient) -> None:
        thread = payload.get("assistant_thread")
        user, channel = text_at(thread, "user_id"), text_at(thread, "channel_id")
        thread_ts = text_at(thread, "thread_ts")
        if not (user and channel and thread_ts):
            return _incomplete("assistant thread")
        responder.later(responder.visits.greet, client, user, channel, thread_ts)

    @assistant.user_message
    def message(payload: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if payload.get("subtype") not in SPOKEN or "user" not in payload:
            return
        question = inbound.from_message(payload, "assistant", context.bot_user_id)
        if question is None:
            return _incomplete("assistant message")
        responder.later(responder.conversations.ask, client, question)

    @assistant.thread_context_changed
    def context_changed() -> None:
        """Which channel the person looks at does not change what the archive holds."""

    return assistant


def _on_home(responder: Responder) -> Any:
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        """The Home tab was opened: publish it. The Messages tab was opened: in the agent
        experience this replaces `assistant_thread_started`, and gets suggested prompts
        (docs.slack.dev/ai/migrating-to-agent-messaging/)."""
        tab, user = event.get("tab"), text_at(event, "user")
        if tab not in ("home", "messages"):
            return
        channel = text_at(event, "channel")
        if user is None or (tab == "messages" and channel is None):
            return _incomplete("App Home visit")
        if tab == "home":
            responder.later(responder.visits.show_home, client, user)
        else:
            responder.later(responder.visits.welcome, client, user, channel)

    return on_home


def _on_context_changed() -> None:
    """`app_context_changed` (agent experience): which channel the person looks at does not
    change what the archive holds, as with `assistant_thread_context_changed`."""


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
        user, channel = text_at(command, "user_id"), text_at(command, "channel_id")
        if not (user and channel):
            ack()
            return _incomplete("/ask")
        question = Question(
            plain_question(text_at(command, "text") or ""),
            user,
            channel,
            None,
            None,
            kind="command",
            team=text_at(command, "user_team") or text_at(command, "team_id"),
        )
        shareable = not is_conversation_between_people(channel, text_at(command, "channel_name"))
        response_url = text_at(command, "response_url") or ""
        private = responder.private
        if private.decides_at_once(question):
            ack(private.ask_privately(client, question, response_url, shareable))
            return
        ack()  # before any users.info: an uncached outside asker must not miss the 3 s
        responder.later(private.ask_privately_later, client, question, response_url, shareable)

    return on_ask


def _on_share(responder: Responder) -> Any:
    def on_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        ack()
        user, channel = text_at(body, "user", "id"), _channel_of(body)
        if not (user and channel):
            return _incomplete("share click")
        question = Question(
            plain_question(text_at(_value(action), "q") or ""),
            user,
            channel,
            None,
            None,
            kind="command",
            team=text_at(body, "user", "team_id"),
        )
        response_url = text_at(body, "response_url") or ""
        name = text_at(body, "channel", "name") or ""
        responder.later(responder.private.share, client, question, response_url, name)

    return on_share


def _on_feedback(responder: Responder) -> Any:
    def on_feedback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """👍/👎 (Slack's feedback buttons or ours): stored with the question, the answer
        and who clicked."""
        ack()
        user = text_at(body, "user", "id")
        if user is None:
            return _incomplete("feedback click")
        value = _value(action)
        up = value.get("v") == "up" if "v" in value else action.get("action_id") == FEEDBACK_UP
        vote = Vote(
            answer_id=text_at(value, "id") or "",
            user_id=user,
            vote="up" if up else "down",
            question="",  # what the bot said is recorded, not what the click claims
            answer="",
            channel_id=_channel_of(body),
            message_ts=text_at(body, "message", "ts") or text_at(body, "container", "message_ts"),
        )
        thread = text_at(body, "message", "thread_ts")
        team = text_at(body, "user", "team_id")
        response_url = text_at(body, "response_url")
        trigger = text_at(body, "trigger_id")  # a 👎 opens the reason modal with it
        responder.quickly(responder.clicks.vote, client, vote, team, thread, response_url, trigger)

    return on_feedback


def _value(action: dict[str, Any]) -> dict[str, Any]:
    raw = action.get("value")
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _channel_of(body: dict[str, Any]) -> str | None:
    """Where a button was clicked."""
    return text_at(body, "channel", "id") or text_at(body, "container", "channel_id")


def _incomplete(what: str) -> None:
    """Drop a payload that does not say who or where, with one line (never its body)."""
    log.warning("ignored a %s that does not say who or where (not from Slack's clients)", what)
