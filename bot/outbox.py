"""Everything the bot sends to Slack, and what it does when Slack says no.

A message whose blocks Slack refuses is posted again in its simpler forms (classic buttons
instead of `feedback_buttons`, then plain text); a streamed answer is closed the same way.
When an answer cannot be posted at all, the asker is told privately, through the first path
that works: the interaction's `response_url`, an ephemeral message, then a direct message
from the app. A revoked token (`token_revoked`, `invalid_auth`, …) is reported once, to
`on_revoked`, instead of on every question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.render import Message
from bot.retries import create_retry_handlers

log = logging.getLogger(__name__)

PROGRESS_REACTION = "hourglass_flowing_sand"
REVOKED = frozenset({"token_revoked", "invalid_auth", "account_inactive", "not_authed"})
REFUSED_BLOCKS = frozenset({"invalid_blocks", "msg_blocks_too_long"})


@dataclass(frozen=True)
class Posted:
    """The outcome of a post: its ts, or Slack's error code."""

    ts: str | None = None
    error: str | None = None


class Outbox:
    """Sends messages, falling back and telling privately as the module says.

    Args:
        on_revoked: Called once with Slack's error code when the bot token stops working.
    """

    def __init__(self, on_revoked: Callable[[str], None]):
        self.on_revoked = on_revoked
        self.native_feedback = True  # until the workspace refuses feedback_buttons

    def post(
        self, client: WebClient, channel: str, thread_ts: str | None, message: Message
    ) -> Posted:
        """Post a message (in a thread when `thread_ts`), in its first form Slack takes."""
        return self._send(
            message,
            lambda form: client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **form.as_kwargs()
            ),
            "chat.postMessage",
        )

    def update(self, client: WebClient, channel: str, ts: str, message: Message) -> Posted:
        """Replace a message the bot posted, in its first form Slack takes."""
        return self._send(
            message,
            lambda form: client.chat_update(channel=channel, ts=ts, **form.as_kwargs()),
            "chat.update",
        )

    def stop_stream(self, stream: Any, message: Message) -> Posted:
        """Close a chat stream (slack_sdk's `ChatStream`) with the message's blocks below
        the streamed text, in the first form Slack takes; a form without blocks is not
        tried (post it on its own)."""
        forms = [form for form in message.forms() if form.blocks]
        if not forms:
            return Posted(error="no_blocks")
        first = forms[0]
        blocked = Message(first.text, first.blocks, forms[1:], first.native_feedback)
        # A dropped connection is an error too: the stream may still be open.
        return self._send(blocked, lambda form: stream.stop(blocks=form.blocks), "chat.stopStream")

    def _send(self, message: Message, call: Callable[[Message], Any], method: str) -> Posted:
        error = "unknown"
        for form in message.forms():
            try:
                response = call(form)
            except SlackApiError as exc:
                error = self._error(exc, method)
                if error in REFUSED_BLOCKS:
                    continue
                return Posted(error=error)
            except OSError as exc:
                return Posted(error=_lost(exc, method))
            if message.native_feedback and not form.native_feedback and form.blocks:
                log.info("this workspace refuses feedback_buttons; using classic buttons")
                self.native_feedback = False
            return Posted(ts=str(response.get("ts") or "") or None)
        return Posted(error=error)

    def post_privately(
        self, client: WebClient, channel: str, user: str, thread_ts: str | None, message: Message
    ) -> Posted:
        """An ephemeral message only `user` sees, in its first form Slack takes (its ts is
        the ephemeral one: it cannot be updated)."""
        return self._send(
            message,
            lambda form: {
                "ts": client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, **form.as_kwargs()
                ).get("message_ts")
            },
            "chat.postEphemeral",
        )

    def open_view(self, client: WebClient, trigger_id: str, view: dict[str, Any]) -> bool:
        """Open a modal with an interaction's trigger_id (valid 3 s, once); False when
        Slack refused it."""
        return self._attempt(
            "views.open", lambda: client.views_open(trigger_id=trigger_id, view=view)
        )

    def respond(self, response_url: str, **message: Any) -> bool:
        """POST to an interaction's `response_url`, retried like Web API calls; False when
        Slack did not take it (it expires after 5 uses or 30 minutes)."""
        client = WebhookClient(response_url, timeout=15, retry_handlers=create_retry_handlers())
        try:
            status = client.send(**message).status_code
        except OSError as exc:  # the URL is a credential for 30 minutes: never log it
            log.warning("posting to a response_url failed: %s", type(exc).__name__)
            return False
        if status != 200:
            log.info("a response_url refused a post: HTTP %d", status)
        return status == 200

    def whisper(
        self, client: WebClient, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> bool:
        """An ephemeral notice only `user` sees; False when Slack refused it."""
        return self._attempt(
            "chat.postEphemeral",
            lambda: client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts
            ),
        )

    def tell(
        self,
        client: WebClient,
        user: str,
        text: str,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        response_url: str | None = None,
        dm: bool = True,
    ) -> bool:
        """Tell one person something privately, by the first path that works: the
        `response_url`, an ephemeral message in `channel`, then (with `dm`) a direct
        message from the app."""
        private = {"text": text, "response_type": "ephemeral", "replace_original": False}
        if response_url and self.respond(response_url, **private):
            return True
        if channel and self.whisper(client, channel, user, text, thread_ts):
            return True
        if dm and self.post(client, user, None, Message(text)).ts:
            return True
        log.warning("could not tell user %s privately by any path", user)
        return False

    def progress(self, client: WebClient, channel: str, ts: str, on: bool) -> None:
        """Show (or take away) the hourglass reaction on the asking message."""
        add = client.reactions_add if on else client.reactions_remove
        # progress is a nicety: `_attempt` never fails the answer for it
        self._attempt(
            "reactions.add" if on else "reactions.remove",
            lambda: add(channel=channel, timestamp=ts, name=PROGRESS_REACTION),
        )

    def status(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        status: str,
        loading_messages: list[str] | None = None,
    ) -> bool:
        """A thread's status line ("is searching…", with `loading_messages` Slack rotates;
        "" clears it); False when the workspace or thread does not support it."""
        return self._attempt(
            "assistant.threads.setStatus",
            lambda: client.assistant_threads_setStatus(
                channel_id=channel,
                thread_ts=thread_ts,
                status=status,
                loading_messages=loading_messages,
            ),
        )

    def publish(self, client: WebClient, user: str, view: dict[str, Any]) -> None:
        """Publish a person's App Home tab."""
        self._attempt("views.publish", lambda: client.views_publish(user_id=user, view=view))

    def suggest(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        prompts: list[dict[str, str]],
    ) -> None:
        """Offer suggested prompts: in an assistant thread, or (`thread_ts` None, the agent
        experience, where a `thread_ts` makes the call silently do nothing:
        docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts) in the DM."""
        self._attempt(
            "assistant.threads.setSuggestedPrompts",
            lambda: client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=thread_ts, prompts=prompts
            ),
        )

    def _attempt(self, method: str, call: Callable[[], object]) -> bool:
        """Make one Web API call; False (logged) when Slack refused it or could not be
        reached even after the client's retries."""
        try:
            call()
        except SlackApiError as exc:
            self._error(exc, method)
            return False
        except OSError as exc:
            _lost(exc, method)
            return False
        return True

    def _error(self, exc: SlackApiError, method: str) -> str:
        error = str(exc.response.get("error") or "unknown")
        if error in REVOKED:
            self.on_revoked(error)
        else:
            log.info("%s failed: %s", method, error)
        return error


def _lost(exc: OSError, method: str) -> str:
    """Log a call whose connection failed after the client's retries; the error's name."""
    log.warning("%s failed: %s", method, type(exc).__name__)
    return type(exc).__name__
