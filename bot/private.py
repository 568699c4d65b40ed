"""Private answers: `/ask`, the message shortcut, and the Share button that makes one public.

`/ask` and the shortcut answer through the interaction's `response_url`, so only the asker
sees the answer, with a button to share it where sharing works. Each passes the gate
(`bot.gate`) first; `/ask` is acknowledged with the gate's outcome when it can be decided
without a call to Slack, within Slack's 3 seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot import notices
from bot.answering import Answering
from bot.basics import Basics, knock_of
from bot.clicks import tell_refused
from bot.gate import Knock, Problem
from bot.inbound import Question
from bot.intent import asks_for_help
from bot.mrkdwn import clip
from bot.presentation import Presentation
from bot.state import ThreadMemory, Turn

log = logging.getLogger(__name__)

Later = Callable[..., None]


class PrivateAnswers:
    """Answers only the asker sees, and sharing them.

    Args:
        basics: The gate, the outbox, who the bot is.
        answering: Answers and renders.
        threads: A shared answer starts a thread follow-ups are answered in.
        later: Runs work on the answering pool (`bot.pools.Pools.later`).
    """

    def __init__(self, basics: Basics, answering: Answering, threads: ThreadMemory, later: Later):
        self.basics, self.answering, self.threads, self.later = basics, answering, threads, later
        self.outbox = basics.outbox

    def ask_privately(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> str:
        """`/ask`: the text to acknowledge it with; the answer follows to `response_url`."""
        problem = None
        if not question.text:
            problem = Problem("no question", notices.EMPTY_QUESTION)
        elif not response_url:
            problem = Problem("no response_url", notices.INCOMPLETE, forged=True)
        refusal = self.basics.gate.check(client, knock_of(question), problem)
        if refusal is not None:
            return refusal.notice
        if asks_for_help(question.text):
            return notices.usage(self.basics.bot)
        self.later(self._answer, question.text, response_url, shareable, question.channel)
        return notices.searching(question.text)

    def decides_at_once(self, question: Question) -> bool:
        """Whether the gate can decide on `question` without a call to Slack, so that `/ask`
        can be acknowledged with the outcome within Slack's 3 seconds."""
        return self.basics.revoked or self.basics.policy.knows(question.user, question.team)

    def ask_privately_later(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> None:
        """`/ask` already acknowledged: what the ack would have said goes to `response_url`
        (the gate may need `users.info`, which can take longer than Slack waits for an ack)."""
        text = self.ask_privately(client, question, response_url, shareable)
        if text and response_url:
            self.outbox.respond(
                response_url, response_type="ephemeral", replace_original=False, text=text
            )

    def ask_about(
        self, client: WebClient, question: Question, response_url: str, shareable: bool
    ) -> None:
        """The message shortcut: answer about the message pointed at, privately, through
        the shortcut's response_url (as `/ask` does)."""
        problem = None
        if not question.text:
            problem = Problem("shortcut on a message without text", notices.NOTHING_TO_ASK)
        elif not response_url:
            problem = Problem("shortcut without a response_url", notices.INCOMPLETE, forged=True)
        refusal = self.basics.gate.check(client, knock_of(question), problem)
        if refusal is not None:
            where = (question.channel, None, response_url)
            tell_refused(self.basics, client, question.user, where, refusal)
            return
        note = f"About the message: “{clip(question.text, 200)}”"
        if not self._answer(question.text, response_url, shareable, question.channel, note):
            self.outbox.tell(client, question.user, notices.SHORTCUT_FAILED)

    def share(
        self, client: WebClient, question: Question, response_url: str, channel_name: str
    ) -> None:
        """The share button: post the answer in the channel, with who asked what."""
        problem = None
        if not question.text:
            problem = Problem("share without a question", notices.STALE_BUTTON, forged=True)
        elif not response_url:
            problem = Problem("share without a response_url", notices.INCOMPLETE, forged=True)
        knock = Knock("share", question.user, question.team, question.channel)
        refusal = self.basics.gate.check(client, knock, problem)
        if refusal is not None:
            where = (question.channel, None, response_url)
            tell_refused(self.basics, client, question.user, where, refusal)
            return
        shown = Presentation(asked_by=question.user)
        message = self.answering.compose(
            question.text, shown, channel=question.channel, record=False
        )
        posted = self.outbox.post(client, question.channel, None, message)
        if not posted.ts:
            why = notices.cannot_share(question.channel, self.basics.bot, channel_name)
            self.outbox.tell(client, question.user, why, response_url=response_url)
            return
        self.threads.remember(question.channel, posted.ts, Turn(question.user, question.text))
        self.outbox.respond(response_url, delete_original=True)

    def _answer(
        self,
        question: str,
        response_url: str,
        shareable: bool,
        channel: str | None = None,
        note: str | None = None,
    ) -> bool:
        """The answer only the asker sees, with a button to share it where sharing works;
        False when the response_url took none of its forms."""
        shown = Presentation(share=shareable, note=note)
        message = self.answering.compose(question, shown, channel=channel)
        for form in message.forms():
            sent = self.outbox.respond(
                response_url, response_type="ephemeral", replace_original=False, **form.as_kwargs()
            )
            if sent:
                return True
        return False
