"""The message shortcut ("Ask the archive" in a message's ⋮ menu) and the 👎 reason modal's
submission: Slack's payloads unpacked, the responder called.

A message shortcut (`type: message_action`) carries the message pointed at, who pointed,
where, a `response_url` and a `trigger_id`
(https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload/ ;
https://api.slack.com/reference/interaction-payloads/shortcuts). Its `response_url` posts
ephemeral messages in the message's channel, as `/ask`'s does, so the answer goes there,
only the asker sees it, and it has a Share button; the shortcut needs only the `commands`
scope. It is acknowledged at once: the answer follows.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.inbound import Question, text_at
from bot.mrkdwn import plain_question
from bot.notices import is_conversation_between_people
from bot.reasons import REASON_VIEW, reason_of
from bot.responder import Responder

log = logging.getLogger(__name__)

ASK_ABOUT = "ask_about_message"  # the callback_id in manifest.yml's features.shortcuts


def register(app: App, responder: Responder, question_limit: int) -> None:
    """Attach the shortcut and reason-modal listeners."""
    app.shortcut(ASK_ABOUT)(_on_ask_about(responder, question_limit))
    app.view(REASON_VIEW)(_on_reason(responder))


def question_of(shortcut: dict[str, Any], limit: int) -> Question | None:
    """The message a shortcut points at as a question (its words, markup removed, cut at a
    word to `limit` characters); None without who or where."""
    user, channel = text_at(shortcut, "user", "id"), text_at(shortcut, "channel", "id")
    if not (user and channel):
        return None
    text = plain_question(text_at(shortcut, "message", "text") or "")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return Question(
        text,
        user,
        channel,
        None,
        None,
        kind="shortcut",
        team=text_at(shortcut, "user", "team_id") or text_at(shortcut, "team", "id"),
    )


def _on_ask_about(responder: Responder, question_limit: int) -> Any:
    def on_ask_about(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        """ "Ask the archive" on a message: a private answer about it, to share if wanted."""
        ack()
        question = question_of(shortcut, question_limit)
        if question is None:
            return _incomplete("message shortcut")
        name = text_at(shortcut, "channel", "name")
        shareable = not is_conversation_between_people(question.channel, name)
        response_url = text_at(shortcut, "response_url") or ""
        responder.later(responder.private.ask_about, client, question, response_url, shareable)

    return on_ask_about


def _on_reason(responder: Responder) -> Any:
    def on_reason(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The 👎 reason modal was sent: close it, store the reason, tell the editors."""
        ack()
        reason = reason_of(body)
        if reason is None:
            return _incomplete("reason submission")
        responder.quickly(responder.clicks.explain_vote, client, reason)

    return on_reason


def _incomplete(what: str) -> None:
    """Drop a payload that does not say who or where, with one line (never its body)."""
    log.warning("ignored a %s that does not say who or where (not from Slack's clients)", what)
